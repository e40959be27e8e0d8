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
        isolation == nil && workload == nil && scaling == nil && size == nil && teardown == nil
            && (failures ?? [:]).isEmpty
    }

    /// Whether any section saw a failed instance or could not be measured:
    /// what makes `mvm compare` exit with status 2.
    public var hasFailures: Bool { !failedDimensions.isEmpty }

    /// The sections that saw a failed instance or could not be measured, in
    /// report order.
    public var failedDimensions: [ComparisonDimension] {
        var failed = Set((failures ?? [:]).keys.compactMap(ComparisonDimension.init(rawValue:)))
        if let isolation, !isolation.failures.isEmpty { failed.insert(.isolation) }
        if let workload, workload.samples.contains(where: { !$0.warmup && $0.failure != nil }) {
            failed.insert(.workload)
        }
        if let scaling, scaling.samples.contains(where: { !$0.failures.isEmpty }) { failed.insert(.scaling) }
        if let teardown, teardown.figures.contains(where: { !$0.failures.isEmpty }) { failed.insert(.teardown) }
        return failed.sorted()
    }
}
