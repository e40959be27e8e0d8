import ContainerShim
import Foundation
import MVMCore
import Subprocess
import SystemPackage
import Testing

extension RealInstances {
    /// `mvm run -it`: a shell in the container on its own terminal (the pty
    /// runc makes and hands over), typed into or fed by a pipe.
    @Suite struct ContainerConsole {
        static let runtimeRoot = Fixtures.state.subdirectory("runc")

        func runtimeContainers(root: String = runtimeRoot) async throws -> [String] {
            let result = try await run(
                .path("/usr/sbin/runc"), arguments: ["--root", root, "list", "--quiet"],
                output: .string(limit: 1 << 16), error: .discarded)
            return result.standardOutput.split(separator: "\n").map(String.init)
        }

        /// No container, no bundle, no terminal socket, nothing for `mvm list`.
        func expectNothingLeft() async throws {
            #expect(try await runtimeContainers().isEmpty)
            #expect(try await runMVM(["list"]).stdout.isEmpty)
            let bundles = try? FileManager.default.contentsOfDirectory(atPath: Fixtures.state.subdirectory("bundles"))
            #expect(bundles?.isEmpty ?? true, "\(bundles ?? [])")
            #expect(!Fixtures.consoleFiles().contains { $0.hasSuffix(".tty") }, "\(Fixtures.consoleFiles())")
        }

        @Test func pipedCommandsPrintOnlyTheirOutputAndLeaveNothing() async throws {
            try Fixtures.requireImages()
            let result = try await runMVM(["run", "-it"], input: "uname -r; echo hello-$((6*7))\n")
            #expect(result.exitCode == 0, "\(result.stderr)")
            // The host's kernel (a container shares it), then the sum: no
            // prompt, no echo, no carriage return from the terminal.
            let release = try String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(result.stdout == "\(release)\nhello-42\n", "\(result.stdout.debugDescription)")
            // The report still goes out, to stderr.
            #expect(result.stderr.contains("ready"), "\(result.stderr)")
            try await expectNothingLeft()
        }

        /// A real terminal: tmux runs mvm, the test types into the container.
        @Test func aTerminalTypesIntoTheContainerCtrlCInterruptsAndCtrlRightBracketDetaches() async throws {
            try Fixtures.requireImages()
            let terminal = try await TerminalRun("MVM_STATE_DIR=\(Fixtures.state.path) \(mvmExecutable.path) run -it")
            defer { terminal.close() }
            // capture-pane trims the prompt's trailing space.
            let prompt = try await terminal.waitFor("/ #")
            #expect(prompt.contains("Ctrl-] detaches and destroys it"), "\(prompt)")
            try await terminal.type("uname -r; echo typed-$((6*7)); tty", "Enter")
            // The last command's output: a capture at "typed-42" could come
            // before `tty` printed (one CI run caught it so).
            let typed = try await terminal.waitFor("/dev/pts/")
            let release = try String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(typed.split(separator: "\n").contains { $0 == release }, "\(typed)")
            // The shell's terminal is the pty runc made, not a pipe.
            #expect(typed.split(separator: "\n").contains { $0.hasPrefix("/dev/pts/") }, "\(typed)")
            // Ctrl-C stops the command the shell runs, and only it: the
            // shell has job control, and its commands do not ignore SIGINT.
            try await terminal.type("sleep 100", "Enter")
            try await Task.sleep(for: .milliseconds(500))
            try await terminal.type("C-c")
            try await terminal.type("echo interrupted-$?", "Enter")
            let interrupted = try await terminal.waitFor("interrupted-130")
            #expect(interrupted.contains("interrupted-130"), "\(interrupted)")
            // The container's terminal has this terminal's size, and follows it.
            try await terminal.type("echo size-$(stty size | tr ' ' x)", "Enter")
            let sized = try await terminal.waitFor("size-40x120")
            #expect(sized.contains("size-40x120"), "\(sized)")
            try await tmux(["resize-window", "-t", terminal.session, "-x", "100", "-y", "30"])
            try await Task.sleep(for: .seconds(1))
            try await terminal.type("echo size-$(stty size | tr ' ' x)", "Enter")
            let resized = try await terminal.waitFor("size-30x100")
            #expect(resized.contains("size-30x100"), "\(resized)")
            // Back, so that `stty -a` (which shows the size) can be compared.
            try await tmux(["resize-window", "-t", terminal.session, "-x", "120", "-y", "40"])
            try await terminal.type("C-]")
            let detached = try await terminal.waitFor("mvm-exit-")
            #expect(detached.contains("mvm-exit-0"), "\(detached)")
            #expect(detached.contains("detached: mvm-"), "\(detached)")
            #expect(try await terminal.settingsRestored())
            try await expectNothingLeft()
        }

        func configuration(command: [String]? = nil) throws -> ContainerConfiguration {
            var configuration = ContainerConfiguration(
                stateDirectory: Fixtures.state, rootfsPath: Fixtures.images.rootfs)
            configuration.limits = try Fixtures.limits(timeoutSeconds: 30)
            configuration.terminal = true
            if let command { configuration.command = command }
            return configuration
        }

        /// Where descriptor `number` of this process points, nil once closed.
        func descriptorTarget(_ number: Int32) -> String? {
            try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(number)")
        }

        /// The readiness line comes through the terminal (with the pty's
        /// `\r\n`), and stopping the container closes the master.
        @Test func theReadinessLineComesThroughTheTerminalAndStopClosesIt() async throws {
            try Fixtures.requireImages()
            let container = try await ContainerLauncher(try configuration(), host: .probe()).launch()
            let master = container.consoleConnection?.withDescriptor { $0.rawValue }
            let target = master.flatMap(descriptorTarget)
            try await container.stop()
            let number = try #require(master)
            #expect(target?.contains("ptmx") == true, "\(target ?? "none")")
            #expect(
                container.boot.timeline.marks.map(\.phase) == [.request, .created, .started, .firstOutput, .ready])
            #expect(container.boot.facts?.cpus == 1)
            #expect(container.consoleConnection?.isClosed == true)
            #expect(descriptorTarget(number)?.contains("ptmx") != true, "\(descriptorTarget(number) ?? "closed")")
            try await expectNothingLeft()
        }

        @Test func anInitThatExitsEarlyOnItsTerminalIsAClearErrorAndLeavesNothing() async throws {
            try Fixtures.requireImages()
            let launcher = try ContainerLauncher(
                try configuration(command: ["/bin/sh", "-c", "echo giving up early; exit 3"]), host: .probe())
            let error = await #expect(throws: ContainerError.self) { _ = try await launcher.launch() }
            guard case .exitedEarly(let tail, _) = error else {
                Issue.record("expected exitedEarly, got \(String(describing: error))")
                return
            }
            #expect(tail == ["giving up early"])
            try await expectNothingLeft()
        }

        /// The socket runc connects to must fit a UNIX socket address:
        /// refused before anything starts, in one line.
        @Test func aStateDirectoryTooLongForTheTerminalSocketIsOneLineAndLeavesNothing() async throws {
            try Fixtures.requireImages()
            let state = "/var/tmp/mvm-tests-" + String(repeating: "x", count: 90)
            defer { try? FileManager.default.removeItem(atPath: state) }
            let result = try await runMVM(["run", "-it", "--state-dir", state])
            #expect(result.exitCode == 1, "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
            #expect(result.stderr.contains("consoles/mvm-xxxxxxxx.tty is longer than 107 bytes"), "\(result.stderr)")
            #expect(result.stderr.hasSuffix("use a state directory with a shorter path\n"), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: state))
            try await expectNothingLeft()
        }
    }
}
