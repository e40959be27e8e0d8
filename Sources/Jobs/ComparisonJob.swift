import Compare
import ContainerShim
import Foundation
import MVMCore
import VMM

/// What a measuring job tells whoever watches it: samples as batches
/// complete (for an interrupted run's partial report), progress, and which
/// dimension it starts measuring.
public struct MeasurementObserver: Sendable {
    public var log: SampleLog?
    public var progress: @Sendable (ComparisonProgress) -> Void
    public var measuring: @Sendable (ComparisonDimension) -> Void

    public init(
        log: SampleLog? = nil, progress: @escaping @Sendable (ComparisonProgress) -> Void = { _ in },
        measuring: @escaping @Sendable (ComparisonDimension) -> Void = { _ in }
    ) {
        self.log = log
        self.progress = progress
        self.measuring = measuring
    }
}

/// `mvm compare`'s job: the micro-VM, its container and the reference
/// rows, measured interleaved, with the environment they ran in. Making one
/// starts nothing; `run` measures.
public struct ComparisonJob: Sendable {
    public let request: ComparisonRequest
    public let lineup: ContenderLineup
    public var contenders: [Contender] { lineup.contenders }
    /// The images' digests, read once: a user's rootfs is hashed file by
    /// file, and a job reports more than once (a confirmation batch, an
    /// interrupt).
    let imageDigests: [String: String]

    /// mvm's own lineup for a checked request.
    public init(_ request: ComparisonRequest) async throws {
        self.init(request, lineup: try await .make(for: request))
    }

    /// Contenders of the caller's own: measures boot only.
    public init(_ request: ComparisonRequest, lineup: ContenderLineup) {
        self.request = request
        self.lineup = lineup
        imageDigests = request.imageDigests()
    }

    /// The micro-VM's domain XML under a fixed name.
    public var domainXML: String { lineup.stack.domainXML }

    /// The host the request was checked against.
    public var hostFacts: HostFacts { request.host }

    /// Measures every contender as planned and returns the whole report.
    public func run(observer: MeasurementObserver = MeasurementObserver()) async -> ComparisonReport {
        await measure(observer: observer, bootOnly: false)
    }

    /// The boot runs again and no other dimension: a nightly job's
    /// confirmation batch (verdicts judge the boot figures only).
    public func confirmationBatch(progress: @escaping @Sendable (ComparisonProgress) -> Void) async -> ComparisonReport
    {
        await measure(observer: MeasurementObserver(progress: progress), bootOnly: true)
    }

    private func measure(observer: MeasurementObserver, bootOnly: Bool) async -> ComparisonReport {
        let startedAt = Date()
        var samples: [InstanceSample] = []
        if request.dimensions.includes(.boot) {
            observer.measuring(.boot)
            samples = await ComparisonRunner(plan: request.plan, contenders: contenders).run(
                log: observer.log, progress: observer.progress)
            for case let pool as any PreparedLaunching in contenders.map(\.launcher) { await pool.drain() }
        }
        var report = await report(samples: samples, startedAt: startedAt)
        if request.settings.trace && request.dimensions.includes(.boot) && !bootOnly {
            observer.measuring(.boot)
            report.traces = await traceEachContender(summary: report.summary)
            report.environment.finishedAt = Date()
        }
        if request.dimensions.dimensions != [.boot] && !bootOnly {
            report.measuredDimensions = request.dimensions.dimensions
            report.dimensions = await measureDimensions(measuring: observer.measuring)
            report.environment.finishedAt = Date()
        }
        // Traced starts and the dimensions' runs prepare what they launch
        // (a pool's domain, an engine's image) too.
        for case let prepared as any PreparedLaunching in contenders.map(\.launcher) { await prepared.drain() }
        return report
    }

    /// One traced start per contender, one after the other, after the
    /// measured runs: tracing perturbs, so these are never samples; each is
    /// set against its contender's measured median.
    private func traceEachContender(summary: ComparisonSummary) async -> [String: ContenderTrace] {
        var traces: [String: ContenderTrace] = [:]
        for contender in contenders {
            let median = summary.contenders.first { $0.name == contender.name }?.metric(.ready)?.summary?.median
            let requestedAt = Date()
            do {
                let instance = try await contender.launcher.launchTraced()
                try? await instance.stop()
                traces[contender.name] = ContenderTrace(
                    requestedAt: instance.boot.requestedAt, trace: instance.boot.traceOrPhases,
                    untracedReadyMedian: median)
            } catch {
                traces[contender.name] = ContenderTrace(
                    requestedAt: requestedAt, trace: nil, failure: firstLine(of: error), untracedReadyMedian: median)
            }
        }
        return traces
    }

    /// Each dimension but boot, in order, on instances of its own. A
    /// dimension that cannot be measured at all is reported with why; the
    /// others still run.
    private func measureDimensions(measuring: (ComparisonDimension) -> Void) async -> DimensionResults {
        var results = DimensionResults()
        var failures: [String: String] = [:]
        let settings = request.dimensions
        let pair = contenders.filter { $0.role == .microVM || $0.role == .container }
        // Every dimension measures the isolation ladder's steps too.
        let ladder = LadderLaunch.ladder(contenders)
        let measured = pair + ladder
        for dimension in settings.dimensions where dimension != .boot {
            measuring(dimension)
            guard let launchers = lineup.pair else {
                failures[dimension.rawValue] = "needs mvm's own micro-VM and container launchers"
                continue
            }
            let (vm, container) = (launchers.vm, launchers.container)
            do {
                switch dimension {
                case .boot: break
                case .isolation:
                    results.isolation = await IsolationCollector(
                        vm: vm, container: container, ladder: ladder
                    ).collect()
                case .workload:
                    results.workload = try await WorkloadCollector(
                        settings: settings, vm: vm, container: container, images: request.images,
                        seed: request.plan.seed, ladder: ladder
                    ).collect()
                case .scaling:
                    results.scaling = await ScalingCollector(
                        settings: settings, contenders: measured, limits: request.limits, host: request.host,
                        seed: request.plan.seed
                    ).collect()
                case .size:
                    results.size = try await SizeCollector(
                        images: request.images, vm: vm, container: container, host: request.host,
                        ladder: ladder
                    )
                    .collect()
                case .teardown:
                    results.teardown = await TeardownCollector(
                        settings: settings, contenders: measured, seed: request.plan.seed
                    ).collect()
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

    /// The report of a job that measured nothing (refused by its pre-flight
    /// check): the environment, no samples.
    public func emptyReport(startedAt: Date) async -> ComparisonReport {
        await report(samples: [], startedAt: startedAt, caveats: [])
    }

    private func report(samples: [InstanceSample], startedAt: Date, caveats: [String]? = nil) async -> ComparisonReport
    {
        var unique: [String] = []
        for caveat in caveats ?? contenders.flatMap(\.launcher.caveats) where !unique.contains(caveat) {
            unique.append(caveat)
        }
        var report = ComparisonReport(
            environment: await environment(startedAt: startedAt), plan: request.plan,
            contenders: contenders.map(\.name),
            roles: Dictionary(uniqueKeysWithValues: contenders.map { ($0.name, $0.role) }), caveats: unique,
            samples: samples)
        let unapplied = contenders.filter { !$0.launcher.unappliedLimits.isEmpty }
        if !unapplied.isEmpty {
            report.unappliedLimits = Dictionary(
                uniqueKeysWithValues: unapplied.map { ($0.name, $0.launcher.unappliedLimits) })
        }
        return report
    }

    private func environment(startedAt: Date) async -> EnvironmentFingerprint {
        let host = request.host
        return EnvironmentFingerprint(
            hostKernel: host.kernelRelease, cpuModel: host.cpuModel, cores: host.cores, memoryBytes: host.memoryBytes,
            accelerator: lineup.stack.accelerator, acceleratorReason: lineup.stack.acceleratorReason,
            versions: await lineup.stack.versions(), images: imageDigests, mvmVersion: mvmVersion,
            gitCommit: mvmCommit, startedAt: startedAt, finishedAt: Date())
    }
}
