import Foundation
import MVMCore
import Subprocess
import SystemPackage
import Testing

extension RealInstances {
    /// `mvm boot -it`: the guest's shell on this terminal, or fed by a pipe.
    @Suite struct InteractiveConsole {
        @Test func pipedCommandsRunInTheGuestAndTheirEndEndsTheVM() async throws {
            try Fixtures.requireImages()
            let result = try await runMVM(
                ["boot", "-it", "--timeout", "90"], input: "uname -r\necho hello-$((6*7))\n")
            #expect(result.exitCode == 0, "\(result.stderr)")
            // Only what the commands printed: no prompt, no echo, no kernel message.
            let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(
                lines.count == 3 && lines[0].hasPrefix("6.1.") && lines[1] == "hello-42" && lines[2].isEmpty,
                "\(result.stdout)")
            // The phases still go out, to stderr.
            #expect(result.stderr.contains("ready"), "\(result.stderr)")
            #expect(Fixtures.mvmQEMUProcesses().isEmpty)
            #expect(try await runMVM(["list"]).stdout.isEmpty)
        }

        @Test func poweroffInTheGuestEndsTheSession() async throws {
            try Fixtures.requireImages()
            let result = try await runMVM(
                ["boot", "-it", "--timeout", "90"], input: "echo before\npoweroff\nsleep 30; echo after\n")
            #expect(result.exitCode == 0, "\(result.stderr)")
            #expect(result.stdout == "before\n", "\(result.stdout)")
            #expect(Fixtures.mvmQEMUProcesses().isEmpty)
        }

        @Test func interactiveWithJSONOrDryRunIsAUsageError() async throws {
            for arguments in [["boot", "-it", "--json"], ["boot", "-i", "--dry-run"]] {
                let result = try await runMVM(arguments)
                #expect(result.exitCode == 64, "\(arguments): \(result.stderr)")
            }
        }

        /// A real terminal: tmux runs mvm, the test types into it.
        @Test func aTerminalTypesIntoTheGuestAndCtrlRightBracketDetaches() async throws {
            try Fixtures.requireImages()
            let session = "mvm-test-\(UUID().uuidString.prefix(8))"
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(session)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer {
                // A kill-session client starts no server: Foundation can wait for it.
                if let kill = try? Process.run(
                    URL(fileURLWithPath: "/usr/bin/tmux"), arguments: ["kill-session", "-t", session])
                {
                    kill.waitUntilExit()
                }
                try? FileManager.default.removeItem(at: directory)
            }
            let before = directory.appendingPathComponent("stty.before").path
            let after = directory.appendingPathComponent("stty.after").path
            let script = """
                stty -a > \(before); MVM_STATE_DIR=\(Fixtures.state.path) \(mvmExecutable.path) boot -it --timeout 90; \
                echo "mvm-exit-$?"; stty -a > \(after)
                """
            try await tmux([
                "new-session", "-d", "-s", session, "-x", "120", "-y", "40", "sh", "-c", script + "; sleep 600",
            ])
            // capture-pane trims the prompt's trailing space.
            let prompt = try await waitForPane(session, toShow: "/ #")
            #expect(prompt.contains("Ctrl-] detaches and destroys it"), "\(prompt)")
            try await tmux(["send-keys", "-t", session, "uname -r; echo typed-$((6*7))", "Enter"])
            let typed = try await waitForPane(session, toShow: "typed-42")
            // The guest's kernel release, on a line of its own.
            #expect(typed.split(separator: "\n").contains { $0.hasPrefix("6.1.") }, "\(typed)")
            // Ctrl-C reaches the command the guest's shell runs, not init.
            try await tmux(["send-keys", "-t", session, "sleep 100", "Enter"])
            try await Task.sleep(for: .milliseconds(500))
            try await tmux(["send-keys", "-t", session, "C-c"])
            // The output, "status=1130", is not in the typed line: waiting for
            // it cannot stop at the echo of the command.
            try await tmux(["send-keys", "-t", session, "echo status=$((1000+$?))", "Enter"])
            let interrupted = try await waitForPane(session, toShow: "status=1")
            #expect(interrupted.contains("status=1130"), "\(interrupted)")
            try await tmux(["send-keys", "-t", session, "C-]"])
            let detached = try await waitForPane(session, toShow: "mvm-exit-")
            #expect(detached.contains("mvm-exit-0"), "\(detached)")
            #expect(detached.contains("detached: mvm-"), "\(detached)")
            try await waitForFile(after)
            #expect(
                try String(contentsOfFile: before, encoding: .utf8) == String(contentsOfFile: after, encoding: .utf8))
            #expect(Fixtures.mvmQEMUProcesses().isEmpty)
            #expect(try await runMVM(["list"]).stdout.isEmpty)
        }
    }
}
