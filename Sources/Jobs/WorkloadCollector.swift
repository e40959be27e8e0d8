import Compare
import ContainerShim
import MVMCore
import VMM

/// Runs the same workloads in the micro-VM, in its container and straight on
/// the host, interleaved like the boot runs, and times each between its
/// begin and end lines as they reach mvm.
struct WorkloadCollector {
    let settings: DimensionSettings
    let vm: MicroVMLauncher
    let container: ContainerLauncher
    let images: ImageSet
    let seed: UInt64
    /// The isolation ladder's contenders that ran (gvisor, podman, docker).
    var ladder: [Contender] = []

    /// What the guest tree's /init reads: the workloads and their sizes.
    var workloadEnvironment: [String] {
        [
            "mvm_workload=" + settings.workloads.map(\.rawValue).joined(separator: ","),
            "mvm_cpu_mib=\(settings.cpuMiB)", "mvm_memory_mib=\(settings.memoryMiB)",
            "mvm_syscall_kib=\(settings.syscallKiB)", "mvm_metadata_files=\(settings.metadataFiles)",
        ]
    }

    func collect() async throws -> WorkloadResult {
        var vmConfiguration = vm.configuration
        vmConfiguration.extraKernelArguments += workloadEnvironment
        var containerConfiguration = container.configuration
        containerConfiguration.environment += workloadEnvironment
        // The host runs the tree's own /init with the tree's busybox first on
        // its PATH, and exits once it has reported (a host process has no
        // cgroup that would take its idle children away with it). It is
        // pinned to the CPUs the container's cpuset gives it (taskset), so
        // that a pipeline of two processes gets no more cores on the host
        // than inside: the ratio is the overhead, not a CPU count.
        let vcpus = vm.configuration.limits.vcpus
        let hostRun = HostProcessLauncher(
            executable: "/usr/bin/taskset",
            arguments: ["-c", vcpus == 1 ? "0" : "0-\(vcpus - 1)", images.rootfs + "/bin/sh", images.rootfs + "/init"],
            // The metadata workload's files go to a tmpfs, as inside.
            environment: workloadEnvironment + [
                "mvm_path=" + images.rootfs + "/bin", "mvm_mode=exit", "TMPDIR=/dev/shm",
            ],
            timeout: vm.configuration.limits.timeout)
        var contenders = [
            Contender(name: "vm", role: .microVM, launcher: try await MicroVMLauncher(vmConfiguration)),
            Contender(
                name: "container", role: .container,
                launcher: try ContainerLauncher(containerConfiguration, host: container.host)),
            Contender(name: WorkloadResult.hostSide, role: .containerReference, launcher: hostRun),
        ]
        for contender in ladder {
            contenders.append(try await LadderLaunch.adding(workloadEnvironment, to: contender))
        }
        let plan = ComparisonPlan(runs: settings.workloadRuns, warmup: 1, concurrency: 1, seed: seed)
        let samples = await ComparisonRunner(plan: plan, contenders: contenders).run()
        for contender in contenders { await LadderLaunch.drain(contender) }
        let names = settings.workloads.map(\.rawValue)
        let workloadSamples = samples.map { sample in
            var seconds: [String: Double] = [:]
            var failure = sample.failure
            for name in names {
                if let begin = sample.phases[name + "-begin"], let end = sample.phases[name + "-end"] {
                    seconds[name] = end - begin
                } else if sample.ok {
                    failure = failure ?? "the workload printed no \(name)-begin and \(name)-end lines"
                }
            }
            return WorkloadSample(
                side: sample.contender, run: sample.run, warmup: sample.warmup, seconds: seconds, failure: failure)
        }
        var caveats: [String] = []
        if vm.acceleratorChoice.accelerator == .tcg {
            caveats.append(
                "the VM ran under TCG, QEMU's software emulation of the CPU: its workload figures measure emulation, "
                    + "not a VM on hardware virtualization, which runs such code at close to the host's speed")
        }
        return WorkloadResult(
            workloads: names,
            descriptions: Dictionary(
                uniqueKeysWithValues: settings.workloads.map { ($0.rawValue, $0.description(settings)) }),
            sides: contenders.map(\.name), runs: settings.workloadRuns, samples: workloadSamples, caveats: caveats)
    }
}
