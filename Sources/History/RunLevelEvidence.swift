import Compare
import Foundation
import MVMCore

extension SeriesVerdict {
    /// A one-night candidate that a confirmation batch must still agree with.
    public var awaitsConfirmation: Bool {
        explainsStep && confirmationMedian == nil
    }

    mutating func fill(_ change: LevelChange, baselineRunIDs: [String], stepRunID: String?) {
        rule = change.rule
        self.baselineRunIDs = baselineRunIDs
        baselineMedian = change.level
        relativeChange = change.relative
        score = change.score
        nights = change.nights
        self.stepRunID = stepRunID
    }
}

/// What the run-level rules see of a series.
struct RunLevelEvidence {
    var spread: Double
    /// The `night` and `nights` rules' threshold, t-adjusted for the
    /// spread's degrees of freedom.
    var threshold: Double
    /// The `change-point` rule's, adjusted the same way.
    var changePointThreshold: Double
    var candidates: [LevelChange]
    /// The level change at each change point of the segment.
    var steps: [LevelChange]

    func threshold(for rule: VerdictRule) -> Double {
        rule == .changePoint ? changePointThreshold : threshold
    }
}

/// One candidate change of level, in logarithms of run medians.
struct LevelChange {
    var rule: VerdictRule
    /// Index of the first night at the new level.
    var start: Int
    var nights: Int
    var baseline: Range<Int>
    /// The baseline's geometric mean.
    var level: Double
    var difference: Double
    var relative: Double
    var score: Double
    /// For a `nights` window, every night beyond the old level by the margin.
    var isPersistent: Bool
    var passesFloor: Bool
}
