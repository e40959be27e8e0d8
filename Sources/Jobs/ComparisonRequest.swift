import Compare
import ContainerShim
import MVMCore
import VMM

/// What a side-by-side comparison is asked for, as given: nothing is
/// checked yet. `ComparisonRequest(checking:)` checks it, once.
public struct ComparisonSettings: Sendable {
    /// libvirt URI; nil means the embedded QEMU driver under the state dir.
    public var connectURI: String?
    public var stateDirectory: StateDirectory
    public var images: ImageSet
    /// The same for the VMs and the containers.
    public var memoryMiB = InstanceLimits.standard.memoryMiB
    public var vcpus = InstanceLimits.standard.vcpus
    public var timeoutSeconds = InstanceLimits.standard.timeout.seconds
    public var accelerator: AcceleratorRequest = .auto
    public var runtime: RuntimeSelection = .runc
    /// The `-direct` reference rows: plain QEMU and plain `runc run`.
    public var includeReferences = true
    /// `vm-stock`: Debian's cloud kernel as an ordinary VM.
    public var includeStockVM = false
    /// `vm-warm`: micro-VMs created paused ahead of time, resumed on request.
    public var includeWarmVM = false
    /// TCG's translation cache of the VMs in MiB; nil: QEMU's default.
    public var translationCacheMiB: Int? = MicroVMConfiguration.defaultTranslationCacheMiB
    public var plan = ComparisonPlan()
    /// What is measured besides (or instead of) boot.
    public var dimensions = DimensionSettings()
    /// One traced start per contender after the measured runs (`--trace`).
    public var trace = false
    /// The user's own images in place of mvm's.
    public var workload = WorkloadImages()

    public init(stateDirectory: StateDirectory, images: ImageSet) {
        self.stateDirectory = stateDirectory
        self.images = images
    }
}

/// The user's own images and kernel arguments, for the micro-VM
/// (`--kernel`, `--initrd`, `--append`, `--machine`) and the container
/// (`--rootfs`); unset: mvm's from the image set.
public struct WorkloadImages: Sendable, Equatable {
    public var kernel: String?
    public var initrd: String?
    public var kernelArguments: [String] = []
    public var machine: MachineType?
    public var rootfs: String?
    /// `--ready-line`: what makes every contender ready; nil: mvm's line.
    public var readyLine: ReadyLinePattern?

    public init() {}

    var readiness: ReadinessRule { readyLine.map { .matching($0) } ?? .mvmLine }

    /// What a plan records of it ("kernel /k/vmlinux, append noapictimer");
    /// nil for mvm's own.
    public var planDescription: String? {
        var parts: [String] = []
        if let kernel { parts.append("kernel \(absolutePath(kernel))") }
        if let initrd { parts.append("initrd \(absolutePath(initrd))") }
        if !kernelArguments.isEmpty { parts.append("append \(kernelArguments.joined(separator: " "))") }
        if let machine { parts.append("machine \(machine.rawValue)") }
        if let rootfs { parts.append("rootfs \(absolutePath(rootfs))") }
        if let readyLine { parts.append("ready-line \(readyLine.source)") }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }
}

/// A comparison request checked against the host it runs on: the plan, the
/// dimensions and the limits (for `concurrency` instances at once). The
/// host is probed once, here; the job, the launchers and the collectors
/// trust what this holds and check none of it again.
public struct ComparisonRequest: Sendable {
    public let settings: ComparisonSettings
    /// The host the limits were checked against, for the fingerprint.
    public let host: HostFacts
    /// The host's container facilities (cgroups, user namespaces).
    public let containerHost: ContainerHost
    public let limits: InstanceLimits

    public var plan: ComparisonPlan { settings.plan }
    public var dimensions: DimensionSettings { settings.dimensions }
    public var images: ImageSet { settings.images }
    public var stateDirectory: StateDirectory { settings.stateDirectory }

    /// Probes this host and checks `settings` against it.
    public init(checking settings: ComparisonSettings) throws(LimitViolation) {
        try self.init(checking: settings, host: .probe(), containerHost: .probe())
    }

    /// Checks `settings` against a host already probed.
    public init(checking settings: ComparisonSettings, host: HostFacts, containerHost: ContainerHost)
        throws(LimitViolation)
    {
        try settings.plan.check()
        try settings.dimensions.check()
        limits = try InstanceLimits.checked(
            memoryMiB: settings.memoryMiB, vcpus: settings.vcpus, timeoutSeconds: settings.timeoutSeconds, host: host,
            instancesAtOnce: settings.plan.concurrency)
        self.settings = settings
        self.host = host
        self.containerHost = containerHost
    }

    /// The micro-VM's configuration, kernel and initrd from the image set.
    var microVMConfiguration: MicroVMConfiguration {
        let workload = settings.workload
        var configuration = MicroVMConfiguration(
            connectURI: settings.connectURI, stateDirectory: settings.stateDirectory,
            kernelPath: workload.kernel.map(absolutePath) ?? settings.images.minimalVmlinux,
            initrdPath: workload.initrd.map(absolutePath) ?? settings.images.initramfs)
        configuration.extraKernelArguments = workload.kernelArguments
        configuration.machine = workload.machine
        configuration.readiness = workload.readiness
        configuration.limits = limits
        configuration.accelerator = settings.accelerator
        configuration.translationCacheMiB = settings.translationCacheMiB
        return configuration
    }

    /// The container's configuration: the image set's rootfs.
    var containerConfiguration: ContainerConfiguration {
        var configuration = ContainerConfiguration(
            stateDirectory: settings.stateDirectory,
            rootfsPath: settings.workload.rootfs.map(absolutePath) ?? settings.images.rootfs)
        configuration.runtime = settings.runtime
        configuration.readiness = settings.workload.readiness
        configuration.limits = limits
        return configuration
    }

    /// sha256 of each image: mvm's from the image set's manifest, and the
    /// user's own (`kernel <path>`, `rootfs <path>`: a tree's listing
    /// digest, as images/build.sh computes it). An image that cannot be
    /// read is left out; its launcher says why.
    func imageDigests() -> [String: String] {
        var digests = images.manifestHashes()
        let workload = settings.workload
        for (role, path) in [("kernel", workload.kernel), ("initrd", workload.initrd)] {
            guard let path = path.map(absolutePath) else { continue }
            digests["\(role) \(path)"] = try? ImageDigest.file(at: path)
        }
        if let rootfs = workload.rootfs.map(absolutePath) {
            digests["rootfs \(rootfs)"] = try? ImageDigest.tree(at: rootfs)
        }
        return digests
    }
}
