import ContainerShim
import Foundation
import MVMCore
import Testing

extension RealInstances.Containers {
    /// A workload that needs more than its memory limit: the kernel's OOM
    /// killer ends the container's init, and the launch fails at once,
    /// saying so, instead of waiting for the timeout.
    @Test func anInitKilledByItsMemoryLimitIsAFailureWithItsReason() async throws {
        try Fixtures.requireImages()
        var configuration = try configuration()
        configuration.limits = try InstanceLimits.checked(
            memoryMiB: 16, vcpus: 1, timeoutSeconds: 60, host: .probe())
        // 64 MiB held in one shell variable, before the readiness line.
        configuration.command = ["/bin/sh", "-c", "x=$(yes | head -c 67108864); echo never"]
        let launcher = try ContainerLauncher(configuration, host: .probe())
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let container = try await launcher.launch()
            try await container.stop()
            Issue.record("a 64 MiB workload started under a 16 MiB limit")
        } catch {
            #expect(clock.now - started < .seconds(30), "it waited \(clock.now - started)")
            #expect("\(error)".contains("memory limit"), "\(error)")
        }
        try await expectNothingLeft()
    }
}

extension RealInstances.Reliability {
    /// A VM given less memory than its kernel and initramfs occupy never
    /// boots and never says why: refused at once, with the least that fits.
    @Test func aVMTooSmallForItsKernelIsRefusedAtOnce() async throws {
        try Fixtures.requireImages()
        for memory in ["16", "24"] {
            let result = try await runMVM(["boot", "--memory", memory, "--timeout", "60"])
            #expect(result.exitCode == 1, "\(result.stderr)")
            #expect(result.stderr.contains("cannot hold the kernel"), "\(result.stderr)")
            #expect(result.stderr.contains("give the VM at least"), "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        }
        try await expectNothingLeft("a VM too small for its kernel")
    }
}
