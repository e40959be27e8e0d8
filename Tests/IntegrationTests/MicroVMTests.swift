import Foundation
import MVMCore
import Testing
import VMM

extension RealInstances {
    /// Real QEMU guests under TCG through libvirt.
    @Suite struct MicroVMBoots {
        func configuration(
            uri: String? = nil, kernel: String = Fixtures.images.minimalVmlinux,
            initrd: String = Fixtures.images.initramfs
        ) throws -> MicroVMConfiguration {
            var configuration = MicroVMConfiguration(
                connectURI: uri, stateDirectory: Fixtures.inProcessState, kernelPath: kernel, initrdPath: initrd)
            configuration.accelerator = .tcg
            configuration.limits = try Fixtures.limits(timeoutSeconds: 90)
            return configuration
        }

        /// Boots, checks phases, facts and footprint, stops, and checks that
        /// nothing is left: no mvm- domain, no QEMU process, no console file.
        func bootAndCheck(
            _ configuration: MicroVMConfiguration, expectMachine: MachineType,
            phases expectedPhases: [Phase] = [.request, .started, .firstOutput, .ready]
        ) async throws {
            try Fixtures.requireImages()
            let launcher = try await MicroVMLauncher(configuration)
            #expect(launcher.machine == expectMachine)
            #expect(launcher.acceleratorChoice.accelerator == .tcg)
            let pid = try await checkThenStop(try await launcher.launch()) { vm in
                let footprint = try await vm.footprint()
                let phases = vm.boot.timeline.marks.map(\.phase)
                #expect(phases == expectedPhases)
                #expect(vm.boot.timeline.isOrdered)
                #expect(vm.boot.facts?.kernelRelease.hasPrefix("6.1") == true)
                #expect(vm.boot.facts?.cpus == 1)
                // The guest's MemTotal is what the VM was given, minus what the
                // kernel keeps for itself.
                let memTotal = try #require(vm.boot.facts?.memTotalKiB)
                #expect(memTotal > 64 * 1024 && memTotal <= 128 * 1024)
                let pid = try #require(vm.qemuPID)
                #expect(Fixtures.mvmQEMUProcesses().contains(pid))
                let pss = try #require(footprint[.pss])
                let rss = try #require(footprint[.rss])
                #expect(pss > 10 << 20)
                #expect(rss >= pss)
                #expect((footprint[.guestUsed] ?? 0) > 0)
                return pid
            }
            let manager = try await DomainManager(
                uri: configuration.connectURI, stateDirectory: Fixtures.inProcessState)
            #expect(try manager.runningMVMDomains().isEmpty)
            #expect(!Fixtures.processExists(pid))
            #expect(Fixtures.mvmQEMUProcesses().isEmpty)
            #expect(Fixtures.consoleFiles(in: Fixtures.inProcessState).isEmpty)
            #expect(Fixtures.mvmDomainCgroups().isEmpty)
        }

        @Test func embeddedDriverBootsTheMinimalMicroVM() async throws {
            try await bootAndCheck(try configuration(), expectMachine: .microvm)
        }

        @Test func embeddedDriverBootsTheBzImageOnAPC() async throws {
            try await bootAndCheck(try configuration(kernel: Fixtures.images.minimalBzImage), expectMachine: .pc)
        }

        /// The same boot through libvirtd (scripts/libvirt-daemons.sh starts it).
        @Test func systemDaemonBootsTheMinimalMicroVM() async throws {
            try await bootAndCheck(try configuration(uri: "qemu:///system"), expectMachine: .microvm)
        }

        /// libvirt runs QEMU as libvirt-qemu (embedded driver and daemon
        /// alike), which cannot enter a private checkout: the images are
        /// staged in the state directory.
        @Test(arguments: [nil, "qemu:///system"])
        func bootsImagesFromAPrivateDirectory(uri: String?) async throws {
            try Fixtures.requireImages()
            let (directory, copies) = try Fixtures.privateCopies(of: [
                Fixtures.images.minimalVmlinux, Fixtures.images.initramfs,
            ])
            defer { try? FileManager.default.removeItem(at: directory) }
            let configuration = try configuration(uri: uri, kernel: copies[0], initrd: copies[1])
            let launcher = try await MicroVMLauncher(configuration)
            #expect(
                launcher.configuration.kernelPath.hasPrefix(
                    Fixtures.inProcessState.subdirectory("images") + "/vmlinux-"))
            try await bootAndCheck(configuration, expectMachine: .microvm)
        }

        /// libvirt's console stream instead of mvm's socket, through the daemon.
        @Test func consoleStreamThroughTheDaemon() async throws {
            var configuration = try configuration(uri: "qemu:///system")
            configuration.consoleTransport = .stream
            configuration.limits = try Fixtures.limits(timeoutSeconds: 30)
            try await bootAndCheck(
                configuration, expectMachine: .microvm, phases: [.request, .started, .resumed, .firstOutput, .ready])
        }

        /// A remote URI: libvirt's own remote protocol over ssh (to a
        /// loopback sshd that scripts/test-sshd.sh starts). Memory comes from
        /// libvirt (RSS), as it would from another machine.
        @Test func remoteURIOverSSH() async throws {
            try Fixtures.requireImages()
            let key = "/var/tmp/mvm-tests/ssh/client_key"
            try #require(
                FileManager.default.fileExists(atPath: key),
                "no \(key): run scripts/run-tests.sh (it starts the test sshd)")
            let uri = "qemu+ssh://root@127.0.0.1:2222/system?keyfile=\(key)&no_verify=1&known_hosts=/dev/null"
            // mvm copies nothing to a remote host: the images must already be
            // where its QEMU can read them, as staged here for "that host".
            let staging = ImageStaging(stateDirectory: Fixtures.inProcessState)
            let launcher = try await MicroVMLauncher(
                try configuration(
                    uri: uri, kernel: try staging.reachablePath(for: Fixtures.images.minimalVmlinux),
                    initrd: try staging.reachablePath(for: Fixtures.images.initramfs)))
            #expect(launcher.consoleTransport == .stream)
            let name = try await checkThenStop(try await launcher.launch()) { vm in
                #expect(vm.boot.timeline.marks.map(\.phase) == [.request, .started, .resumed, .firstOutput, .ready])
                #expect(vm.boot.timeline.isOrdered)
                #expect(vm.qemuPID == nil)
                let footprint = try await vm.footprint()
                #expect(footprint[.pss] == nil)
                #expect((footprint[.rss] ?? 0) > 10 << 20)
                return vm.name
            }
            let manager = try await DomainManager(uri: uri, stateDirectory: Fixtures.inProcessState)
            #expect(try !manager.runningMVMDomains().contains(name))
            #expect(Fixtures.mvmQEMUProcesses().isEmpty)
        }

        @Test func missingKernelFailsBeforeAnythingStarts() async throws {
            let error = await #expect(throws: VMMError.self) {
                _ = try await MicroVMLauncher(try configuration(kernel: "/nonexistent/vmlinux"))
            }
            #expect(
                error?.description
                    == "kernel /nonexistent/vmlinux does not exist; install the images (scripts/install.sh), point MVM_IMAGES at them, or name another kernel"
            )
            #expect(Fixtures.mvmQEMUProcesses().isEmpty)
        }

        @Test func corruptInitramfsIsAClearErrorAndLeavesNothing() async throws {
            try Fixtures.requireImages()
            var generator = SystemRandomNumberGenerator()
            let junk = (0..<65536).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let file = try Fixtures.temporaryFile(named: "corrupt.cpio", contents: junk)
            defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
            var configuration = try configuration(initrd: file.path)
            configuration.limits = try Fixtures.limits(timeoutSeconds: 60)
            let launcher = try await MicroVMLauncher(configuration)
            let error = await #expect(throws: VMMError.self) { _ = try await launcher.launch() }
            switch error {
            case .kernelPanic(let line, let tail):
                #expect(line.contains("Kernel panic"))
                #expect(!tail.isEmpty)
            case .guestStopped(let tail):
                #expect(tail.contains { $0.contains("Kernel panic") || $0.contains("Initramfs") })
            default:
                Issue.record("expected a kernel panic or a stopped guest, got \(String(describing: error))")
            }
            try await expectNothingLeft(configuration)
        }

        @Test func guestThatNeverPrintsTheLineTimesOutAndLeavesNothing() async throws {
            try Fixtures.requireImages()
            var configuration = try configuration()
            // busybox's shell as init: the guest boots fine but never says it is ready.
            configuration.extraKernelArguments = ["rdinit=/bin/sh"]
            configuration.limits = try Fixtures.limits(timeoutSeconds: 8)
            let launcher = try await MicroVMLauncher(configuration)
            let error = await #expect(throws: VMMError.self) { _ = try await launcher.launch() }
            guard case .readinessTimeout(let after, let accelerator, let tail) = error else {
                Issue.record("expected a readiness timeout, got \(String(describing: error))")
                return
            }
            #expect(after == .seconds(8))
            #expect(accelerator == .tcg)
            let description = error?.description ?? ""
            #expect(description.hasPrefix("the guest printed no readiness line within 8 s"))
            // The console's last lines say what the guest did instead: here,
            // busybox's shell started.
            #expect(description.contains("last console lines:"), "\(description)")
            #expect(tail.contains { $0.contains("BusyBox") }, "\(tail)")
            #expect(description.contains("built-in shell (ash)"), "\(description)")
            try await expectNothingLeft(configuration)
        }

        func expectNothingLeft(_ configuration: MicroVMConfiguration) async throws {
            let manager = try await DomainManager(
                uri: configuration.connectURI, stateDirectory: Fixtures.inProcessState)
            #expect(try manager.runningMVMDomains().isEmpty)
            #expect(Fixtures.mvmQEMUProcesses().isEmpty)
            #expect(Fixtures.consoleFiles(in: Fixtures.inProcessState).isEmpty)
            #expect(Fixtures.mvmDomainCgroups().isEmpty)
            #expect(TeardownRegistry.shared.registeredKeys.isEmpty)
        }
    }
}

/// Runs checks on a running instance and stops it afterwards, also when a
/// check throws, so that a failing test still leaves nothing behind.
func checkThenStop<Instance: RunningInstance, Result>(
    _ instance: Instance, _ checks: (Instance) async throws -> Result
) async throws -> Result {
    let result: Result
    do {
        result = try await checks(instance)
    } catch {
        try? await instance.stop()
        throw error
    }
    try await instance.stop()
    return result
}
