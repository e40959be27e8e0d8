import Compare
import Foundation
import MVMCore

/// Everything a nightly job produced, as the terminal table, the JSON
/// export, the HTML report and the Prometheus textfile show it.
public struct NightlyOutcome: Sendable, Codable, Equatable {
    public var run: RunHeader
    public var host: HostIdentity
    public var plan: PlanIdentity
    public var conditions: HostConditions
    public var baseline: String
    public var verdicts: [SeriesVerdict]
    /// One per verdict, same order: what the report draws.
    public var trends: [SeriesTrend]
    public var comparison: ComparisonReport
    /// Why the job failed (exit status 2); empty when it did not.
    public var failures: [String]
    public var exitStatus: Int32
    /// For each contender a verdict fired on (or a step persists on), the
    /// step-by-step difference between this run's trace and its baseline's.
    public var traceDifferences: [TracedDifference]?

    public init(
        run: RunHeader, host: HostIdentity, plan: PlanIdentity, conditions: HostConditions, baseline: String,
        verdicts: [SeriesVerdict], trends: [SeriesTrend], comparison: ComparisonReport, failures: [String],
        exitStatus: Int32
    ) {
        self.run = run
        self.host = host
        self.plan = plan
        self.conditions = conditions
        self.baseline = baseline
        self.verdicts = verdicts
        self.trends = trends
        self.comparison = comparison
        self.failures = failures
        self.exitStatus = exitStatus
    }

    public var regressions: [SeriesVerdict] { verdicts.filter(\.isRegression) }
}

/// Where a contender's time moved between a baseline run's traced start
/// and this run's: the regression traced to a layer and a step.
public struct TracedDifference: Sendable, Codable, Equatable {
    public var contender: String
    /// The run whose trace is the baseline (the newest of the verdict's baseline runs).
    public var baselineRunID: String
    public var difference: TraceDifference

    public init(contender: String, baselineRunID: String, difference: TraceDifference) {
        self.contender = contender
        self.baselineRunID = baselineRunID
        self.difference = difference
    }

    /// "vm: against run X, libvirt … 150 → 310 ms; kernel gap before … +80 ms".
    public var sentence: String {
        var text = "\(contender): against run \(baselineRunID)'s trace, "
        if let layer = difference.largestLayerChange {
            text +=
                "the \(layer.layer.rawValue) layer moved most (\(formatDecimal(layer.baseline * 1000, places: 0)) → \(formatDecimal(layer.current * 1000, places: 0)) ms); "
        }
        return text + "steps: " + difference.summary(steps: 3)
    }
}

/// A series over time, for the trend chart and the distribution chart.
public struct SeriesTrend: Sendable, Codable, Equatable {
    public var series: SeriesKey
    /// Oldest first; the new run last (`isNew`).
    public var points: [TrendPoint]
    /// Run ids where a change point starts a new segment.
    public var changePointRunIDs: [String]
    /// Where the stack changed from one run to the next.
    public var stackChanges: [StackChangeMarker]
    /// The baseline runs' median medians, and the band the noise floor
    /// allows around it; nil while warming.
    public var band: BaselineBand?
    /// Raw samples: every baseline run's, and the new run's.
    public var baselineSamples: [Double]
    public var newSamples: [Double]

    public init(
        series: SeriesKey, points: [TrendPoint], changePointRunIDs: [String], stackChanges: [StackChangeMarker],
        band: BaselineBand?, baselineSamples: [Double], newSamples: [Double]
    ) {
        self.series = series
        self.points = points
        self.changePointRunIDs = changePointRunIDs
        self.stackChanges = stackChanges
        self.band = band
        self.baselineSamples = baselineSamples
        self.newSamples = newSamples
    }
}

public struct TrendPoint: Sendable, Codable, Equatable {
    public var runID: String
    public var startedAt: Date
    public var median: Double
    public var low: Double
    public var high: Double
    public var isNew: Bool
    public var inBaseline: Bool
    /// Partial or failed: drawn hollow, never in a baseline.
    public var good: Bool

    public init(
        runID: String, startedAt: Date, median: Double, low: Double, high: Double, isNew: Bool, inBaseline: Bool,
        good: Bool
    ) {
        self.runID = runID
        self.startedAt = startedAt
        self.median = median
        self.low = low
        self.high = high
        self.isNew = isNew
        self.inBaseline = inBaseline
        self.good = good
    }
}

public struct StackChangeMarker: Sendable, Codable, Equatable {
    /// The first run on the new stack.
    public var runID: String
    public var changes: [String]

    public init(runID: String, changes: [String]) {
        self.runID = runID
        self.changes = changes
    }
}

public struct BaselineBand: Sendable, Codable, Equatable {
    public var median: Double
    public var low: Double
    public var high: Double

    public init(median: Double, low: Double, high: Double) {
        self.median = median
        self.low = low
        self.high = high
    }
}

extension SeriesEvidence {
    /// The trend the report draws for this series, with the new run last.
    public func trend(newRun: RunHeader, verdict: SeriesVerdict, settings: VerdictSettings) -> SeriesTrend {
        let baselineIDs = Set(verdict.baselineRunIDs)
        var points = history.map {
            TrendPoint(
                runID: $0.run.id, startedAt: $0.run.startedAt, median: $0.values.median, low: $0.values.low,
                high: $0.values.high,
                isNew: false, inBaseline: baselineIDs.contains($0.run.id), good: $0.run.isGood)
        }
        points.append(
            TrendPoint(
                runID: newRun.id, startedAt: newRun.startedAt, median: new.median, low: new.low, high: new.high,
                isNew: true,
                inBaseline: false, good: newRun.isGood))
        let good = points.filter(\.good)
        let changes = changePoints(in: good.map(\.median), settings: settings.changePoints).map { good[$0.index].runID }
        var stacks = history.map { ($0.run.id, $0.run.stack) }
        stacks.append((newRun.id, newStack))
        var markers: [StackChangeMarker] = []
        for (before, after) in zip(stacks, stacks.dropFirst()) {
            let changes = after.1.changes(since: before.1)
            if !changes.isEmpty { markers.append(StackChangeMarker(runID: after.0, changes: changes)) }
        }
        let band = verdict.baselineMedian.map { center in
            let floor = settings.floor(for: series)
            let width = max(floor.relative * abs(center), floor.absolute)
            return BaselineBand(median: center, low: center - width, high: center + width)
        }
        let baselineSamples = history.filter { baselineIDs.contains($0.run.id) }.flatMap(\.values.samples)
        return SeriesTrend(
            series: series, points: points, changePointRunIDs: changes, stackChanges: markers, band: band,
            baselineSamples: baselineSamples, newSamples: new.samples)
    }
}
