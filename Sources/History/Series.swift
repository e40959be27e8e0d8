import Compare
import Foundation
import MVMCore

/// One thing measured night after night: a contender's metric, or a ratio of
/// two contenders' metric, under one host key and one plan.
public struct SeriesKey: Sendable, Codable, Hashable, Comparable {
    public var hostKey: String
    public var planKey: String
    /// A contender name, or "vm/container" for a ratio.
    public var subject: String
    public var metric: String
    public var unit: SeriesUnit

    public init(hostKey: String, planKey: String, subject: String, metric: String, unit: SeriesUnit) {
        self.hostKey = hostKey
        self.planKey = planKey
        self.subject = subject
        self.metric = metric
        self.unit = unit
    }

    public var isRatio: Bool { unit == .ratio }

    /// "vm ready", "vm/container pss".
    public var name: String { "\(subject) \(metric)" }

    public static func < (lhs: SeriesKey, rhs: SeriesKey) -> Bool {
        (lhs.hostKey, lhs.planKey, lhs.subject, lhs.metric) < (rhs.hostKey, rhs.planKey, rhs.subject, rhs.metric)
    }
}

/// Seconds, bytes, or a dimensionless ratio of either.
public enum SeriesUnit: String, Sendable, Codable {
    case seconds
    case bytes
    case ratio

    public init(_ unit: MetricUnit) {
        switch unit {
        case .seconds: self = .seconds
        case .bytes: self = .bytes
        }
    }
}

/// One run's values of one series: its raw samples and their median with
/// the bootstrap interval.
public struct SeriesValues: Sendable, Codable, Equatable {
    public var samples: [Double]
    public var median: Double
    public var low: Double
    public var high: Double

    public init(samples: [Double], median: Double, low: Double, high: Double) {
        self.samples = samples
        self.median = median
        self.low = low
        self.high = high
    }
}

/// What a recorded run says of one series, and the verdict given on it.
public struct SeriesObservation: Sendable, Codable, Equatable {
    public var run: RunHeader
    public var values: SeriesValues
    /// The verdict recorded with the run, if it was judged: the rules read
    /// it to know which steps were already explained.
    public var verdict: SeriesVerdict?

    public init(run: RunHeader, values: SeriesValues, verdict: SeriesVerdict? = nil) {
        self.run = run
        self.values = values
        self.verdict = verdict
    }
}

extension ComparisonReport {
    /// Every series this report measured, with its values: each contender's
    /// metrics, and each declared ratio, whose samples pair the two
    /// contenders' instances of the same run (interleaved runs share the
    /// host's drift, which the ratio then cancels).
    public func seriesValues(hostKey: String, planKey: String) -> [(SeriesKey, SeriesValues)] {
        var result: [(SeriesKey, SeriesValues)] = []
        for contender in summary.contenders {
            for metric in contender.metrics {
                guard let statistics = metric.summary else { continue }
                let samples = measuredValues(of: metric.metric, for: contender.name)
                result.append(
                    (
                        SeriesKey(
                            hostKey: hostKey, planKey: planKey, subject: contender.name, metric: metric.name,
                            unit: SeriesUnit(metric.unit)),
                        SeriesValues(
                            samples: samples, median: statistics.median, low: statistics.medianConfidenceInterval.lower,
                            high: statistics.medianConfidenceInterval.upper)
                    ))
            }
        }
        for ratio in summary.ratios {
            let metric = Metric(ratio.metric, unit: ratio.unit)
            let samples = pairedRatios(of: metric, ratio.numerator, over: ratio.denominator)
            guard !samples.isEmpty else { continue }
            result.append(
                (
                    SeriesKey(
                        hostKey: hostKey, planKey: planKey, subject: "\(ratio.numerator)/\(ratio.denominator)",
                        metric: ratio.metric,
                        unit: .ratio),
                    SeriesValues(
                        samples: samples, median: ratio.ratio.ratio, low: ratio.ratio.interval.lower,
                        high: ratio.ratio.interval.upper)
                ))
        }
        return result
    }

    /// The successful, measured values of one metric of one contender: one
    /// per instance, and for all-ready one per run.
    public func measuredValues(of metric: Metric, for contender: String) -> [Double] {
        ComparisonSummary.values(of: metric, for: contender, in: samples.filter { !$0.warmup })
    }

    private func pairedRatios(of metric: Metric, _ numerator: String, over denominator: String) -> [Double] {
        func byInstance(_ contender: String) -> [String: Double] {
            var values: [String: Double] = [:]
            for sample in samples where sample.ok && !sample.warmup && sample.contender == contender {
                if let value = ComparisonSummary.value(of: metric, in: sample) {
                    values["\(sample.run).\(sample.instance)"] = value
                }
            }
            return values
        }
        let top = byInstance(numerator)
        let bottom = byInstance(denominator)
        return top.keys.sorted().compactMap { key in
            guard let over = top[key], let under = bottom[key], under > 0 else { return nil }
            return over / under
        }
    }
}
