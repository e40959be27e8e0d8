import Compare
import Foundation

/// Judges every series of a run, then applies the confirmation batch.
///
/// With the automatic baseline (nightly jobs) the unit of evidence is the
/// run median: samples within one run share the night's conditions, so
/// pooling them as if they were independent makes nights that merely differ
/// look significant. On the logarithm of run medians (a step is then the
/// same size at every level), three rules look for a change in level, each
/// holding a standardized level change to one threshold (`threshold`,
/// Student's t when few runs stand behind the spread):
/// - `night`: tonight against the baseline's runs, then a confirmation batch;
/// - `nights`: the last 2 to `nightsWindow` nights together against the runs
///   before them, so that a step that persists becomes a verdict;
/// - `change-point`: the nights since an older change point against the
///   runs before it, so that no step is ever outgrown by the window.
/// A change must also pass the noise floor. A change point past the floor
/// that no rule has yet confirmed is an `unexplained step`. The baseline
/// moves only past a step a verdict explained or a person annotated.
public struct VerdictEngine: Sendable {
    public var settings: VerdictSettings
    public var choice: BaselineChoice

    public init(settings: VerdictSettings = VerdictSettings(), choice: BaselineChoice = .automatic) {
        self.settings = settings
        self.choice = choice
    }

    /// First pass: every rule but the confirmation. A verdict for which
    /// `awaitsConfirmation` holds still needs `confirm`.
    public func judge(_ evidence: [SeriesEvidence]) -> [SeriesVerdict] {
        switch choice {
        case .automatic: evidence.map(judgeRunLevel)
        case .label, .run: judgeFixedBaseline(evidence, settings: settings, choice: choice)
        }
    }

    private func judgeRunLevel(_ item: SeriesEvidence) -> SeriesVerdict {
        let segment = item.segment()
        var verdict = SeriesVerdict(
            series: item.series, decision: .warming, rule: .warming,
            baselineRunIDs: segment.suffix(settings.baselineRuns).map(\.run.id),
            baselineMedian: nil, newMedian: item.new.median,
            stackChanges: segment.last.map { item.newStack.changes(since: $0.run.stack) } ?? [], reason: "")
        let evidence: RunLevelEvidence
        switch runLevelEvidence(item, segment: segment, tonight: item.new.median) {
        case .failure(let why):
            verdict.reason = why.reason
            return verdict
        case .success(let found): evidence = found
        }
        let candidates = evidence.candidates
        verdict.spread = evidence.spread
        verdict.threshold = evidence.threshold
        let runID = { (index: Int) in index < segment.count ? segment[index].run.id : nil }
        let baselineIDs = { (change: LevelChange) in segment[change.baseline].map(\.run.id) }

        let decisive = candidates.filter { change in
            change.passesFloor && change.isPersistent && abs(change.score) > evidence.threshold(for: change.rule)
        }.max { abs($0.score) < abs($1.score) }
        if let decisive {
            let threshold = evidence.threshold(for: decisive.rule)
            verdict.fill(decisive, baselineRunIDs: baselineIDs(decisive), stepRunID: runID(decisive.start))
            verdict.threshold = threshold
            verdict.decision = .forChange(of: item.series, growing: decisive.difference > 0)
            let score = String(format: "score %.1f > %.1f", abs(decisive.score), threshold)
            switch decisive.rule {
            case .night: verdict.reason = "tonight \(signedPercent(decisive.relative)) (\(score))"
            case .changePoint:
                verdict.reason =
                    "a step of \(signedPercent(decisive.relative)) over the \(decisive.nights) nights since a change point (\(score))"
            default:
                verdict.reason =
                    "the last \(decisive.nights) nights together \(signedPercent(decisive.relative)) (\(score))"
            }
            return verdict
        }
        // No rule decided. A change point past the floor is a step that
        // stays on the report until a rule or a person explains it.
        if let step = evidence.steps.filter(\.passesFloor).max(by: { abs($0.score) < abs($1.score) }) {
            verdict.fill(step, baselineRunIDs: baselineIDs(step), stepRunID: runID(step.start))
            verdict.threshold = evidence.changePointThreshold
            verdict.decision = .unexplainedStep
            verdict.reason =
                "a step of \(signedPercent(step.relative)) over \(step.nights) night\(step.nights == 1 ? "" : "s"), "
                + String(
                    format: "not yet significant (score %.1f ≤ %.1f)", abs(step.score), evidence.changePointThreshold)
            return verdict
        }
        verdict.decision = .ok
        guard let night = candidates.first(where: { $0.rule == .night }) else {
            verdict.rule = .spread
            verdict.reason = "no night to compare"
            return verdict
        }
        verdict.fill(night, baselineRunIDs: baselineIDs(night), stepRunID: nil)
        if let strongest = candidates.filter(\.passesFloor).max(by: { abs($0.score) < abs($1.score) }) {
            verdict.rule = .spread
            verdict.reason = String(
                format: "within the night-to-night spread (score %.1f ≤ %.1f)", abs(strongest.score),
                evidence.threshold(for: strongest.rule))
        } else {
            verdict.rule = .noiseFloor
            verdict.reason = "under the noise floor (\(percent(settings.floor(for: item.series).relative)))"
        }
        return verdict
    }

    /// The spread of log run medians from their successive differences,
    /// moderated toward `prior` with `priorSpreadDegrees`, and the degrees
    /// of freedom it carries.
    func moderatedSpread(of levels: [Double], prior: Double) -> (spread: Double, degrees: Double) {
        let priorDegrees = max(0, settings.priorSpreadDegrees)
        guard let own = successiveDifferenceSpread(levels) else { return (prior, max(priorDegrees, 1)) }
        let degrees = successiveDifferenceDegreesOfFreedom(count: levels.count)
        let variance = (priorDegrees * prior * prior + degrees * own * own) / (priorDegrees + degrees)
        return (variance.squareRoot(), priorDegrees + degrees)
    }

    /// The threshold for a spread with `degrees` of freedom: Student's t
    /// quantile with the normal tail of `normal` (default `threshold`).
    func runLevelThreshold(degrees: Double, normal: Double? = nil) -> Double {
        let normal = normal ?? settings.threshold
        return studentTUpperQuantile(normalUpperTail(normal), degreesOfFreedom: degrees) ?? normal
    }

    /// Why a series cannot be judged on run medians.
    struct NotJudged: Error {
        var reason: String
    }

    /// The candidate changes of level of a series, with `tonight` as the
    /// newest median (tonight's run, or the confirmation batch).
    func runLevelEvidence(_ item: SeriesEvidence, segment: [SeriesObservation], tonight tonightMedian: Double)
        -> Result<RunLevelEvidence, NotJudged>
    {
        guard segment.count >= settings.minimumBaselineRuns else {
            return .failure(NotJudged(reason: "\(segment.count) of \(settings.minimumBaselineRuns) baseline runs"))
        }
        let spreadValues = item.spreadRuns(settings).map(\.values.median)
        let medians = segment.map(\.values.median) + [tonightMedian]
        guard (medians + spreadValues).allSatisfy({ $0 > 0 && $0.isFinite }) else {
            return .failure(NotJudged(reason: "a median is not positive: no level to compare"))
        }
        let levels = medians.map { log($0) }
        let (moderated, degrees) = moderatedSpread(
            of: spreadValues.map { log($0) },
            prior: settings.floor(for: item.series).relative * settings.priorSpreadShare)
        let spread = max(moderated, settings.spreadFloor)
        let tonight = levels.count - 1
        var candidates: [LevelChange] = (1...max(1, settings.nightsWindow)).compactMap { nights in
            let start = tonight - nights + 1
            guard start >= settings.minimumBaselineRuns else { return nil }
            return levelChange(
                levels, from: start, rule: nights == 1 ? .night : .nights, spread: spread, series: item.series)
        }
        // Every change point of the segment, not only the newest: a small
        // wobble found after a real step must not hide the step. Those older
        // than the window, with a baseline behind them, are candidates.
        let steps = changePoints(in: levels, settings: settings.changePoints).filter { $0.index >= 2 }.compactMap {
            levelChange(levels, from: $0.index, rule: .changePoint, spread: spread, series: item.series)
        }
        candidates += steps.filter { $0.nights > settings.nightsWindow && $0.start >= settings.minimumBaselineRuns }
        return .success(
            RunLevelEvidence(
                spread: spread, threshold: runLevelThreshold(degrees: degrees),
                changePointThreshold: runLevelThreshold(degrees: degrees, normal: settings.changePointThreshold),
                candidates: candidates, steps: steps))
    }

    /// The change of level from index `start` (to tonight) against the
    /// `baselineRuns` levels before it.
    private func levelChange(_ levels: [Double], from start: Int, rule: VerdictRule, spread: Double, series: SeriesKey)
        -> LevelChange?
    {
        let baseline = max(0, start - settings.baselineRuns)..<start
        guard !baseline.isEmpty,
            let (difference, score) = levelChangeScore(
                before: Array(levels[baseline]), after: Array(levels[start...]), spread: spread)
        else { return nil }
        let mean = levels[baseline].reduce(0, +) / Double(baseline.count)
        let level = exp(mean)
        let relative = exp(difference) - 1
        // A step persists: for the nights rule, every night of the window
        // lies beyond the old level by `persistenceMargin` of the floor, so
        // that one wild night cannot carry a window on its own.
        let margin = settings.persistenceMargin * settings.floor(for: series).relative
        let persistent =
            rule != .nights || levels[start...].allSatisfy { ($0 - mean) * (difference > 0 ? 1 : -1) > margin }
        return LevelChange(
            rule: rule, start: start, nights: levels.count - start, baseline: baseline, level: level,
            difference: difference,
            relative: relative, score: score, isPersistent: persistent,
            passesFloor: settings.floor(for: series).isExceeded(by: level * relative, baseline: level))
    }

    /// Second pass: a candidate stands only if the confirmation batch,
    /// measured right after, in tonight's place, still shows the same change
    /// past the noise floor and `confirmationThreshold` (the `samples` rule:
    /// the robust z). It guards against a bad batch, not against the night's
    /// conditions, which it shares. `confirmation` holds the batch's values
    /// by series; a candidate without them is left unconfirmed. Other
    /// verdicts pass through.
    public func confirm(
        _ verdicts: [SeriesVerdict], with confirmation: [SeriesKey: SeriesValues], evidence: [SeriesEvidence]
    )
        -> [SeriesVerdict]
    {
        verdicts.map { verdict in
            guard verdict.awaitsConfirmation, let baseline = verdict.baselineMedian else { return verdict }
            var verdict = verdict
            guard let values = confirmation[verdict.series] else {
                verdict.decision = .unconfirmed
                verdict.reason = "no confirmation batch"
                return verdict
            }
            verdict.confirmationMedian = values.median
            let change = values.median - baseline
            let sameDirection = (change > 0) == (verdict.newMedian > baseline)
            let agrees: Bool
            if verdict.rule == .samples {
                let medians =
                    evidence.first { $0.series == verdict.series }.map { $0.fixedBaseline(choice).map(\.values.median) }
                    ?? []
                agrees =
                    abs(robustZ(values.median, reference: medians, madFloorFraction: settings.madFloorFraction) ?? 0)
                    > settings.robustZThreshold
            } else if let item = evidence.first(where: { $0.series == verdict.series }),
                case .success(let again) = runLevelEvidence(item, segment: item.segment(), tonight: values.median),
                let candidate = again.candidates.first(where: { $0.rule == verdict.rule && $0.nights == verdict.nights }
                )
            {
                // The same change with the batch in tonight's place.
                let sameWay = (candidate.difference > 0) == ((verdict.relativeChange ?? 0) > 0)
                agrees =
                    candidate.passesFloor && candidate.isPersistent && sameWay
                    && abs(candidate.score) > settings.confirmationThreshold
            } else {
                agrees = false
            }
            let claim = verdict.reason
            let batch = signedPercent(change / baseline)
            let floorPassed = settings.floor(for: verdict.series).isExceeded(by: change, baseline: baseline)
            if verdict.rule == .samples ? (sameDirection && agrees && floorPassed) : agrees {
                verdict.reason = "\(claim), confirmed by a second batch (\(batch))"
            } else {
                verdict.decision = .unconfirmed
                verdict.reason = "\(claim), but a second batch disagreed (\(batch))"
            }
            return verdict
        }
    }
}
