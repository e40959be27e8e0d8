import MVMCore

/// The statistics of one metric of one contender; `summary` is nil when no
/// run produced a value.
public struct MetricSummary: Sendable, Codable, Equatable {
    public var name: String
    public var unit: MetricUnit
    public var summary: SampleSummary?

    public init(metric: Metric, summary: SampleSummary?) {
        name = metric.name
        unit = metric.unit
        self.summary = summary
    }

    public var metric: Metric { Metric(name, unit: unit) }
}

public struct ContenderSummary: Sendable, Codable, Equatable {
    public var name: String
    /// Measured instances (warm-up left out).
    public var instances: Int
    public var failed: Int
    /// Failure reasons with how often each occurred.
    public var failures: [String: Int]
    public var metrics: [MetricSummary]

    public func metric(_ metric: Metric) -> MetricSummary? {
        metrics.first { $0.name == metric.name }
    }
}

/// The ratio of two contenders' medians of one metric, with its bootstrap
/// interval: `numerator` / `denominator`.
public struct RatioSummary: Sendable, Codable, Equatable {
    public var metric: String
    public var unit: MetricUnit
    public var numerator: String
    public var denominator: String
    public var ratio: MedianRatio
}

/// Statistics over the measured (not warm-up), successful samples.
public struct ComparisonSummary: Sendable, Codable, Equatable {
    public var contenders: [ContenderSummary]
    public var ratios: [RatioSummary]

    /// Phases in the order they happen, then whole-run and memory metrics.
    public static let metricOrder: [Metric] = [
        .created, .started, .spawned, .firstOutput, .ready, .allReady, .pss, .rss, .guestUsed, .cgroupUsage,
        .monitorPSS, .daemonPSS,
    ]

    /// `roles` says which contender plays which role; the declared ratios
    /// whose two roles both ran are reported.
    public init(
        samples: [InstanceSample], contenders: [String], roles: [String: ContenderRole],
        ratios declarations: [RatioDeclaration] = RatioDeclaration.standard, bootstrap: BootstrapSettings = .default
    ) {
        let measured = samples.filter { !$0.warmup }
        func values(of metric: Metric, for contender: String) -> [Double] {
            Self.values(of: metric, for: contender, in: measured)
        }
        self.contenders = contenders.map { name in
            let own = measured.filter { $0.contender == name }
            var failures: [String: Int] = [:]
            for sample in own where !sample.ok { failures[sample.failure ?? "unknown", default: 0] += 1 }
            let metrics = Self.metricOrder.compactMap { metric -> MetricSummary? in
                let values = values(of: metric, for: name)
                guard !values.isEmpty else { return nil }
                return MetricSummary(metric: metric, summary: SampleSummary(samples: values, bootstrap: bootstrap))
            }
            let failed = own.filter { !$0.ok }.count
            return ContenderSummary(
                name: name, instances: own.count, failed: failed, failures: failures, metrics: metrics)
        }
        let byRole = { (role: ContenderRole) in contenders.first { roles[$0] == role } }
        let pairs = declarations.flatMap { declaration in
            contenders.filter { roles[$0] == declaration.numerator }.map { (declaration, $0) }
        }
        ratios = pairs.compactMap { declaration, numerator in
            guard let denominator = byRole(declaration.denominator),
                let ratio = MedianRatio(
                    numerator: values(of: declaration.metric, for: numerator),
                    denominator: values(of: declaration.metric, for: denominator), bootstrap: bootstrap)
            else { return nil }
            return RatioSummary(
                metric: declaration.metric.name, unit: declaration.metric.unit, numerator: numerator,
                denominator: denominator,
                ratio: ratio)
        }
    }

    /// The values of a metric of one contender in `samples` (successful
    /// ones): one per instance, except all-ready, which is one figure per
    /// run although every instance of the run carries it; counting it once
    /// per instance would give `--concurrency c` runs c times their weight.
    public static func values(of metric: Metric, for contender: String, in samples: [InstanceSample]) -> [Double] {
        let own = samples.filter { $0.ok && $0.contender == contender }
        guard metric == .allReady else { return own.compactMap { value(of: metric, in: $0) } }
        var seenRuns = Set<Int>()
        return own.compactMap { sample in
            guard let value = sample.allReadySeconds, seenRuns.insert(sample.run).inserted else { return nil }
            return value
        }
    }

    /// A sample's value of a metric: a phase offset, the run's all-ready
    /// time, or a memory reading (as a Double of bytes).
    public static func value(of metric: Metric, in sample: InstanceSample) -> Double? {
        if metric == .allReady { return sample.allReadySeconds }
        switch metric.unit {
        case .seconds: return sample.phases[metric.name]
        case .bytes: return sample.footprint[metric.name].map { Double($0) }
        }
    }

    public func contender(_ name: String) -> ContenderSummary? {
        contenders.first { $0.name == name }
    }
}
