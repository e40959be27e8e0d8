import Foundation
import MVMCore
import Subprocess
import SystemPackage
import Testing
import VMM

extension RealInstances.Reliability {
    /// Restarts libvirtd as an administrator would (scripts/libvirt-daemons.sh
    /// started it: no systemd here), and waits until it answers. The run's
    /// record of the daemons it started (MVM_STARTED_DAEMONS) follows the
    /// new pid, so that the test command still stops it at the end.
    static func restartLibvirtd() async throws {
        let old = try #require(
            readSmallFile("/run/libvirtd.pid").flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) },
            "libvirtd is not running (scripts/libvirt-daemons.sh starts it)")
        // As systemd's restart does: SIGTERM, then SIGKILL if it lingers.
        kill(old, SIGTERM)
        for _ in 0..<50 where kill(old, 0) == 0 { try await Task.sleep(for: .milliseconds(100)) }
        if kill(old, 0) == 0 { kill(old, SIGKILL) }
        for _ in 0..<50 where kill(old, 0) == 0 { try await Task.sleep(for: .milliseconds(100)) }
        try #require(kill(old, 0) != 0, "libvirtd \(old) did not stop")
        // -d: the daemon forks away and this child exits at once.
        _ = try await Subprocess.run(
            .path("/usr/sbin/libvirtd"), arguments: ["-d"], output: .discarded, error: .discarded)
        var new: Int32?
        for _ in 0..<100 {
            new = readSmallFile("/run/libvirtd.pid").flatMap {
                Int32($0.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            if let new, new != old, (try? await runMVM(["list", "--connect", "qemu:///system"]))?.exitCode == 0 {
                break
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        try #require(new != nil && new != old, "libvirtd did not start again")
        if let file = ProcessInfo.processInfo.environment["MVM_STARTED_DAEMONS"], let new,
            let recorded = try? String(contentsOfFile: file, encoding: .utf8)
        {
            let updated = recorded.replacingOccurrences(of: "\(old) libvirtd", with: "\(new) libvirtd")
            try? updated.write(toFile: file, atomically: true, encoding: .utf8)
        }
    }

    func daemonConfiguration() throws -> MicroVMConfiguration {
        var configuration = MicroVMConfiguration(
            connectURI: "qemu:///system", stateDirectory: Fixtures.inProcessState,
            kernelPath: Fixtures.images.minimalVmlinux, initrdPath: Fixtures.images.initramfs)
        configuration.accelerator = .tcg
        configuration.limits = try Fixtures.limits(timeoutSeconds: 90)
        return configuration
    }

    /// Between two runs of a comparison: the launcher opens its connection
    /// again, and the next boot works.
    @Test func aLibvirtdRestartBetweenTwoBootsCostsNoRun() async throws {
        try Fixtures.requireImages()
        let launcher = try await MicroVMLauncher(daemonConfiguration())
        try await launcher.launch().stop()
        try await Self.restartLibvirtd()
        let vm = try await launcher.launch()
        #expect(vm.boot.facts?.kernelRelease.hasPrefix("6.1") == true)
        try await vm.stop()
        #expect(Fixtures.allQEMUProcesses().isEmpty)
    }

    /// During a boot: that boot fails with its reason, and nothing of it is
    /// left, neither a domain in the restarted daemon nor a QEMU.
    @Test func aLibvirtdRestartDuringABootFailsItAndLeavesNothing() async throws {
        try Fixtures.requireImages()
        let launcher = try await MicroVMLauncher(daemonConfiguration())
        let boot = Task { try await launcher.launch() }
        try await waitFor { !Fixtures.mvmQEMUProcesses().isEmpty }
        try await Self.restartLibvirtd()
        do {
            let vm = try await boot.value
            // It was ready before the daemon went: it must still stop cleanly.
            try await vm.stop()
        } catch {
            #expect("\(error)".contains("libvirt"), "\(error)")
        }
        try await waitFor({ Fixtures.mvmQEMUProcesses().isEmpty }, seconds: 10)
        #expect(Fixtures.mvmQEMUProcesses().isEmpty)
        let manager = try await DomainManager(uri: "qemu:///system", stateDirectory: Fixtures.inProcessState)
        #expect(try manager.runningMVMDomains().isEmpty)
    }
}
