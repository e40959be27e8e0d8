import Foundation
import MVMCore

/// One metric of an A/B run: A's and B's means, and whether B differs by
/// more than the noise threshold with a permutation test's confidence.
/// Firecracker's A/B tests judge the same way: a difference of means, a
/// permutation test (9,999 resamples, p < 0.01), and a relative threshold
/// under which a difference is noise whatever its p.
public struct ABMetricResult: Sendable, Codable, Equatable {
    public enum Outcome: String, Sendable, Codable {
        /// B is slower or bigger.
        case regression
        /// B is faster or smaller.
        case improvement
        /// No difference past the threshold with p < alpha.
        case same
    }

    public var metric: String
    public var unit: MetricUnit
    public var meanA: Double
    public var meanB: Double
    public var samplesA: Int
    public var samplesB: Int
    /// (mean B − mean A) / mean A.
    public var relativeChange: Double
    public var pValue: Double
    /// The relative change under which a difference is noise.
    public var threshold: Double
    public var outcome: Outcome

    /// "B is 23.4 % faster (p = 0.0001)", "no difference past 5 % (B 1.2 % slower, p = 0.31)".
    public var sentence: String {
        let percent = formatDecimal(abs(relativeChange) * 100, places: 1)
        let word =
            switch unit {
            case .seconds: relativeChange > 0 ? "slower" : "faster"
            case .bytes: relativeChange > 0 ? "bigger" : "smaller"
            }
        let p = pValue < 0.001 ? "p < 0.001" : "p = " + ABAnalysis.formatP(pValue)
        switch outcome {
        case .regression, .improvement: return "B is \(percent) % \(word) (\(p))"
        case .same:
            return
                "no difference past \(formatDecimal(threshold * 100, places: 1)) % (B \(percent) % \(word), \(p))"
        }
    }
}

/// Judges an A/B run's samples, metric by metric.
public enum ABAnalysis {
    public static let defaultThreshold = 0.05
    public static let alpha = 0.01
    public static let resamples = 9_999

    /// The smallest p a two-sided permutation test of `runs` samples a side
    /// can give: 2 of the C(2n, n) ways to split the pooled samples are as
    /// extreme as the real split, when the sides do not overlap at all.
    public static func smallestPValue(runs: Int) -> Double {
        guard runs > 0 else { return 1 }
        var splits = 1.0
        for k in 0..<runs { splits = splits * Double(2 * runs - k) / Double(k + 1) }
        return min(1, 2 / splits)
    }

    /// The fewest runs a side for which a difference can reach p < alpha.
    public static var fewestRuns: Int {
        (1...100).first { smallestPValue(runs: $0) < alpha } ?? 100
    }

    /// Every metric both sides have (successful, measured samples), in the
    /// report's order. `thresholds` overrides the 5 % by metric name.
    public static func analyze(
        samples: [InstanceSample], a: String, b: String, thresholds: [String: Double] = [:],
        seed: UInt64 = BootstrapSettings.defaultSeed
    ) -> [ABMetricResult] {
        let measured = samples.filter { !$0.warmup }
        return ComparisonSummary.metricOrder.compactMap { metric in
            let valuesA = ComparisonSummary.values(of: metric, for: a, in: measured)
            let valuesB = ComparisonSummary.values(of: metric, for: b, in: measured)
            guard valuesA.count >= 2, valuesB.count >= 2,
                let test = permutationTest(
                    candidate: valuesB, reference: valuesA, resamples: resamples, seed: seed, statistic: .mean)
            else { return nil }
            let meanA = valuesA.reduce(0, +) / Double(valuesA.count)
            let meanB = valuesB.reduce(0, +) / Double(valuesB.count)
            guard meanA > 0 else { return nil }
            let change = (meanB - meanA) / meanA
            let threshold = thresholds[metric.name] ?? defaultThreshold
            let outcome: ABMetricResult.Outcome =
                test.pValue < alpha && abs(change) > threshold ? (change > 0 ? .regression : .improvement) : .same
            return ABMetricResult(
                metric: metric.name, unit: metric.unit, meanA: meanA, meanB: meanB, samplesA: valuesA.count,
                samplesB: valuesB.count, relativeChange: change, pValue: test.pValue, threshold: threshold,
                outcome: outcome)
        }
    }

    public static func formatP(_ p: Double) -> String {
        p < 0.001 ? "< 0.001" : formatDecimal(p, places: 3)
    }
}

/// What `mvm ab` measured and concluded: the two configurations, every
/// sample (as a comparison of two contenders, `A` and `B`), and the
/// verdict of each metric.
public struct ABReport: Sendable, Codable, Equatable {
    public var schema = 1
    /// What each side was, for people ("kernel /x/vmlinux, append noapictimer").
    public var a: [String: String]
    public var b: [String: String]
    public var comparison: ComparisonReport
    public var results: [ABMetricResult]

    public init(a: [String: String], b: [String: String], comparison: ComparisonReport, results: [ABMetricResult]) {
        self.a = a
        self.b = b
        self.comparison = comparison
        self.results = results
    }

    /// True when B regressed in any metric: `mvm ab` exits 1.
    public var bRegressed: Bool { results.contains { $0.outcome == .regression } }

    /// True when a run of either side failed.
    public var hasFailures: Bool { comparison.summary.contenders.contains { $0.failed > 0 } }

    public func jsonData() throws -> Data {
        try mvmJSONData(self)
    }
}
