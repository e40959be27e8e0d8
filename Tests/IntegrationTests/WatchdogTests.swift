import Foundation
import MVMCore
import Testing

extension RealInstances.Reliability {
    /// A hypervisor or runtime that hangs: a wrapper that stops itself
    /// (SIGSTOP) where the real binary would run, the way a QEMU stuck
    /// before libvirt's QMP greeting or a stopped runc holds mvm. libvirt
    /// runs the emulator as libvirt-qemu: the wrapper lives where it can.
    /// With `unless`, it stops only while that file does not exist, and
    /// makes it as it stops: it hangs once.
    static func hangingWrapper(
        named name: String, stoppingOn pattern: String, exec binary: String, unless marker: String? = nil
    ) throws -> String {
        let directory = "/var/tmp/mvm-test-wrappers"
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let path = directory + "/" + name
        let stop = marker.map { "[ -e \($0) ] || { touch \($0); kill -STOP $$; }" } ?? "kill -STOP $$"
        let script = """
            #!/bin/sh
            case " $* " in *"\(pattern)"*) \(stop) ;; esac
            exec \(binary) "$@"

            """
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    /// What `body` returned, and how long it took.
    func timed<Value>(_ body: () async throws -> Value) async rethrows -> (Value, Duration) {
        let started = ContinuousClock.now
        let value = try await body()
        return (value, ContinuousClock.now - started)
    }

    /// Wrappers still alive (stopped), by their path among their arguments.
    func wrapperProcesses(_ path: String) -> [Int32] {
        ForceStop.processes { $0.contains(path) }
    }

    /// A hypervisor or runtime that hangs where the real one would run,
    /// and the command that runs into it.
    enum Hang: String, CaseIterable, Sendable {
        case qemuBeforeQMP, runcInCreate

        func wrapper() throws -> String {
            switch self {
            case .qemuBeforeQMP:
                try RealInstances.Reliability.hangingWrapper(
                    named: "qemu-stops", stoppingOn: "guest=mvm-", exec: "/usr/bin/qemu-system-x86_64")
            case .runcInCreate:
                try RealInstances.Reliability.hangingWrapper(
                    named: "runc-stops", stoppingOn: " create ", exec: "/usr/sbin/runc")
            }
        }

        func arguments(timeout: Int, wrapper: String) -> [String] {
            switch self {
            case .qemuBeforeQMP: ["boot", "--timeout", "\(timeout)", "--emulator", wrapper]
            case .runcInCreate: ["run", "--timeout", "\(timeout)", "--runtime", wrapper]
            }
        }
    }

    /// The timeout ends the launch (a second later the watchdog kills what
    /// hangs), it says what hung, and nothing is left.
    @Test(arguments: [
        (Hang.qemuBeforeQMP, 8, "did not start within the timeout (8 s)", Duration.seconds(13)),
        (Hang.runcInCreate, 5, "did not finish within the timeout (5 s)", Duration.seconds(10)),
    ])
    func aLaunchThatHangsEndsAtTheTimeoutAndLeavesNothing(
        hang: Hang, timeout: Int, message: String, limit: Duration
    ) async throws {
        try Fixtures.requireImages()
        let wrapper = try hang.wrapper()
        defer { ForceStop.kill(wrapperProcesses(wrapper)) }
        let (result, elapsed) = try await timed { try await runMVM(hang.arguments(timeout: timeout, wrapper: wrapper)) }
        #expect(result.exitCode == 1)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(elapsed < limit, "mvm took \(elapsed)")
        #expect(wrapperProcesses(wrapper).isEmpty)
        try await expectNothingLeft("\(hang)")
    }

    /// Ctrl-C while the launch hangs ends mvm within 5 s, and the hung
    /// process goes with it.
    @Test(arguments: Hang.allCases)
    func ctrlCWhileALaunchHangsEndsWithinFiveSeconds(hang: Hang) async throws {
        try Fixtures.requireImages()
        let wrapper = try hang.wrapper()
        defer { ForceStop.kill(wrapperProcesses(wrapper)) }
        let (process, errors) = try startMVM(hang.arguments(timeout: 120, wrapper: wrapper))
        // The launch is stuck once the wrapper has stopped itself.
        try await waitFor { !wrapperProcesses(wrapper).isEmpty }
        try #require(!wrapperProcesses(wrapper).isEmpty, "the wrapper never ran")
        try await Task.sleep(for: .milliseconds(500))
        let clock = ContinuousClock()
        let interrupted = clock.now
        process.interrupt()
        process.waitUntilExit()
        let elapsed = clock.now - interrupted
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 130, "\(stderr)")
        #expect(elapsed < .seconds(5), "mvm took \(elapsed) to end after SIGINT")
        #expect(wrapperProcesses(wrapper).isEmpty)
        try await expectNothingLeft("SIGINT during \(hang)")
    }
}

extension RealInstances.Reliability {
    /// A runtime whose `delete` hangs while a finished container is being
    /// removed (no launch, no interrupt: the normal stop): the stop's
    /// watchdog kills it after its grace, a second delete removes the
    /// container, mvm warns and succeeds, and nothing is left.
    @Test func aDeleteThatHangsDuringTheStopIsKilledAndRetried() async throws {
        try Fixtures.requireImages()
        let marker = "/var/tmp/mvm-test-wrappers/delete-stopped-\(UUID().uuidString.prefix(8))"
        defer { unlink(marker) }
        // Stops itself on the first delete only: the retry is a plain runc.
        let wrapper = try Self.hangingWrapper(
            named: "runc-stops-once-in-delete", stoppingOn: " delete ", exec: "/usr/sbin/runc",
            unless: marker)
        defer { ForceStop.kill(wrapperProcesses(wrapper)) }
        let (result, elapsed) = try await timed { try await runMVM(["run", "--json", "--runtime", wrapper]) }
        #expect(result.exitCode == 0, "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: marker), "the delete never hung")
        #expect(
            result.stderr.contains("the teardown did not finish within 10 s, so mvm killed its processes"),
            "\(result.stderr)")
        #expect(elapsed < .seconds(20), "mvm took \(elapsed)")
        #expect(wrapperProcesses(wrapper).isEmpty)
        try await expectNothingLeft("a delete that hung")
    }
}

extension RealInstances.Reliability {
    /// `mvm destroy` of a domain whose QEMU hangs before its QMP greeting,
    /// left by an mvm that was killed: libvirt's destroy would wait 10 s
    /// on a SIGTERM the stopped QEMU never takes; mvm kills it after its
    /// grace, and the destroy ends within 5 s, leaving nothing.
    @Test func destroyingADomainWhoseQEMUHangsEndsWithinFiveSeconds() async throws {
        try Fixtures.requireImages()
        let wrapper = try Hang.qemuBeforeQMP.wrapper()
        defer { ForceStop.kill(wrapperProcesses(wrapper)) }
        let (mvm, _) = try startMVM(["boot", "--keep", "--timeout", "120", "--emulator", wrapper])
        // The QEMU (the wrapper, stopped) is the one whose -name is a domain's.
        try await waitFor { !ForceStop.processes { $0.contains(wrapper) && $0.contains("-name") }.isEmpty }
        let name = try #require(ownerRecords().first.map { String($0.dropLast(".json".count)) })
        // mvm dies (its reaper, and with it the worker) and leaves the hung domain.
        kill(mvm.processIdentifier, SIGKILL)
        mvm.waitUntilExit()
        try await Task.sleep(for: .milliseconds(500))
        let (destroyed, elapsed) = try await timed { try await runMVM(["destroy", name]) }
        #expect(destroyed.exitCode == 0, "\(destroyed.stderr)")
        #expect(destroyed.stdout == "destroyed \(name)\n")
        #expect(elapsed < .seconds(5), "destroy took \(elapsed)")
        #expect(wrapperProcesses(wrapper).isEmpty)
        try await expectNothingLeft("destroy of a hung domain")
    }
}
