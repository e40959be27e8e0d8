import ContainerShim
import Foundation
import MVMCore
import Testing

@testable import VMM

extension RealInstances {
    /// The isolation probes against a real micro-VM and a real container:
    /// what QEMU says about its own device model, and what each process may
    /// ask of the host kernel.
    @Suite struct IsolationProbe {
        @Test func microVMIsolationFactsComeFromQEMUItself() async throws {
            try Fixtures.requireImages()
            var configuration = MicroVMConfiguration(
                connectURI: nil, stateDirectory: Fixtures.inProcessState, kernelPath: Fixtures.images.minimalVmlinux,
                initrdPath: Fixtures.images.initramfs)
            configuration.accelerator = .tcg
            configuration.limits = try Fixtures.limits(timeoutSeconds: 90)
            let launcher = try await MicroVMLauncher(configuration)
            let (facts, qtree, pid) = try await checkThenStop(try await launcher.launch()) { vm in
                let facts = try await vm.isolationFacts()
                // QEMU's device tree once more, read on its own, to count its
                // dev: lines independently of the parser.
                let domain = try #require(vm.domainTeardown.domain)
                let qtree = try await onDedicatedThreadTyped { () throws(LibvirtError) in
                    try domain.humanMonitorCommand("info qtree")
                }
                let pid = try #require(vm.qemuPID)
                // Reading the filters stopped QEMU for a moment; it must run
                // on, untraced, and the guest with it.
                let status = try #require(readSmallFile("/proc/\(pid)/status"))
                #expect(status.contains("TracerPid:\t0"))
                #expect(!status.contains("State:\tt"))
                #expect(try await vm.isolationFacts() == facts)
                return (facts, qtree, pid)
            }
            print("micro-VM isolation facts: \(facts)")
            #expect(facts.domainType == "qemu")
            #expect(facts.accelerator == .tcg)
            #expect(facts.machine == "microvm")
            let devLines = qtree.split(whereSeparator: \.isNewline).filter {
                $0.trimmingCharacters(in: .whitespaces).hasPrefix("dev: ")
            }
            #expect(facts.qtreeDeviceCount > 0)
            #expect(facts.qtreeDeviceCount == devLines.count)
            #expect(facts.qtreeDevices.contains("isa-serial"))
            #expect(facts.domainXMLDeviceCount > 0)
            let syscalls = try #require(facts.qemuSyscalls)
            print(
                "QEMU \(pid) under the embedded driver: seccomp mode \(syscalls.mode.rawValue), \(syscalls.filterCount) filter(s), "
                    + "NoNewPrivs \(syscalls.noNewPrivileges), \(syscalls.allowedSyscallCount) of \(syscalls.hostSyscallCount) calls allowed; "
                    + "denied: \(syscalls.deniedSyscalls.joined(separator: " "))")
            switch syscalls.mode {
            case .disabled:
                #expect(syscalls.allowedSyscallCount == syscalls.hostSyscallCount)
            case .filter:
                #expect(syscalls.filterCount >= 1)
                #expect(syscalls.allowedSyscallCount < syscalls.hostSyscallCount)
                #expect(syscalls.allowedSyscallCount > 250)
            case .strict:
                Issue.record("QEMU cannot run in strict mode")
            }
            #expect(syscalls.allowedSyscallCount + syscalls.deniedSyscalls.count == syscalls.hostSyscallCount)
        }

        @Test func containerInitSyscalls() async throws {
            try Fixtures.requireImages()
            var configuration = ContainerConfiguration(
                stateDirectory: Fixtures.state, rootfsPath: Fixtures.images.rootfs)
            configuration.limits = try Fixtures.limits(timeoutSeconds: 30)
            let container = try await ContainerLauncher(configuration, host: .probe()).launch()
            let (exposure, pid) = try await checkThenStop(container) { container in
                (try SyscallExposure.read(pid: container.initPID), container.initPID)
            }
            print(
                "container init \(pid): seccomp mode \(exposure.mode.rawValue), \(exposure.filterCount) filter(s), "
                    + "NoNewPrivs \(exposure.noNewPrivileges), \(exposure.allowedSyscallCount) of \(exposure.hostSyscallCount) calls allowed"
            )
            // mvm's OCI spec sets noNewPrivileges.
            #expect(exposure.noNewPrivileges)
            #expect(exposure.allowedSyscallCount + exposure.deniedSyscalls.count == exposure.hostSyscallCount)
            switch exposure.mode {
            case .disabled:
                #expect(exposure.filterCount == 0)
                #expect(exposure.allowedSyscallCount == exposure.hostSyscallCount)
            case .filter:
                #expect(exposure.filterCount >= 1)
                #expect(exposure.allowedSyscallCount < exposure.hostSyscallCount)
            case .strict:
                #expect(exposure.allowedSyscallCount == 4)
            }
        }
    }
}
