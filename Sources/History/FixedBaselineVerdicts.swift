import Compare
import Foundation

/// The `samples` rule, for a baseline a person chose (a label or a run): an
/// A/B comparison, typically measured in one session under the same
/// conditions. There are too few baseline runs to know the night-to-night
/// spread, so the samples are pooled: the noise floor, the robust z of the
/// new median against the baseline's run medians, and a permutation test of
/// the pooled samples corrected across the run's series (Benjamini-Hochberg).
/// Pooling assumes the two sides' samples are interchangeable: it holds
/// within one session, not from one night to another (the automatic
/// baseline's run-level rules exist for that).
func judgeFixedBaseline(_ evidence: [SeriesEvidence], settings: VerdictSettings, choice: BaselineChoice)
    -> [SeriesVerdict]
{
    var verdicts: [SeriesVerdict] = []
    var testedIndices: [Int] = []
    var pValues: [Double] = []
    for item in evidence {
        let baseline = item.fixedBaseline(choice)
        var verdict = SeriesVerdict(
            series: item.series, decision: .ok, rule: .samples, baselineRunIDs: baseline.map(\.run.id),
            baselineMedian: nil,
            newMedian: item.new.median,
            stackChanges: baseline.last.map { item.newStack.changes(since: $0.run.stack) } ?? [], reason: "")
        guard !baseline.isEmpty else {
            verdict.decision = .warming
            verdict.rule = .warming
            verdict.reason = "no baseline run of this series"
            verdicts.append(verdict)
            continue
        }
        let medians = baseline.map(\.values.median)
        if let baselineMedian = median(medians) {
            verdict.baselineMedian = baselineMedian
            verdict.relativeChange = baselineMedian == 0 ? nil : (item.new.median - baselineMedian) / baselineMedian
        }
        verdict.score = robustZ(item.new.median, reference: medians, madFloorFraction: settings.madFloorFraction)
        verdict.threshold = settings.robustZThreshold
        verdict.nights = 1
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
        decideOnSamples(&verdicts[index], settings: settings)
    }
    return verdicts
}

private func decideOnSamples(_ verdict: inout SeriesVerdict, settings: VerdictSettings) {
    guard let baseline = verdict.baselineMedian else { return }
    let change = verdict.newMedian - baseline
    let floor = settings.floor(for: verdict.series)
    guard floor.isExceeded(by: change, baseline: baseline) else {
        verdict.rule = .noiseFloor
        verdict.reason = "under the noise floor (\(percent(floor.relative)))"
        return
    }
    guard let z = verdict.score, abs(z) > settings.robustZThreshold else {
        verdict.reason = "within the baseline's spread (|z| ≤ \(settings.robustZThreshold.formatted()))"
        return
    }
    guard let q = verdict.qValue, q <= settings.falseDiscoveryRate else {
        verdict.reason = "not significant (q > \(settings.falseDiscoveryRate.formatted()))"
        return
    }
    verdict.decision = .forChange(of: verdict.series, growing: change > 0)
    verdict.reason = "\(signedPercent(change / baseline)) (p \(String(format: "%.4f", verdict.pValue ?? 1)))"
}
