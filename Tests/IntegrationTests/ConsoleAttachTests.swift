import Foundation
import MVMCore
import Subprocess
import SystemPackage
import Testing

extension RealInstances.InteractiveConsole {
    /// `mvm boot -it --keep`, Ctrl-], then `mvm console` in another
    /// terminal: the same shell (what the first session exported is still
    /// there), one terminal at a time, and `mvm destroy` ends the session
    /// and leaves nothing behind. A relay holds the console of a VM on the
    /// embedded driver and of a container (its pty master); through
    /// libvirtd (scripts/libvirt-daemons.sh starts it), libvirt's console
    /// stream reopens the VM's pty, as for a remote host.
    @Test(arguments: ["vm", "vm through libvirtd", "container"])
    func aKeptConsoleAttachesAgainUntilDestroyEndsIt(instance: String) async throws {
        try Fixtures.requireImages()
        let connection = instance == "vm through libvirtd" ? ["--connect", "qemu:///system"] : []
        let start =
            instance == "container"
            ? "run -it --keep"
            : "boot -it --keep --timeout 90"
                + (connection.isEmpty ? "" : " --connect qemu:///system --console-transport stream")
        let first = "mvm-test-\(UUID().uuidString.prefix(8))"
        let second = first + "-again"
        var name: String?
        defer {
            for session in [first, second] {
                if let kill = try? Process.run(
                    URL(fileURLWithPath: "/usr/bin/tmux"), arguments: ["kill-session", "-t", session])
                {
                    kill.waitUntilExit()
                }
            }
            if let name { _ = Task { try? await runMVM(["destroy", name] + connection) } }
        }
        let environment = "MVM_STATE_DIR=\(Fixtures.state.path)"
        try await tmux([
            "new-session", "-d", "-s", first, "-x", "120", "-y", "40", "sh", "-c",
            "\(environment) \(mvmExecutable.path) \(start); echo mvm-exit-$?; sleep 600",
        ])
        _ = try await waitForPane(first, toShow: "/ #")
        try await tmux(["send-keys", "-t", first, "export MARK=kept-$((6*7))", "Enter"])
        try await tmux(["send-keys", "-t", first, "C-]"])
        let kept = try await waitForPane(first, toShow: "mvm-exit-")
        #expect(kept.contains("mvm-exit-0"), "\(kept)")
        #expect(kept.contains("console:     mvm console mvm-"), "\(kept)")
        let keptLine = kept.split(separator: "\n").first { $0.hasPrefix("kept running: ") }
        name = keptLine.map { String($0.split(separator: " ")[2]) }
        let keptName = try #require(name, "\(kept)")

        try await tmux([
            "new-session", "-d", "-s", second, "-x", "120", "-y", "40", "sh", "-c",
            "\(environment) \(mvmExecutable.path) console \(keptName) \(connection.joined(separator: " ")); echo mvm-exit-$?; sleep 600",
        ])
        _ = try await waitForPane(second, toShow: "leaves it running")
        try await tmux(["send-keys", "-t", second, "echo mark=$MARK", "Enter"])
        _ = try await waitForPane(second, toShow: "mark=kept-42")

        let refused = try await runMVM(["console", keptName] + connection)
        #expect(refused.exitCode == 1)
        #expect(refused.stderr.contains("is attached"), "\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")

        let destroyed = try await runMVM(["destroy", keptName] + connection)
        #expect(destroyed.exitCode == 0, "\(destroyed.stderr)")
        let ended = try await waitForPane(second, toShow: "mvm-exit-")
        #expect(ended.contains("\(keptName) stopped") && ended.contains("mvm-exit-0"), "\(ended)")
        name = nil
        // The relay has ended with the console, its socket and the console files gone.
        for _ in 0..<40 where !relays(of: keptName).isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        #expect(relays(of: keptName).isEmpty)
        let consoles = (try? FileManager.default.contentsOfDirectory(atPath: Fixtures.state.subdirectory("consoles")))
        #expect(!(consoles ?? []).contains { $0.hasPrefix(keptName) }, "\(consoles ?? [])")
        #expect(Fixtures.mvmQEMUProcesses().isEmpty)
    }

    /// Names nobody can attach to, each refused in one line with what to do.
    @Test func consoleRefusesUnknownOrphanedAndUnattachableInstancesInOneLine() async throws {
        let unknown = try await runMVM(["console", "mvm-00000000"])
        #expect(unknown.exitCode == 1)
        #expect(unknown.stderr.contains("no kept instance named mvm-00000000"), "\(unknown.stderr)")

        // Owner records as a killed mvm (a pid that has exited) and a
        // `--keep` without -it leave them.
        let gone = try await Subprocess.run(.path("/bin/true"), output: .discarded)
        let records = Fixtures.state.subdirectory("owners")
        try FileManager.default.createDirectory(atPath: records, withIntermediateDirectories: true)
        /// As a killed mvm's record reads (the owner pid has exited).
        func record(_ name: String, kind: String, kept: Bool) throws -> String {
            let json = """
                {"name": "\(name)", "kind": "\(kind)", "pid": \(gone.processIdentifier.value), "startTime": 1, \
                "kept": \(kept), "createdAt": "2026-12-05T00:00:00Z"}
                """
            let path = records + "/" + name + ".json"
            try json.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let written = [
            try record("mvm-0dead0ff", kind: "micro-vm", kept: false),
            try record("mvm-0dead0ee", kind: "micro-vm", kept: true),
            try record("mvm-0dead0dd", kind: "container", kept: true),
        ]
        defer { for path in written { unlink(path) } }
        for (name, expected) in [
            ("mvm-0dead0ff", "left behind by an mvm that is gone"), ("mvm-0dead0ee", "kept without -it"),
            ("mvm-0dead0dd", "kept without a terminal"),
        ] {
            let result = try await runMVM(["console", name])
            #expect(result.exitCode == 1)
            #expect(result.stderr.contains(expected), "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        }
        let gc = try await runMVM(["gc", "--dry-run"])
        #expect(gc.stdout.contains("mvm-0dead0ff"), "\(gc.stdout)")
    }

    /// A domain of libvirtd without a serial port (scripts/libvirt-daemons.sh
    /// starts the daemon): defined, not started, so no guest boots.
    @Test func consoleRefusesADomainWithoutASerialPort() async throws {
        let name = "noserial-\(UUID().uuidString.prefix(8).lowercased())"
        let xml = """
            <domain type='qemu'><name>\(name)</name><memory unit='MiB'>32</memory>\
            <os><type arch='x86_64' machine='microvm'>hvm</type><kernel>/nonexistent</kernel></os>\
            <devices><controller type='usb' model='none'/><memballoon model='none'/></devices></domain>
            """
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(name + ".xml").path
        try xml.write(toFile: file, atomically: true, encoding: .utf8)
        let virsh = FilePath("/usr/bin/virsh")
        let defined = try await Subprocess.run(
            .path(virsh), arguments: ["-c", "qemu:///system", "define", file], output: .discarded,
            error: .string(limit: 4096))
        try #require(defined.terminationStatus.isSuccess, "\(defined.standardError)")
        defer {
            unlink(file)
            _ = Task {
                _ = try? await Subprocess.run(
                    .path(virsh), arguments: ["-c", "qemu:///system", "undefine", name], output: .discarded)
            }
        }
        let result = try await runMVM(["console", name, "--connect", "qemu:///system"])
        #expect(result.exitCode == 1)
        #expect(result.stderr.contains("has no serial console"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    }

    /// Console relays running for `name`.
    private func relays(of name: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let text = String(decoding: data, as: UTF8.self)
            return text.contains("console-relay") && text.contains(name)
        }
    }
}
