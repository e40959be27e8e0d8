import Compare
import ContainerShim
import MVMCore
import OCIImages
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
    /// The gvisor contender's runsc platform (`--runsc-platform`).
    public var runscPlatform = RuntimeSelection.defaultRunscPlatform
    /// Which contenders run: vm and container always; `qemu-direct` and
    /// `runc-direct` (plain QEMU and plain `runc run`), `vm-warm` (micro-VMs
    /// created paused ahead of time, resumed on request) and `vm-stock`
    /// (Debian's cloud kernel as an ordinary VM) when selected.
    public var contenders = ContenderSelection.standard
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
    /// `--ready-exit`: ready when the image's workload exits with status 0.
    public var readyExit = false
    /// `--image`: a user's OCI image, unpacked, as the container's tree and
    /// the micro-VM's initramfs, both run by mvm's image init.
    public var image: PreparedImage?

    public init() {}

    public var readiness: ReadinessRule {
        readyExit ? .workloadExit : readyLine.map { .matching($0) } ?? .mvmLine
    }

    /// What is wrong with this combination, in one line; nil when nothing.
    public var conflict: String? {
        Self.conflict(
            image: image != nil, initrd: initrd != nil, rootfs: rootfs != nil, readyLine: readyLine != nil,
            readyExit: readyExit)
    }

    /// The same, for options not yet made into settings (an image is
    /// prepared after the options are checked). An image gives both sides
    /// their tree and runs its own workload, which prints no mvm readiness
    /// line; only mvm's image init reports an exit status.
    public static func conflict(image: Bool, initrd: Bool, rootfs: Bool, readyLine: Bool, readyExit: Bool) -> String? {
        if readyExit && readyLine { return "--ready-exit and --ready-line exclude each other: choose one" }
        if image {
            if initrd || rootfs { return "--image gives both sides their tree: leave out --initrd and --rootfs" }
            if !readyExit && !readyLine {
                return
                    "an image's workload prints no mvm readiness line: say when it is ready with --ready-exit (it exits 0) or --ready-line REGEX"
            }
        } else if readyExit {
            return "--ready-exit needs --image: mvm's image init reports the workload's exit status"
        }
        return nil
    }

    /// What a plan records of it ("kernel /k/vmlinux, append noapictimer");
    /// nil for mvm's own.
    public var planDescription: String? {
        var parts: [String] = []
        if let kernel { parts.append("kernel \(absolutePath(kernel))") }
        if let initrd { parts.append("initrd \(absolutePath(initrd))") }
        if !kernelArguments.isEmpty { parts.append("append \(kernelArguments.joined(separator: " "))") }
        if let machine { parts.append("machine \(machine.rawValue)") }
        if let rootfs { parts.append("rootfs \(absolutePath(rootfs))") }
        if let image { parts.append("image \(image.digest)") }
        if let readyLine { parts.append("ready-line \(readyLine.source)") }
        if readyExit { parts.append("ready-exit") }
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
        if let image = settings.workload.image {
            if settings.dimensions.dimensions != [.boot] {
                throw LimitViolation(
                    .dimensions, settings.dimensions.dimensions.map(\.rawValue).joined(separator: ","),
                    "measures mvm's own guest beyond boot (its probes and workloads run in mvm's init, not in image \(image.reference)): measure the image's boot only, or leave out --image"
                )
            }
            if let problem = image.memoryProblem(memoryMiB: settings.memoryMiB, naming: "image \(image.reference)") {
                throw LimitViolation(.memory, settings.memoryMiB, problem)
            }
        }
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
        if let image = workload.image { configuration.boot(image) }
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
        if let image = settings.workload.image { configuration.run(image) }
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
        if let image = workload.image {
            digests["image \(image.reference)"] = image.digest
            digests["image initramfs"] = try? ImageDigest.file(at: image.initramfs)
        }
        return digests
    }
}

extension MicroVMConfiguration {
    /// Boots a user's image: its initramfs, and the kernel argument that
    /// makes mvm's image init the first process (before the user's own).
    mutating func boot(_ image: PreparedImage) {
        initrdPath = image.initramfs
        extraKernelArguments = image.kernelArguments + extraKernelArguments
    }
}

extension ContainerConfiguration {
    /// Runs a user's image: its tree, with mvm's image init as the process.
    mutating func run(_ image: PreparedImage) {
        rootfsPath = image.rootfs
        command = image.containerCommand
    }
}
