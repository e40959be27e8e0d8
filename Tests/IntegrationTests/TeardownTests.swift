import ContainerShim
import Foundation
import MVMCore
import Subprocess
import SystemPackage
import Testing
import VMM

extension RealInstances {
    /// The teardown figure of `mvm compare --dimensions teardown`, measured on
    /// real instances: what each holds while it runs, and that all of it is
    /// gone after the measurement.
    @Suite struct TeardownMeasurements {
        func vmConfiguration() throws -> MicroVMConfiguration {
            var configuration = MicroVMConfiguration(
                stateDirectory: Fixtures.inProcessState, kernelPath: Fixtures.images.minimalVmlinux,
                initrdPath: Fixtures.images.initramfs)
            configuration.accelerator = .tcg
            configuration.limits = try Fixtures.limits(timeoutSeconds: 90)
            return configuration
        }

        func containerConfiguration() throws -> ContainerConfiguration {
            var configuration = ContainerConfiguration(
                stateDirectory: Fixtures.state, rootfsPath: Fixtures.images.rootfs)
            configuration.limits = try Fixtures.limits(timeoutSeconds: 30)
            return configuration
        }

        /// Takes the probe, checks that the instance holds every resource it
        /// names and at least `kinds`, measures the teardown, and checks that
        /// everything went. Stops the instance also when a check fails first.
        func measure(
            _ instance: any RunningInstance, expecting kinds: Set<HostResource.Kind>,
            sourceLocation: SourceLocation = #_sourceLocation
        ) async throws -> (ReleaseProbe, TeardownSample) {
            let probe = instance.releaseProbe()
            do {
                #expect(kinds.isSubset(of: Set(probe.kinds)), "\(probe.kinds)", sourceLocation: sourceLocation)
                let notHeld = probe.resources.filter { !$0.isHeld() }.map(\.descriptionWithKind)
                #expect(notHeld.isEmpty, "not held while running: \(notHeld)", sourceLocation: sourceLocation)
            }
            let sample = await measureTeardown(of: instance)
            // Whatever the sample says, nothing may stay (a second stop is a no-op).
            try? await instance.stop()
            print(Self.summary(instance.name, sample))
            #expect(sample.failure == nil, sourceLocation: sourceLocation)
            #expect(sample.heldAtLimit.isEmpty, "\(sample.heldAtLimit)", sourceLocation: sourceLocation)
            let released = try #require(sample.allReleasedSeconds, sourceLocation: sourceLocation)
            #expect(released >= sample.stopReturnedSeconds, sourceLocation: sourceLocation)
            #expect(sample.resources.count == probe.resources.count, sourceLocation: sourceLocation)
            #expect(Set(sample.kinds.map(\.kind)) == Set(probe.kinds), sourceLocation: sourceLocation)
            let stillHeld = probe.held().map(\.descriptionWithKind)
            #expect(stillHeld.isEmpty, "held after the measurement: \(stillHeld)", sourceLocation: sourceLocation)
            return (probe, sample)
        }

        static func summary(_ name: String, _ sample: TeardownSample) -> String {
            func ms(_ seconds: Double?) -> String { seconds.map { String(format: "%.1f ms", $0 * 1000) } ?? "-" }
            var lines = [
                "teardown \(name): stop returned \(ms(sample.stopReturnedSeconds)), all released \(ms(sample.allReleasedSeconds)), last release \(ms(sample.lastReleaseSeconds)), slowest kind \(sample.slowestKind?.rawValue ?? "-")"
            ]
            for kind in sample.kinds {
                lines.append("  \(kind.kind.rawValue) x\(kind.count): \(ms(kind.releasedSeconds))")
            }
            for resource in sample.resources {
                let zombie = resource.zombieSeconds.map { ", zombie from \(ms($0))" } ?? ""
                lines.append(
                    "    \(resource.kind.rawValue) \(resource.description): last held \(ms(resource.lastHeldSeconds)), released \(ms(resource.releasedSeconds))\(zombie)"
                )
            }
            return lines.joined(separator: "\n")
        }

        func runtimeContainers() async throws -> [String] {
            let result = try await run(
                .path("/usr/sbin/runc"), arguments: ["--root", Fixtures.state.subdirectory("runc"), "list", "--quiet"],
                output: .string(limit: 1 << 16), error: .discarded)
            return result.standardOutput.split(separator: "\n").map(String.init)
        }

        @Test func microVMReleasesItsProcessCgroupsDomainAndFiles() async throws {
            try Fixtures.requireImages()
            let launcher = try await MicroVMLauncher(try vmConfiguration())
            let vm = try await launcher.launch()
            // Nothing may throw between the launch and the measurement, which stops it.
            let pid = vm.qemuPID
            let (probe, sample) = try await measure(vm, expecting: [.process, .cgroup, .domain, .socket, .file])
            #expect(pid != nil, "a local domain has a QEMU pid")
            let cgroups = probe.resources.filter { $0.kind == .cgroup }.map(\.description)
            #expect(cgroups.allSatisfy { $0.contains(vm.name) }, "\(cgroups)")
            // libvirt waits until QEMU is reaped before the destroy returns.
            let process = try #require(sample.resources.first { $0.kind == .process })
            #expect((process.releasedSeconds ?? .infinity) <= sample.stopReturnedSeconds)
            #expect(!FileManager.default.fileExists(atPath: "/proc/\(pid ?? 0)"))
            #expect(Fixtures.mvmQEMUProcesses().isEmpty)
            #expect(Fixtures.mvmDomainCgroups().isEmpty)
            #expect(cgroups.allSatisfy { !FileManager.default.fileExists(atPath: $0) })
            let manager = try await DomainManager(uri: nil, stateDirectory: Fixtures.inProcessState)
            #expect(try manager.runningMVMDomains().isEmpty)
            #expect(Fixtures.consoleFiles(in: Fixtures.inProcessState).isEmpty)
            #expect(TeardownRegistry.shared.registeredKeys.isEmpty)
        }

        @Test func containerReleasesItsProcessesCgroupsStateAndBundle() async throws {
            try Fixtures.requireImages()
            let launcher = try ContainerLauncher(try containerConfiguration(), host: .probe())
            let container = try await launcher.launch()
            let (probe, _) = try await measure(
                container, expecting: [.process, .cgroup, .runtimeState, .directory, .file])
            let pids = probe.resources.filter { $0.kind == .process }
            #expect(pids.first?.description == "container init pid \(container.initPID)")
            #expect(!FileManager.default.fileExists(atPath: "/proc/\(container.initPID)"))
            let cgroups = probe.resources.filter { $0.kind == .cgroup }.map(\.description)
            // Every hierarchy runc manages here, the memory one among them.
            #expect(
                cgroups.contains { $0.hasPrefix("/sys/fs/cgroup/memory/") && $0.hasSuffix("/" + container.name) },
                "\(cgroups)")
            #expect(cgroups.allSatisfy { !FileManager.default.fileExists(atPath: $0) })
            #expect(try await runtimeContainers().isEmpty)
            #expect(!FileManager.default.fileExists(atPath: container.runtimeStateRoot + "/" + container.name))
            #expect(TeardownRegistry.shared.registeredKeys.isEmpty)
        }

        /// The reference rows: a plain QEMU (mvm's child) and a plain `runc run`.
        @Test func referenceInstancesReleaseTheirProcessesAndFiles() async throws {
            try Fixtures.requireImages()
            let vmLauncher = try await MicroVMLauncher(try vmConfiguration())
            let qemu = try await DirectQEMULauncher(matching: vmLauncher).launch()
            _ = try await measure(qemu, expecting: [.process, .file])
            #expect(Fixtures.allQEMUProcesses().isEmpty)

            let runc = try await DirectRuncLauncher(
                matching: try ContainerLauncher(try containerConfiguration(), host: .probe())
            ).launch()
            let (probe, _) = try await measure(runc, expecting: [.process, .cgroup, .runtimeState, .directory, .file])
            #expect(probe.resources.first?.description.hasPrefix("container runc run pid") == true)
            #expect(probe.resources.filter { $0.kind == .process }.count >= 2)
            #expect(try await runtimeContainers().isEmpty)
            #expect(TeardownRegistry.shared.registeredKeys.isEmpty)
        }
    }
}
