import MVMCore

/// What a comparison looks at. `boot` is the time to readiness and the idle
/// memory (the table every comparison has); the others are sections of their
/// own, each measured on instances of its own after the boot runs.
public enum ComparisonDimension: String, CaseIterable, Codable, Sendable, Comparable {
    case boot
    /// What each side isolates, observed at run time.
    case isolation
    /// The same CPU- and memory-bound work inside each side and on the host.
    case workload
    /// Many instances at once: time until all are ready, memory per instance.
    case scaling
    /// The artifacts' bytes and what a host must provide to run them.
    case size
    /// From the stop request until every host resource is released.
    case teardown

    public static func < (lhs: ComparisonDimension, rhs: ComparisonDimension) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }

    /// `boot,isolation` or `all`: the dimensions in report order, each once.
    public static func parseList(_ text: String) throws(LimitViolation) -> [ComparisonDimension] {
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0) }
        if names == ["all"] { return allCases }
        var chosen: Set<ComparisonDimension> = []
        for name in names {
            guard let dimension = ComparisonDimension(rawValue: name) else {
                throw LimitViolation(
                    .dimensions, text.debugDescription,
                    "is invalid: \(name.isEmpty ? "an empty name" : name.debugDescription) "
                        + "is not one of \(allCases.map(\.rawValue).joined(separator: ", ")) or all")
            }
            chosen.insert(dimension)
        }
        return chosen.sorted()
    }
}

/// A figure measured over several instances: every value, and their
/// statistics (the same as boot times': median with its bootstrap interval).
public struct MeasuredFigure: Sendable, Codable, Equatable {
    public var unit: MetricUnit
    public var values: [Double]
    public var summary: SampleSummary?

    public init(unit: MetricUnit, values: [Double], bootstrap: BootstrapSettings = .default) {
        self.unit = unit
        self.values = values
        summary = SampleSummary(samples: values, bootstrap: bootstrap)
    }
}

/// The sections beyond boot that a comparison measured; each is nil unless
/// asked for with `--dimensions`.
public struct DimensionResults: Sendable, Codable, Equatable {
    public var isolation: IsolationResult?
    public var workload: WorkloadResult?
    public var scaling: ScalingResult?
    public var size: SizeResult?
    public var teardown: TeardownResult?
    /// Dimensions that could not be measured at all, with why.
    public var failures: [String: String]?

    public init(
        isolation: IsolationResult? = nil, workload: WorkloadResult? = nil, scaling: ScalingResult? = nil,
        size: SizeResult? = nil, teardown: TeardownResult? = nil
    ) {
        self.isolation = isolation
        self.workload = workload
        self.scaling = scaling
        self.size = size
        self.teardown = teardown
    }

    public var isEmpty: Bool {
        isolation == nil && workload == nil && scaling == nil && size == nil && teardown == nil && (failures ?? [:]).isEmpty
    }

    /// Whether any section saw a failed instance or could not be measured:
    /// what makes `mvm compare` exit with status 2.
    public var hasFailures: Bool { !failedDimensions.isEmpty }

    /// The sections that saw a failed instance or could not be measured, in
    /// report order.
    public var failedDimensions: [ComparisonDimension] {
        var failed = Set((failures ?? [:]).keys.compactMap(ComparisonDimension.init(rawValue:)))
        if let isolation, !isolation.failures.isEmpty { failed.insert(.isolation) }
        if let workload, workload.samples.contains(where: { !$0.warmup && $0.failure != nil }) { failed.insert(.workload) }
        if let scaling, scaling.samples.contains(where: { !$0.failures.isEmpty }) { failed.insert(.scaling) }
        if let teardown, teardown.figures.contains(where: { !$0.failures.isEmpty }) { failed.insert(.teardown) }
        return failed.sorted()
    }
}

// MARK: Isolation

/// One aspect of isolation (kernel, namespaces, capabilities...) as each
/// side showed it at run time.
public struct IsolationAspect: Sendable, Codable, Equatable {
    public var name: String
    /// By side name (`vm`, `container`); a side the aspect does not apply to
    /// has a value that says why.
    public var values: [String: String]

    public init(name: String, values: [String: String]) {
        self.name = name
        self.values = values
    }
}

public struct IsolationResult: Sendable, Codable, Equatable {
    /// Side names in report order.
    public var sides: [String]
    public var aspects: [IsolationAspect]
    /// Every raw observation by side: what the workload printed on
    /// `mvm-fact` lines, and what mvm read from the domain, QEMU and /proc.
    public var observations: [String: [String: String]]
    public var failures: [String: String]

    public init(sides: [String], aspects: [IsolationAspect], observations: [String: [String: String]], failures: [String: String]) {
        self.sides = sides
        self.aspects = aspects
        self.observations = observations
        self.failures = failures
    }
}

// MARK: Workload

/// One run of one side's workloads.
public struct WorkloadSample: Sendable, Codable, Equatable {
    public var side: String
    public var run: Int
    public var warmup: Bool
    /// Seconds between the workload's begin and end marks, by workload.
    public var seconds: [String: Double]
    public var failure: String?

    public init(side: String, run: Int, warmup: Bool, seconds: [String: Double], failure: String?) {
        self.side = side
        self.run = run
        self.warmup = warmup
        self.seconds = seconds
        self.failure = failure
    }
}

/// One workload on one side: its durations and their ratio to the host's.
public struct WorkloadFigure: Sendable, Codable, Equatable {
    public var side: String
    public var workload: String
    public var duration: MeasuredFigure
    /// Median of this side over median of the host, with its bootstrap
    /// interval; nil for the host itself.
    public var ratioToHost: MedianRatio?

    public init(side: String, workload: String, duration: MeasuredFigure, ratioToHost: MedianRatio?) {
        self.side = side
        self.workload = workload
        self.duration = duration
        self.ratioToHost = ratioToHost
    }
}

public struct WorkloadResult: Sendable, Codable, Equatable {
    public static let hostSide = "host"

    /// Workload names in order, and what each does.
    public var workloads: [String]
    public var descriptions: [String: String]
    /// Sides in report order; the last is `host`.
    public var sides: [String]
    public var runs: Int
    public var samples: [WorkloadSample]
    public var figures: [WorkloadFigure]
    public var caveats: [String]

    public init(
        workloads: [String], descriptions: [String: String], sides: [String], runs: Int, samples: [WorkloadSample],
        caveats: [String], bootstrap: BootstrapSettings = .default
    ) {
        self.workloads = workloads
        self.descriptions = descriptions
        self.sides = sides
        self.runs = runs
        self.samples = samples
        self.caveats = caveats
        let measured = samples.filter { !$0.warmup && $0.failure == nil }
        func values(_ side: String, _ workload: String) -> [Double] {
            measured.filter { $0.side == side }.compactMap { $0.seconds[workload] }
        }
        figures = workloads.flatMap { workload in
            sides.map { side in
                let own = values(side, workload)
                let ratio =
                    side == Self.hostSide
                    ? nil : MedianRatio(numerator: own, denominator: values(Self.hostSide, workload), bootstrap: bootstrap)
                return WorkloadFigure(
                    side: side, workload: workload, duration: MeasuredFigure(unit: .seconds, values: own, bootstrap: bootstrap),
                    ratioToHost: ratio)
            }
        }
    }

    public func figure(side: String, workload: String) -> WorkloadFigure? {
        figures.first { $0.side == side && $0.workload == workload }
    }

    public func failures(of side: String) -> [String] {
        samples.filter { $0.side == side && !$0.warmup }.compactMap(\.failure)
    }
}

// MARK: Scaling

/// One batch of a sweep: `level` instances of one side started at once.
public struct ScalingSample: Sendable, Codable, Equatable {
    public var side: String
    public var level: Int
    public var run: Int
    /// From the start of the batch until all were ready; nil when one failed.
    public var allReadySeconds: Double?
    /// PSS summed over the batch's instances that started.
    public var totalPSSBytes: UInt64?
    public var started: Int
    public var failures: [String]

    public init(side: String, level: Int, run: Int, allReadySeconds: Double?, totalPSSBytes: UInt64?, started: Int, failures: [String]) {
        self.side = side
        self.level = level
        self.run = run
        self.allReadySeconds = allReadySeconds
        self.totalPSSBytes = totalPSSBytes
        self.started = started
        self.failures = failures
    }
}

/// One side at one concurrency level.
public struct ScalingLevel: Sendable, Codable, Equatable {
    public var side: String
    public var level: Int
    public var allReady: MeasuredFigure
    /// Instances per second: the level over the median time until all ready.
    public var launchRate: Double?
    public var totalPSS: MeasuredFigure
    public var pssPerInstance: MeasuredFigure
    public var failedInstances: Int
    public var instances: Int
}

public struct ScalingResult: Sendable, Codable, Equatable {
    public var sides: [String]
    /// The levels asked for (`--sweep`).
    public var sweep: [Int]
    public var runsPerLevel: Int
    /// The sweep stops raising a side's level once its summed PSS passes this.
    public var memoryCapBytes: UInt64?
    public var samples: [ScalingSample]
    public var levels: [ScalingLevel]
    /// Why a side did not reach the last level, by side.
    public var stopped: [String: String]

    public init(
        sides: [String], sweep: [Int], runsPerLevel: Int, memoryCapBytes: UInt64?, samples: [ScalingSample],
        stopped: [String: String], bootstrap: BootstrapSettings = .default
    ) {
        self.sides = sides
        self.sweep = sweep
        self.runsPerLevel = runsPerLevel
        self.memoryCapBytes = memoryCapBytes
        self.samples = samples
        self.stopped = stopped
        levels = sides.flatMap { side in
            sweep.compactMap { level -> ScalingLevel? in
                let own = samples.filter { $0.side == side && $0.level == level }
                guard !own.isEmpty else { return nil }
                let allReady = MeasuredFigure(unit: .seconds, values: own.compactMap(\.allReadySeconds), bootstrap: bootstrap)
                let complete = own.filter { $0.failures.isEmpty }
                let totals = complete.compactMap(\.totalPSSBytes).map { Double($0) }
                return ScalingLevel(
                    side: side, level: level, allReady: allReady,
                    launchRate: allReady.summary.map { Double(level) / $0.median },
                    totalPSS: MeasuredFigure(unit: .bytes, values: totals, bootstrap: bootstrap),
                    pssPerInstance: MeasuredFigure(unit: .bytes, values: totals.map { $0 / Double(level) }, bootstrap: bootstrap),
                    failedInstances: own.map(\.failures.count).reduce(0, +), instances: own.count * level)
            }
        }
    }
}

// MARK: Size

/// One file or tree of an artifact, with its bytes as shipped and gzipped.
public struct ArtifactPart: Sendable, Codable, Equatable {
    public var name: String
    public var path: String
    public var bytes: UInt64
    public var gzipBytes: UInt64

    public init(name: String, path: String, bytes: UInt64, gzipBytes: UInt64) {
        self.name = name
        self.path = path
        self.bytes = bytes
        self.gzipBytes = gzipBytes
    }
}

/// What one side ships: the VM's kernel and initramfs, the container's rootfs.
public struct Artifact: Sendable, Codable, Equatable {
    public var side: String
    public var parts: [ArtifactPart]

    public init(side: String, parts: [ArtifactPart]) {
        self.side = side
        self.parts = parts
    }

    public var bytes: UInt64 { parts.map(\.bytes).reduce(0, +) }
    public var gzipBytes: UInt64 { parts.map(\.gzipBytes).reduce(0, +) }
}

/// Something a host must provide to run one side, and whether this host does.
public struct HostRequirement: Sendable, Codable, Equatable {
    public var side: String
    public var requirement: String
    public var presentHere: Bool
    /// What mvm found on this host.
    public var found: String

    public init(side: String, requirement: String, presentHere: Bool, found: String) {
        self.side = side
        self.requirement = requirement
        self.presentHere = presentHere
        self.found = found
    }
}

public struct SizeResult: Sendable, Codable, Equatable {
    public var artifacts: [Artifact]
    public var requirements: [HostRequirement]

    public init(artifacts: [Artifact], requirements: [HostRequirement]) {
        self.artifacts = artifacts
        self.requirements = requirements
    }
}

// MARK: Teardown

/// One instance's teardown: from the stop request until `stop()` returned,
/// and until every host resource it held was gone.
public struct TeardownRunSample: Sendable, Codable, Equatable {
    public var side: String
    public var run: Int
    public var warmup: Bool
    public var stopReturnedSeconds: Double?
    /// Until the last resource was released; nil when one outlived the limit.
    public var releasedSeconds: Double?
    /// When each kind of resource (process, cgroup, domain, socket...) was
    /// seen released, in seconds from the stop request.
    public var releasedByKind: [String: Double]
    /// What was still held when mvm stopped looking.
    public var lingering: [String]
    public var failure: String?

    /// The `releasedByKind` key of the moment the last process died (became
    /// a zombie), as opposed to `process`: when its parent reaped it.
    public static let processDeadKind = "process-dead"

    public init(
        side: String, run: Int, warmup: Bool, stopReturnedSeconds: Double?, releasedSeconds: Double?,
        releasedByKind: [String: Double], lingering: [String], failure: String?
    ) {
        self.side = side
        self.run = run
        self.warmup = warmup
        self.stopReturnedSeconds = stopReturnedSeconds
        self.releasedSeconds = releasedSeconds
        self.releasedByKind = releasedByKind
        self.lingering = lingering
        self.failure = failure
    }
}

/// One side's teardown over its runs.
public struct TeardownFigure: Sendable, Codable, Equatable {
    public var side: String
    public var stopReturned: MeasuredFigure
    public var released: MeasuredFigure
    /// Per resource kind, when it was released.
    public var releasedByKind: [String: MeasuredFigure]
    public var failures: [String]
}

public struct TeardownResult: Sendable, Codable, Equatable {
    public var sides: [String]
    public var runs: Int
    public var samples: [TeardownRunSample]
    public var figures: [TeardownFigure]

    public init(sides: [String], runs: Int, samples: [TeardownRunSample], bootstrap: BootstrapSettings = .default) {
        self.sides = sides
        self.runs = runs
        self.samples = samples
        let measured = samples.filter { !$0.warmup }
        figures = sides.map { side in
            let own = measured.filter { $0.side == side }
            let good = own.filter { $0.failure == nil }
            let kinds = Set(good.flatMap(\.releasedByKind.keys)).sorted()
            return TeardownFigure(
                side: side,
                stopReturned: MeasuredFigure(unit: .seconds, values: good.compactMap(\.stopReturnedSeconds), bootstrap: bootstrap),
                released: MeasuredFigure(unit: .seconds, values: good.compactMap(\.releasedSeconds), bootstrap: bootstrap),
                releasedByKind: Dictionary(uniqueKeysWithValues: kinds.map { kind in
                    (kind, MeasuredFigure(unit: .seconds, values: good.compactMap { $0.releasedByKind[kind] }, bootstrap: bootstrap))
                }),
                failures: own.compactMap { sample in
                    sample.failure ?? (sample.releasedSeconds == nil ? "still held: " + sample.lingering.joined(separator: ", ") : nil)
                })
        }
    }
}
