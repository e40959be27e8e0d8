import Compare
import Foundation

/// What a nightly job concludes about one series.
public enum Decision: String, Sendable, Codable, CaseIterable {
    /// No change past the noise floor, or nothing significant.
    case ok
    /// Slower or bigger, confirmed by a second batch.
    case regression
    /// Faster or smaller, confirmed by a second batch.
    case improvement
    /// Looked like a change, but the confirmation batch did not agree.
    case unconfirmed
    /// Fewer than the minimum baseline runs since the last change: reported,
    /// no verdict.
    case warming
}

/// How far a series must move before it counts: more than `relative` of the
/// baseline median, and at least `absolute` in the series' own unit.
public struct NoiseFloor: Sendable, Codable, Equatable {
    public var relative: Double
    public var absolute: Double

    public init(relative: Double, absolute: Double = 0) {
        self.relative = relative
        self.absolute = absolute
    }

    public func isExceeded(by change: Double, baseline: Double) -> Bool {
        abs(change) > relative * abs(baseline) && abs(change) >= absolute
    }
}

/// The rules of a verdict. The defaults are the issue's: Firecracker's 5 %
/// floor for times, 2 % and 4 MiB for memory, a robust z above 5, a
/// permutation test at false discovery rate 1 %.
public struct VerdictSettings: Sendable, Codable, Equatable {
    public var timeFloor = NoiseFloor(relative: 0.05)
    public var memoryFloor = NoiseFloor(relative: 0.02, absolute: 4 * 1024 * 1024)
    public var ratioFloor = NoiseFloor(relative: 0.05)
    /// Per metric name ("ready", "pss"): replaces the floor of its unit.
    public var metricFloors: [String: NoiseFloor] = [:]
    public var robustZThreshold = 5.0
    /// The MAD of the baseline medians is floored at this share of their
    /// median, so a baseline that happens to be very steady does not turn
    /// every wobble into a large z.
    public var madFloorFraction = 0.01
    public var resamples = 9_999
    /// Means, as Firecracker does: with 5 new samples the difference of
    /// medians cannot reach p < 0.01 (see `PermutationStatistic`). The
    /// medians still decide the floor and the robust z.
    public var permutationStatistic = PermutationStatistic.mean
    public var seed: UInt64 = 0x6D_766D
    public var falseDiscoveryRate = 0.01
    public var baselineRuns = 10
    public var minimumBaselineRuns = 5
    public var changePoints = ChangePointSettings()

    public init() {}

    public func floor(for series: SeriesKey) -> NoiseFloor {
        if let floor = metricFloors[series.metric] { return floor }
        switch series.unit {
        case .seconds: return timeFloor
        case .bytes: return memoryFloor
        case .ratio: return ratioFloor
        }
    }
}

/// The verdict on one series, with every figure it rests on.
public struct SeriesVerdict: Sendable, Codable, Equatable {
    public var series: SeriesKey
    public var decision: Decision
    /// The runs the baseline was made of (ids, oldest first).
    public var baselineRunIDs: [String]
    public var baselineMedian: Double?
    public var newMedian: Double
    /// (new - baseline) / baseline.
    public var relativeChange: Double?
    public var robustZ: Double?
    public var pValue: Double?
    /// Benjamini-Hochberg adjusted p across the run's series.
    public var qValue: Double?
    /// The confirmation batch's median, when one was measured.
    public var confirmationMedian: Double?
    /// What the stack changed since the last baseline run: "qemu 7.2 → 8.0".
    public var stackChanges: [String]
    /// Why the decision, in a few words.
    public var reason: String

    public var isRegression: Bool { decision == .regression }
}

/// The baseline a series is judged against.
public enum BaselineChoice: Sendable, Equatable {
    /// The last good runs since the last change point or annotation.
    case automatic
    /// Runs recorded with this label, however many.
    case label(String)
    /// One recorded run.
    case run(String)

    public init(argument: String) {
        if argument == "auto" {
            self = .automatic
        } else if argument.range(of: #"^\d{8}T\d{6}Z-[0-9a-f]{6}$"#, options: .regularExpression) != nil {
            self = .run(argument)
        } else {
            self = .label(argument)
        }
    }
}

/// A series' earlier runs and the new run's values, ready to be judged.
public struct SeriesEvidence: Sendable {
    public var series: SeriesKey
    /// Oldest first; every recorded run of the series before the new one.
    public var history: [SeriesObservation]
    public var annotations: [Annotation]
    public var new: SeriesValues
    public var newStack: StackFacts

    public init(series: SeriesKey, history: [SeriesObservation], annotations: [Annotation], new: SeriesValues, newStack: StackFacts) {
        self.series = series
        self.history = history
        self.annotations = annotations
        self.new = new
        self.newStack = newStack
    }

    /// The runs that form the baseline.
    public func baseline(_ choice: BaselineChoice, settings: VerdictSettings) -> [SeriesObservation] {
        switch choice {
        case .label(let label): return history.filter { $0.run.isGood && $0.run.label == label }
        case .run(let id): return history.filter { $0.run.id == id }
        case .automatic:
            var good = history.filter(\.run.isGood)
            if let lastChange = changePoints(in: good.map(\.values.median), settings: settings.changePoints).last {
                good = Array(good[lastChange.index...])
            }
            let resets = annotations.filter { $0.subject == nil || series.subject.split(separator: "/").contains(Substring($0.subject ?? "")) }
            if let lastReset = resets.map(\.at).max() {
                good = good.filter { $0.run.startedAt > lastReset }
            }
            return Array(good.suffix(settings.baselineRuns))
        }
    }
}

/// Judges every series of a run together (the permutation p-values are
/// corrected across them), then applies the confirmation batch.
public struct VerdictEngine: Sendable {
    public var settings: VerdictSettings
    public var choice: BaselineChoice

    public init(settings: VerdictSettings = VerdictSettings(), choice: BaselineChoice = .automatic) {
        self.settings = settings
        self.choice = choice
    }

    /// First pass: every test but the confirmation. A series whose decision
    /// is `regression` or `improvement` here is a candidate that a
    /// confirmation batch must still agree with (`confirm`).
    public func judge(_ evidence: [SeriesEvidence]) -> [SeriesVerdict] {
        var verdicts: [SeriesVerdict] = []
        var testedIndices: [Int] = []
        var pValues: [Double] = []
        for item in evidence {
            let baseline = item.baseline(choice, settings: settings)
            var verdict = SeriesVerdict(
                series: item.series, decision: .ok, baselineRunIDs: baseline.map(\.run.id), baselineMedian: nil,
                newMedian: item.new.median, relativeChange: nil, robustZ: nil, pValue: nil, qValue: nil, confirmationMedian: nil,
                stackChanges: baseline.last.map { item.newStack.changes(since: $0.run.stack) } ?? [], reason: "")
            let automaticTooFew = choice == .automatic && baseline.count < settings.minimumBaselineRuns
            guard !baseline.isEmpty, !automaticTooFew else {
                verdict.decision = .warming
                verdict.reason = "\(baseline.count) of \(settings.minimumBaselineRuns) baseline runs"
                verdicts.append(verdict)
                continue
            }
            let medians = baseline.map(\.values.median)
            if let baselineMedian = median(medians) {
                verdict.baselineMedian = baselineMedian
                verdict.relativeChange = baselineMedian == 0 ? nil : (item.new.median - baselineMedian) / baselineMedian
            }
            verdict.robustZ = robustZ(item.new.median, reference: medians, madFloorFraction: settings.madFloorFraction)
            if let test = permutationTest(
                candidate: item.new.samples, reference: baseline.flatMap(\.values.samples), resamples: settings.resamples,
                seed: settings.seed, statistic: settings.permutationStatistic)
            {
                verdict.pValue = test.pValue
                testedIndices.append(verdicts.count)
                pValues.append(test.pValue)
            }
            verdicts.append(verdict)
        }
        for (index, q) in zip(testedIndices, benjaminiHochbergAdjusted(pValues)) { verdicts[index].qValue = q }
        for index in verdicts.indices where verdicts[index].decision != .warming {
            decide(&verdicts[index])
        }
        return verdicts
    }

    private func decide(_ verdict: inout SeriesVerdict) {
        guard let baseline = verdict.baselineMedian else { return }
        let change = verdict.newMedian - baseline
        let floor = settings.floor(for: verdict.series)
        guard floor.isExceeded(by: change, baseline: baseline) else {
            verdict.reason = "under the noise floor (\(percent(floor.relative)))"
            return
        }
        guard let z = verdict.robustZ, abs(z) > settings.robustZThreshold else {
            verdict.reason = "within the baseline's spread (|z| ≤ \(settings.robustZThreshold.formatted()))"
            return
        }
        guard let q = verdict.qValue, q <= settings.falseDiscoveryRate else {
            verdict.reason = "not significant (q > \(settings.falseDiscoveryRate.formatted()))"
            return
        }
        verdict.decision = change > 0 ? .regression : .improvement
        verdict.reason = "candidate: awaiting confirmation"
    }

    /// Second pass: a candidate stands only if the confirmation batch,
    /// measured right after, moved the same way past the noise floor and
    /// the baseline's spread. `confirmation` holds the batch's values by
    /// series; a candidate without them is left unconfirmed.
    public func confirm(_ verdicts: [SeriesVerdict], with confirmation: [SeriesKey: SeriesValues], evidence: [SeriesEvidence]) -> [SeriesVerdict] {
        verdicts.map { verdict in
            guard verdict.decision == .regression || verdict.decision == .improvement, let baseline = verdict.baselineMedian else {
                return verdict
            }
            var verdict = verdict
            guard let values = confirmation[verdict.series] else {
                verdict.decision = .unconfirmed
                verdict.reason = "no confirmation batch"
                return verdict
            }
            verdict.confirmationMedian = values.median
            let medians = evidence.first { $0.series == verdict.series }.map {
                $0.baseline(choice, settings: settings).map(\.values.median)
            } ?? []
            let change = values.median - baseline
            let sameDirection = (change > 0) == (verdict.newMedian > baseline)
            let z = robustZ(values.median, reference: medians, madFloorFraction: settings.madFloorFraction) ?? 0
            if sameDirection && settings.floor(for: verdict.series).isExceeded(by: change, baseline: baseline)
                && abs(z) > settings.robustZThreshold
            {
                verdict.reason = "confirmed (second batch \(signedPercent(change / baseline)))"
            } else {
                verdict.decision = .unconfirmed
                verdict.reason = "second batch disagreed (\(signedPercent(change / baseline)))"
            }
            return verdict
        }
    }
}

/// The exit status of a nightly job: 2 when the job itself failed (it wins),
/// 1 for a confirmed regression, else 0.
public func nightlyExitStatus(verdicts: [SeriesVerdict], jobFailed: Bool) -> Int32 {
    if jobFailed { return 2 }
    return verdicts.contains(where: \.isRegression) ? 1 : 0
}

func percent(_ fraction: Double) -> String {
    String(format: "%.0f %%", fraction * 100)
}

public func signedPercent(_ fraction: Double) -> String {
    String(format: "%+.1f %%", fraction * 100)
}
