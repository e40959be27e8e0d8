import MVMCore

/// What a metric measures in.
public enum MetricUnit: String, Sendable, Codable {
    case seconds
    case bytes
}

/// The statistics of one metric of one contender; `summary` is nil when no
/// run produced a value.
public struct MetricSummary: Sendable, Codable, Equatable {
    public var name: String
    public var unit: MetricUnit
    public var summary: SampleSummary?
}

public struct ContenderSummary: Sendable, Codable, Equatable {
    public var name: String
    /// Measured instances (warm-up left out).
    public var instances: Int
    public var failed: Int
    /// Failure reasons with how often each occurred.
    public var failures: [String: Int]
    public var metrics: [MetricSummary]

    public func metric(_ name: String) -> MetricSummary? {
        metrics.first { $0.name == name }
    }
}

/// The ratio of two contenders' medians of one metric, with its bootstrap
/// interval: `numerator` / `denominator`.
public struct RatioSummary: Sendable, Codable, Equatable {
    public var metric: String
    public var numerator: String
    public var denominator: String
    public var ratio: MedianRatio
}

/// Statistics over the measured (not warm-up), successful samples.
public struct ComparisonSummary: Sendable, Codable, Equatable {
    public var contenders: [ContenderSummary]
    public var ratios: [RatioSummary]

    /// Phases in the order they happen, then whole-run and memory metrics.
    public static let metricOrder: [(String, MetricUnit)] = [
        (Phase.created.name, .seconds), (Phase.started.name, .seconds), (Phase.spawned.name, .seconds),
        (Phase.firstOutput.name, .seconds), (Phase.ready.name, .seconds), ("all-ready", .seconds),
        (MemoryReading.Name.pss, .bytes), (MemoryReading.Name.rss, .bytes),
        (MemoryReading.Name.guestUsed, .bytes), (MemoryReading.Name.cgroupUsage, .bytes),
    ]

    /// The pairs whose ratio a comparison reports: the micro-VM against its
    /// container, in time to readiness and in memory.
    public static let ratioPairs: [(metric: String, numerator: String, denominator: String)] = [
        (Phase.ready.name, "vm", "container"),
        (MemoryReading.Name.pss, "vm", "container"),
    ]

    public init(samples: [InstanceSample], contenders: [String], bootstrap: BootstrapSettings = .default) {
        let measured = samples.filter { !$0.warmup }
        self.contenders = contenders.map { name in
            let own = measured.filter { $0.contender == name }
            let ok = own.filter(\.ok)
            var failures: [String: Int] = [:]
            for sample in own where !sample.ok { failures[sample.failure ?? "unknown", default: 0] += 1 }
            let metrics = Self.metricOrder.compactMap { metric, unit -> MetricSummary? in
                let values = ok.compactMap { Self.value(of: metric, in: $0) }
                guard !values.isEmpty else { return nil }
                return MetricSummary(name: metric, unit: unit, summary: SampleSummary(samples: values, bootstrap: bootstrap))
            }
            return ContenderSummary(
                name: name, instances: own.count, failed: own.count - ok.count, failures: failures, metrics: metrics)
        }
        ratios = Self.ratioPairs.compactMap { pair in
            let numerator = measured.filter { $0.ok && $0.contender == pair.numerator }.compactMap { Self.value(of: pair.metric, in: $0) }
            let denominator = measured.filter { $0.ok && $0.contender == pair.denominator }.compactMap { Self.value(of: pair.metric, in: $0) }
            guard let ratio = MedianRatio(numerator: numerator, denominator: denominator, bootstrap: bootstrap) else { return nil }
            return RatioSummary(metric: pair.metric, numerator: pair.numerator, denominator: pair.denominator, ratio: ratio)
        }
    }

    /// A sample's value of a metric: a phase offset, the run's all-ready
    /// time, or a memory reading (as a Double of bytes).
    public static func value(of metric: String, in sample: InstanceSample) -> Double? {
        if metric == "all-ready" { return sample.allReadySeconds }
        if let seconds = sample.phases[metric] { return seconds }
        return sample.footprint[metric].map { Double($0) }
    }

    public func contender(_ name: String) -> ContenderSummary? {
        contenders.first { $0.name == name }
    }
}
