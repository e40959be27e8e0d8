import Foundation
import MVMCore
import Testing

extension RealInstances.Reliability {
    /// A hypervisor or runtime that hangs: a wrapper that stops itself
    /// (SIGSTOP) where the real binary would run, the way a QEMU stuck
    /// before libvirt's QMP greeting or a stopped runc holds mvm. libvirt
    /// runs the emulator as libvirt-qemu: the wrapper lives where it can.
    static func hangingWrapper(named name: String, stoppingOn pattern: String, exec binary: String) throws -> String {
        let directory = "/var/tmp/mvm-test-wrappers"
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let path = directory + "/" + name
        let script = """
            #!/bin/sh
            case " $* " in *"\(pattern)"*) kill -STOP $$ ;; esac
            exec \(binary) "$@"

            """
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    /// Wrappers still alive (stopped), by their path among their arguments.
    func wrapperProcesses(_ path: String) -> [Int32] {
        ForceStop.processes { $0.contains(path) }
    }

    @Test func aQEMUThatHangsBeforeQMPEndsAtTheTimeoutAndLeavesNothing() async throws {
        try Fixtures.requireImages()
        let qemu = try Self.hangingWrapper(
            named: "qemu-stops", stoppingOn: "guest=mvm-", exec: "/usr/bin/qemu-system-x86_64")
        defer { ForceStop.kill(wrapperProcesses(qemu)) }
        let clock = ContinuousClock()
        let started = clock.now
        let result = try await runMVM(["boot", "--timeout", "8", "--emulator", qemu])
        let elapsed = clock.now - started
        #expect(result.exitCode == 1)
        #expect(result.stderr.contains("did not start within the timeout (8 s)"), "\(result.stderr)")
        #expect(elapsed < .seconds(13), "mvm took \(elapsed)")
        #expect(wrapperProcesses(qemu).isEmpty)
        try await expectNothingLeft("hung QEMU")
    }

    @Test func ctrlCWhileQEMUHangsEndsWithinFiveSeconds() async throws {
        try Fixtures.requireImages()
        let qemu = try Self.hangingWrapper(
            named: "qemu-stops", stoppingOn: "guest=mvm-", exec: "/usr/bin/qemu-system-x86_64")
        defer { ForceStop.kill(wrapperProcesses(qemu)) }
        let (process, errors) = try startMVM(["boot", "--timeout", "120", "--emulator", qemu])
        // The launch is stuck once the wrapper has stopped itself.
        try await waitFor { !wrapperProcesses(qemu).isEmpty }
        try #require(!wrapperProcesses(qemu).isEmpty, "the wrapper never ran")
        try await Task.sleep(for: .milliseconds(500))
        let clock = ContinuousClock()
        let interrupted = clock.now
        process.interrupt()
        process.waitUntilExit()
        let elapsed = clock.now - interrupted
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 130, "\(stderr)")
        #expect(elapsed < .seconds(5), "mvm took \(elapsed) to end after SIGINT")
        #expect(wrapperProcesses(qemu).isEmpty)
        try await expectNothingLeft("SIGINT during a hung QEMU")
    }

    @Test func aRuntimeThatHangsInCreateEndsAtTheTimeoutAndLeavesNothing() async throws {
        try Fixtures.requireImages()
        let runc = try Self.hangingWrapper(named: "runc-stops", stoppingOn: " create ", exec: "/usr/sbin/runc")
        defer { ForceStop.kill(wrapperProcesses(runc)) }
        let clock = ContinuousClock()
        let started = clock.now
        let result = try await runMVM(["run", "--timeout", "5", "--runtime", runc])
        let elapsed = clock.now - started
        #expect(result.exitCode == 1)
        #expect(result.stderr.contains("did not finish within the timeout (5 s)"), "\(result.stderr)")
        #expect(elapsed < .seconds(10), "mvm took \(elapsed)")
        #expect(wrapperProcesses(runc).isEmpty)
        try await expectNothingLeft("hung runc")
    }
}
