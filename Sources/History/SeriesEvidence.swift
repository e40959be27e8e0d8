import Compare
import Foundation

/// A series' earlier runs and the new run's values, ready to be judged.
public struct SeriesEvidence: Sendable {
    public var series: SeriesKey
    /// Oldest first; every recorded run of the series before the new one,
    /// with the verdict given on it.
    public var history: [SeriesObservation]
    public var annotations: [Annotation]
    public var new: SeriesValues
    public var newStack: StackFacts

    public init(
        series: SeriesKey, history: [SeriesObservation], annotations: [Annotation], new: SeriesValues,
        newStack: StackFacts
    ) {
        self.series = series
        self.history = history
        self.annotations = annotations
        self.new = new
        self.newStack = newStack
    }

    /// The annotations that concern this series: those of every series, of
    /// its contender, and for a ratio those of either contender or of the
    /// ratio itself ("vm/container").
    public var resets: [Annotation] {
        annotations.filter { annotation in
            guard let subject = annotation.subject else { return true }
            if subject == series.subject { return true }
            return series.isRatio && series.subject.split(separator: "/").contains(Substring(subject))
        }
    }

    /// The good runs since the last explained change, oldest first: after
    /// the newest annotation that concerns the series, and from the step of
    /// the newest verdict that explained one (a regression, improvement or
    /// change). A change point alone never starts a segment: a step nobody
    /// explained stays in it, so the rules keep judging it.
    public func segment() -> [SeriesObservation] {
        var good = history.filter(\.run.isGood)
        if let lastReset = resets.map(\.at).max() {
            good = good.filter { $0.run.startedAt > lastReset }
        }
        if let last = good.lastIndex(where: { $0.verdict?.explainsStep == true }) {
            // Run ids sort by time, so a step run that is not good itself
            // (it cannot be: verdicts are given on the run they judge, but a
            // merged history may differ) starts at the next good one.
            let start = good[last].verdict?.stepRunID.flatMap { id in good.firstIndex { $0.run.id >= id } } ?? last
            good = Array(good[min(start, last)...])
        }
        return good
    }

    /// The runs of a fixed baseline: good runs with the label, or the run.
    public func fixedBaseline(_ choice: BaselineChoice) -> [SeriesObservation] {
        switch choice {
        case .label(let label): history.filter { $0.run.isGood && $0.run.label == label }
        case .run(let id): history.filter { $0.run.isGood && $0.run.id == id }
        case .automatic: segment()
        }
    }

    /// The good runs whose successive differences give the night-to-night
    /// spread: the newest `spreadRuns`, across explained steps too (a step
    /// adds one large difference only).
    func spreadRuns(_ settings: VerdictSettings) -> [SeriesObservation] {
        Array(history.filter(\.run.isGood).suffix(settings.spreadRuns))
    }
}
