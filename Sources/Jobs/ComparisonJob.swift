import Compare
import ContainerShim
import Foundation
import MVMCore
import Subprocess
import VMM

/// What a side-by-side comparison is asked to measure.
public struct ComparisonRequest: Sendable {
    /// libvirt URI; nil means the embedded QEMU driver under the state dir.
    public var connectURI: String?
    public var stateDirectory: StateDirectory
    public var images: ImageSet
    /// The same for the VMs and the containers.
    public var limits: InstanceLimits
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
    public var plan: ComparisonPlan
    /// What is measured besides (or instead of) boot: `--dimensions`.
    public var dimensions = DimensionSettings()

    public init(stateDirectory: StateDirectory, images: ImageSet, limits: InstanceLimits, plan: ComparisonPlan) {
        self.stateDirectory = stateDirectory
        self.images = images
        self.limits = limits
        self.plan = plan
    }
}

/// `mvm compare`'s job: the micro-VM, its container and the reference
/// rows, measured interleaved, with the environment they ran in. Making one
/// checks everything and starts nothing; `run` measures.
public struct ComparisonJob: Sendable {
    public let request: ComparisonRequest
    public let contenders: [Contender]
    /// The host the limits were checked against, for the fingerprint.
    private let host: HostFacts
    private let vm: MicroVMLauncher
    private let container: ContainerLauncher

    public init(_ request: ComparisonRequest) async throws {
        try request.plan.check()
        try request.dimensions.check()
        let host = HostFacts.probe()
        try request.limits.check(host: host, instancesAtOnce: request.plan.concurrency)
        var vmConfiguration = MicroVMConfiguration(
            connectURI: request.connectURI, stateDirectory: request.stateDirectory,
            kernelPath: request.images.minimalVmlinux, initrdPath: request.images.initramfs)
        vmConfiguration.limits = request.limits
        vmConfiguration.accelerator = request.accelerator
        vmConfiguration.translationCacheMiB = request.translationCacheMiB
        vm = try await MicroVMLauncher(vmConfiguration, host: host)

        var containerConfiguration = ContainerConfiguration(stateDirectory: request.stateDirectory, rootfsPath: request.images.rootfs)
        containerConfiguration.runtime = request.runtime
        containerConfiguration.limits = request.limits
        container = try ContainerLauncher(containerConfiguration, hostFacts: host)

        var contenders = [
            Contender(name: "vm", role: .microVM, launcher: vm),
            Contender(name: "container", role: .container, launcher: container),
        ]
        if request.includeReferences {
            contenders.append(Contender(name: "qemu-direct", role: .microVMReference, launcher: try DirectQEMULauncher(matching: vm)))
            contenders.append(Contender(name: "runc-direct", role: .containerReference, launcher: DirectRuncLauncher(matching: container)))
        }
        if request.includeWarmVM {
            contenders.append(Contender(name: "vm-warm", role: .warmMicroVM, launcher: WarmMicroVMLauncher(matching: vm)))
        }
        if request.includeStockVM {
            var stockConfiguration = vmConfiguration
            stockConfiguration.kernelPath = request.images.stockKernel
            contenders.append(Contender(name: "vm-stock", role: .ordinaryVM, launcher: try await MicroVMLauncher(stockConfiguration, host: host)))
        }
        self.request = request
        self.contenders = contenders
        self.host = host
    }

    /// The micro-VM's domain XML under a fixed name: its hash is a stack
    /// fact of nightly runs (a changed XML explains a changed boot).
    public var domainXML: String {
        vm.describeDomain(name: "mvm-fingerprint").xml()
    }

    /// The host the job checked its limits against.
    public var hostFacts: HostFacts { host }

    /// Measures every contender as planned and returns the whole report.
    /// `log` receives the samples as batches complete, for an interrupted
    /// run's partial report.
    public func run(
        log: SampleLog? = nil, progress: (ComparisonProgress) -> Void = { _ in }, measuring: (ComparisonDimension) -> Void = { _ in }
    ) async -> ComparisonReport {
        let startedAt = Date()
        var samples: [InstanceSample] = []
        if request.dimensions.includes(.boot) {
            measuring(.boot)
            samples = await ComparisonRunner(plan: request.plan, contenders: contenders).run(log: log, progress: progress)
            for case let pool as any PreparedLaunching in contenders.map(\.launcher) { await pool.drain() }
        }
        var report = await report(samples: samples, startedAt: startedAt)
        if request.dimensions.dimensions != [.boot] {
            report.measuredDimensions = request.dimensions.dimensions
            report.dimensions = await measureDimensions(measuring: measuring)
            report.environment.finishedAt = Date()
        }
        return report
    }

    /// Each dimension but boot, in order, on instances of its own. A
    /// dimension that cannot be measured at all is reported with why; the
    /// others still run.
    private func measureDimensions(measuring: (ComparisonDimension) -> Void) async -> DimensionResults {
        var results = DimensionResults()
        var failures: [String: String] = [:]
        let settings = request.dimensions
        let pair = contenders.filter { $0.role == .microVM || $0.role == .container }
        for dimension in settings.dimensions where dimension != .boot {
            measuring(dimension)
            do {
                switch dimension {
                case .boot: break
                case .isolation:
                    results.isolation = await IsolationCollector(vm: vm, container: container, host: host).collect()
                case .workload:
                    results.workload = try await WorkloadCollector(
                        settings: settings, vm: vm, container: container, host: host, images: request.images, seed: request.plan.seed
                    ).collect()
                case .scaling:
                    results.scaling = await ScalingCollector(
                        settings: settings, contenders: pair, limits: request.limits, host: host, seed: request.plan.seed
                    ).collect()
                case .size:
                    results.size = try await SizeCollector(images: request.images, vm: vm, container: container, host: host).collect()
                case .teardown:
                    results.teardown = await TeardownCollector(settings: settings, contenders: pair, seed: request.plan.seed).collect()
                }
            } catch {
                failures[dimension.rawValue] = firstLine(of: error)
            }
        }
        if !failures.isEmpty { results.failures = failures }
        return results
    }

    /// The report of the samples an interrupted run completed, marked partial.
    public func partialReport(samples: [InstanceSample], startedAt: Date) async -> ComparisonReport {
        var report = await report(samples: samples, startedAt: startedAt)
        report.partial = true
        return report
    }

    private func report(samples: [InstanceSample], startedAt: Date) async -> ComparisonReport {
        var caveats: [String] = []
        for caveat in contenders.flatMap(\.launcher.caveats) where !caveats.contains(caveat) { caveats.append(caveat) }
        return ComparisonReport(
            environment: await environment(startedAt: startedAt), plan: request.plan, contenders: contenders.map(\.name),
            roles: Dictionary(uniqueKeysWithValues: contenders.map { ($0.name, $0.role) }), caveats: caveats,
            samples: samples)
    }

    /// The report of a job that measured nothing (refused by its pre-flight
    /// check): the environment, no samples.
    public func emptyReport(startedAt: Date) async -> ComparisonReport {
        ComparisonReport(
            environment: await environment(startedAt: startedAt), plan: request.plan, contenders: contenders.map(\.name),
            roles: Dictionary(uniqueKeysWithValues: contenders.map { ($0.name, $0.role) }), caveats: [], samples: [])
    }

    private func environment(startedAt: Date) async -> EnvironmentFingerprint {
        let versions = vm.versions()
        var toolVersions: [String: String] = [:]
        toolVersions["qemu"] = versions.hypervisor
        toolVersions["libvirt"] = versions.libvirt
        toolVersions["runtime"] = await container.runtimeVersion()
        return EnvironmentFingerprint(
            hostKernel: host.kernelRelease, cpuModel: host.cpuModel, cores: host.cores, memoryBytes: host.memoryBytes,
            accelerator: vm.acceleratorChoice.accelerator.rawValue, acceleratorReason: vm.acceleratorChoice.reason,
            versions: toolVersions, images: request.images.manifestHashes(), mvmVersion: mvmVersion,
            gitCommit: await gitCommit(of: request.images.checkoutDirectory), startedAt: startedAt, finishedAt: Date())
    }
}

/// The commit of the checkout mvm was built from, or "unknown".
func gitCommit(of directory: String) async -> String {
    let result = try? await run(
        .name("git"), arguments: ["-C", directory, "rev-parse", "HEAD"], output: .string(limit: 256), error: .discarded)
    guard let result, result.terminationStatus.isSuccess else { return "unknown" }
    return result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
}
