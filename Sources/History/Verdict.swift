import Compare
import Foundation

/// What a nightly job concludes about one series.
public enum Decision: String, Sendable, Codable, CaseIterable {
    /// No change past the noise floor, or nothing significant.
    case ok
    /// A contender got slower or bigger: exit status 1.
    case regression
    /// A contender got faster or smaller.
    case improvement
    /// A ratio of two contenders moved. A ratio has no worse direction of
    /// its own (`vm/container` rises when the container gets faster), so it
    /// never sets the exit status: the contender series under it do.
    case changed
    /// The level moved past the noise floor (a change point in the run
    /// medians) but the evidence is not yet strong enough for a verdict. It
    /// stays this until it becomes a regression, an improvement or a change,
    /// or a person annotates it; it is never silently made the new baseline.
    case unexplainedStep = "unexplained-step"
    /// Looked like a change on one night, but the confirmation batch did not
    /// agree.
    case unconfirmed
    /// Fewer than the minimum baseline runs since the last change: reported,
    /// no verdict.
    case warming

    /// "unexplained step", as people read it.
    public var label: String { rawValue.replacingOccurrences(of: "-", with: " ") }

    /// What a change past every test means for a series: a ratio changed; a
    /// contender regressed when its value grew, else improved.
    static func forChange(of series: SeriesKey, growing: Bool) -> Decision {
        series.isRatio ? .changed : (growing ? .regression : .improvement)
    }
}

/// Which rule decided a series' verdict; every verdict names one.
public enum VerdictRule: String, Sendable, Codable, CaseIterable {
    /// Too few good runs since the last explained change to judge.
    case warming
    /// The change is under the noise floor.
    case noiseFloor = "noise-floor"
    /// Past the floor, but within the night-to-night spread of run medians.
    case spread
    /// Tonight's median against the baseline's run medians, then a
    /// confirmation batch.
    case night
    /// The last few nights together against the runs before them: a step
    /// that persists becomes a verdict within a few nights.
    case nights
    /// A change point in the run medians, older than the nights window: all
    /// the nights since it against the runs before it.
    case changePoint = "change-point"
    /// A fixed baseline (a label or a run): pooled samples, permutation test
    /// and Benjamini-Hochberg, for A/B runs measured under the same
    /// conditions.
    case samples
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

/// The rules of a verdict. The automatic baseline's defaults were chosen by
/// `mvm-verdict-simulation` (BENCHMARKS.md, "Verdicts: measured error
/// rates"): on 15 series with 3 % drift and 5 % noise, fewer than 5 nights in
/// 1,000 exit 1, and a +10 % step is caught within three nights in 80 % of
/// cases once the history is long. The floors are Firecracker's 5 % for
/// times, 2 % and 4 MiB for memory.
public struct VerdictSettings: Sendable, Codable, Equatable {
    public var timeFloor = NoiseFloor(relative: 0.05)
    public var memoryFloor = NoiseFloor(relative: 0.02, absolute: 4 * 1024 * 1024)
    public var ratioFloor = NoiseFloor(relative: 0.05)
    /// Per contender metric name ("ready", "pss"): replaces the floor of its
    /// unit. Ratio series keep `ratioFloor`: a floor in bytes means nothing
    /// for a ratio.
    public var metricFloors: [String: NoiseFloor] = [:]
    /// Run medians whose mean is the baseline level: a long baseline keeps
    /// one unlucky stretch of nights from shifting every later night's score.
    public var baselineRuns = 60
    public var minimumBaselineRuns = 5
    /// Run medians (the newest good ones) whose successive differences give
    /// the night-to-night spread.
    public var spreadRuns = 90
    /// Until a history is long, its spread is uncertain. It is moderated
    /// toward the series' noise floor (5 % for times) as if that had been
    /// seen over this many degrees of freedom (limma's moderated variance,
    /// Smyth 2004): a young history neither trusts a spread from six nights
    /// alone nor needs a 14-sigma change to convict. Past a few weeks the
    /// history's own spread dominates.
    public var priorSpreadDegrees = 4.0
    /// The prior spread as a share of the noise floor.
    public var priorSpreadShare = 1.0
    /// The spread is never taken below this share of the level (1 %), so a
    /// history that happens to be very steady does not turn every wobble
    /// into a large score.
    public var spreadFloor = 0.01
    /// The longest run of newest nights tested together (`nights` rule).
    public var nightsWindow = 3
    /// The one-sided normal quantile a level change must pass; with few runs
    /// behind the spread, the matching Student's t quantile is used.
    public var threshold = 3.35
    /// The `nights` rule asks every night of its window to lie beyond the
    /// old level by this share of the noise floor.
    public var persistenceMargin = 0.5
    /// The `change-point` rule's threshold, in the same units: higher,
    /// because the change point was placed where the split looks largest.
    public var changePointThreshold = 4.0
    /// What the change must still pass with the confirmation batch in
    /// tonight's place. It guards against a bad batch, not against the
    /// night's conditions, which the batch shares.
    public var confirmationThreshold = 3.35
    /// Change points of the run medians: E-divisive with Student's t, as
    /// Apache Otava finds them. Mark unexplained steps and anchor the
    /// `change-point` rule.
    public var changePoints = ChangePointSettings()
    /// Fixed baselines (`samples` rule) only.
    public var robustZThreshold = 5.0
    public var madFloorFraction = 0.01
    public var resamples = 9_999
    /// Means, as Firecracker does: with 5 new samples the difference of
    /// medians cannot reach p < 0.01 (see `PermutationStatistic`).
    public var permutationStatistic = PermutationStatistic.mean
    public var seed: UInt64 = 0x6D_766D
    public var falseDiscoveryRate = 0.01

    public init() {}

    public func floor(for series: SeriesKey) -> NoiseFloor {
        if !series.isRatio, let floor = metricFloors[series.metric] { return floor }
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
    /// The rule that decided; nil only in verdicts recorded before rules
    /// were named.
    public var rule: VerdictRule?
    /// The runs the baseline was made of (ids, oldest first).
    public var baselineRunIDs: [String]
    /// The baseline's level: the geometric mean of its run medians (the
    /// run-level rules), or the median of its medians (`samples`).
    public var baselineMedian: Double?
    /// Tonight's median.
    public var newMedian: Double
    /// The change the decision is about, (new level - baseline) / baseline:
    /// tonight's for `night`, the nights' level for `nights` and
    /// `change-point`.
    public var relativeChange: Double?
    /// The level change in units of its standard error (the run-level rules)
    /// or the robust z of tonight's median (`samples`).
    public var score: Double?
    /// The threshold the score was held to.
    public var threshold: Double?
    /// The night-to-night spread of run medians, as a share of the level.
    public var spread: Double?
    /// How many newest nights the evidence spans (1 for `night`).
    public var nights: Int?
    /// The first run at the new level, for a step; nil when it is tonight's.
    public var stepRunID: String?
    /// Permutation p and its Benjamini-Hochberg q (`samples` rule only).
    public var pValue: Double?
    public var qValue: Double?
    /// The confirmation batch's median, when one was measured.
    public var confirmationMedian: Double?
    /// What the stack changed since the last baseline run: "qemu 7.2 → 8.0".
    public var stackChanges: [String]
    /// Why the decision, in a few words.
    public var reason: String

    public init(
        series: SeriesKey, decision: Decision, rule: VerdictRule?, baselineRunIDs: [String], baselineMedian: Double?,
        newMedian: Double, stackChanges: [String], reason: String
    ) {
        self.series = series
        self.decision = decision
        self.rule = rule
        self.baselineRunIDs = baselineRunIDs
        self.baselineMedian = baselineMedian
        self.newMedian = newMedian
        self.stackChanges = stackChanges
        self.reason = reason
    }

    public var isRegression: Bool { decision == .regression }

    /// A verdict that ends a step: the runs from its step on are the new
    /// level, and earlier runs never form a baseline for later ones.
    public var explainsStep: Bool { decision == .regression || decision == .improvement || decision == .changed }
}

/// The baseline a series is judged against.
public enum BaselineChoice: Sendable, Equatable {
    /// The good runs since the last explained step or annotation.
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

/// The exit status of a nightly job: 2 when the job itself failed (it wins),
/// 1 for a regression of a contender, else 0.
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
