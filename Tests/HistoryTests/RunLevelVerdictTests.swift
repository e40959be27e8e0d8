import Foundation
import MVMCore
import MVMTesting
import Testing

@testable import Compare
@testable import History

/// The automatic baseline's run-level rules on one series whose run medians
/// are given directly, night after night, with each night's verdict recorded
/// as `mvm nightly` records it.
@Suite struct RunLevelVerdictTests {
    let key = SeriesKey(hostKey: "h", planKey: "p", subject: "vm", metric: "ready", unit: .seconds)

    /// A steady history: ±2 % (times `scale`) around 1 s in a fixed,
    /// irregular pattern.
    static func quiet(_ count: Int, scale: Double = 1) -> [Double] {
        let pattern = [0.0, 0.021, -0.014, 0.008, -0.022, 0.013, -0.005, 0.017, -0.011, 0.002, -0.019, 0.009]
        return (0..<count).map { 1 + scale * pattern[$0 % pattern.count] }
    }

    struct Night {
        var history: [SeriesObservation] = []
        let engine = VerdictEngine()
        let key: SeriesKey

        /// Judges a night whose batch and confirmation batch have `median`,
        /// and records it; returns its verdict.
        mutating func run(_ median: Double) -> SeriesVerdict {
            let values = SeriesValues(samples: [median], median: median, low: median, high: median)
            let evidence = [
                SeriesEvidence(
                    series: key, history: history, annotations: [], new: values, newStack: VerdictFixtures.stack)
            ]
            var verdicts = engine.judge(evidence)
            if verdicts[0].awaitsConfirmation {
                verdicts = engine.confirm(verdicts, with: [key: values], evidence: evidence)
            }
            let header = VerdictFixtures.header(history.count)
            history.append(SeriesObservation(run: header, values: values, verdict: verdicts[0]))
            return verdicts[0]
        }
    }

    @Test func aStepTooSmallForOneNightIsCaughtOnTheThird() throws {
        var nights = Night(key: key)
        for median in Self.quiet(60, scale: 2) { _ = nights.run(median) }
        // +9 % on a series that wanders ±4 %: under the threshold on its first night, past it once three
        // nights say the same.
        let first = nights.run(1.09)
        #expect(first.decision != .regression, "\(first)")
        let second = nights.run(1.09)
        #expect(second.decision != .regression, "\(second)")
        let third = nights.run(1.09)
        #expect(third.decision == .regression, "\(third)")
        #expect(third.rule == .nights)
        #expect(third.nights == 3)
        #expect(third.stepRunID == nights.history[60].run.id)
        // The step is explained: the new level is the baseline from its
        // first night on (warming until five runs stand behind it).
        let fourth = nights.run(1.09)
        #expect(fourth.decision == .warming, "\(fourth)")
        for _ in 0..<2 { _ = nights.run(1.09) }
        let later = nights.run(1.09)
        #expect(later.decision == .ok, "\(later)")
    }

    @Test func aQuietHistoryStaysOk() {
        var nights = Night(key: key)
        let verdicts = Self.quiet(80).map { nights.run($0) }
        #expect(verdicts.prefix(5).allSatisfy { $0.decision == .warming })
        #expect(
            verdicts.dropFirst(5).allSatisfy { $0.decision == .ok },
            "\(verdicts.filter { $0.decision != .ok }.map(\.reason))")
        #expect(verdicts.dropFirst(5).allSatisfy { $0.rule == .noiseFloor || $0.rule == .spread })
    }

    @Test func aStepBelowTheThresholdIsAnUnexplainedStepUntilItIsCaught() throws {
        var nights = Night(key: key)
        for median in Self.quiet(40, scale: 2) { _ = nights.run(median) }
        // +7 % on a series that wanders ±4 %: past the 5 % floor, too small
        // for a few nights to prove. The same wander goes on on top of it.
        var decisions: [Decision] = []
        for median in Self.quiet(25, scale: 2) { decisions.append(nights.run(median * 1.07).decision) }
        let caught = try #require(decisions.firstIndex(of: .regression), "\(decisions)")
        #expect(caught >= 3, "\(decisions)")
        // Before it is caught it is never anything else than ok or an
        // unexplained step, and it is reported as a step before the verdict.
        #expect(decisions[..<caught].allSatisfy { $0 == .ok || $0 == .unexplainedStep }, "\(decisions)")
        #expect(decisions[..<caught].contains(.unexplainedStep), "\(decisions)")
    }

    @Test func theThresholdGrowsWhenFewRunsStandBehindTheSpread() {
        let engine = VerdictEngine()
        // scipy.stats.t.isf(norm.sf(3.35), df) for df = 4 + 2 * 89 / 3 and
        // df = 4 + 2 * 5 / 3: 3.5189 and 5.4608.
        let many = engine.moderatedSpread(of: Self.quiet(90).map { log($0) }, prior: 0.05)
        let few = engine.moderatedSpread(of: Self.quiet(6).map { log($0) }, prior: 0.05)
        #expect(abs(many.degrees - (4 + 2 * 89 / 3.0)) < 1e-12)
        #expect(
            abs(engine.runLevelThreshold(degrees: many.degrees) - 3.5189) < 1e-3,
            "\(engine.runLevelThreshold(degrees: many.degrees))")
        #expect(
            abs(engine.runLevelThreshold(degrees: few.degrees) - 5.4608) < 1e-3,
            "\(engine.runLevelThreshold(degrees: few.degrees))")
        // Six steady nights alone do not convince: the spread leans toward
        // the 5 % floor; ninety do.
        #expect(few.spread > 0.03)
        #expect(many.spread < 0.03)
    }
}

@Suite struct RunLevelStatisticsTests {
    @Test func successiveDifferencesIgnoreAStep() throws {
        // Alternating ±1 around 0, then around 10: the ordinary SD is about
        // 5; the successive differences see the noise and one jump.
        let values = (0..<40).map { Double($0 % 2 == 0 ? 1 : -1) + ($0 >= 20 ? 10 : 0) }
        let spread = try #require(successiveDifferenceSpread(values))
        #expect(spread > 1.4 && spread < 2.3, "\(spread)")
        #expect(successiveDifferenceSpread([1]) == nil)
        #expect(successiveDifferenceSpread([1, .nan]) == nil)
    }

    @Test func studentQuantilesMatchScipy() throws {
        // scipy.stats.t.isf(0.025, 10) = 2.228138852; isf(0.001, 3) = 10.21453.
        #expect(abs(try #require(studentTUpperQuantile(0.025, degreesOfFreedom: 10)) - 2.228138852) < 1e-6)
        #expect(abs(try #require(studentTUpperQuantile(0.001, degreesOfFreedom: 3)) - 10.21453) < 1e-4)
        #expect(studentTUpperQuantile(0.6, degreesOfFreedom: 3) == nil)
        // norm.sf(3.5) = 2.326290790e-4.
        #expect(abs(normalUpperTail(3.5) - 2.326290790e-4) < 1e-12)
    }

    @Test func levelChangeScoreIsAZScoreOfTheMeans() throws {
        let result = try #require(levelChangeScore(before: [0, 0, 0, 0], after: [1, 1, 1, 1], spread: 1))
        #expect(result.difference == 1)
        #expect(abs(result.score - 1 / (0.5).squareRoot()) < 1e-12)
        #expect(levelChangeScore(before: [], after: [1], spread: 1) == nil)
        #expect(levelChangeScore(before: [1], after: [1], spread: 0) == nil)
    }
}

@Suite struct ConcurrentSeriesTests {
    /// With `--concurrency 4`, the all-ready series has one sample per run.
    @Test func allReadyIsOneSamplePerRun() throws {
        var samples: [InstanceSample] = []
        for run in 0..<3 {
            for contender in ["vm", "container"] {
                let allReady = (contender == "vm" ? 2.0 : 0.2) + Double(run) * 0.01
                for instance in 0..<4 {
                    samples.append(
                        InstanceSample(
                            contender: contender, run: run, instance: instance, warmup: false, ok: true, failure: nil,
                            phases: ["ready": allReady - 0.05 * Double(instance)], footprint: [:], guest: nil,
                            allReadySeconds: allReady))
                }
            }
        }
        let environment = EnvironmentFingerprint(
            hostKernel: "6.1.0", cpuModel: "Test CPU", cores: 2, memoryBytes: 24 << 30, accelerator: "tcg",
            acceleratorReason: "test",
            versions: [:], images: [:], mvmVersion: "0.1.0", gitCommit: "cc", startedAt: Date(timeIntervalSince1970: 0),
            finishedAt: Date(timeIntervalSince1970: 1))
        let report = ComparisonReport(
            environment: environment, plan: ComparisonPlan(runs: 3, warmup: 0, concurrency: 4),
            bootstrap: BootstrapSettings(resamples: 200, seed: 1) ?? .default, contenders: ["vm", "container"],
            roles: ["vm": .microVM, "container": .container], caveats: [], samples: samples)
        let series = Dictionary(
            report.seriesValues(hostKey: "h", planKey: "p").map { ($0.0.name, $0.1) }, uniquingKeysWith: { a, _ in a })
        #expect(series["vm all-ready"]?.samples.count == 3)
        #expect(series["vm ready"]?.samples.count == 12)
        // The ready ratio pairs instances: one per instance of each run.
        #expect(series["vm/container ready"]?.samples.count == 12)
    }
}

@Suite struct NoiseFloorSettingTests {
    @Test func aMemoryFloorKeepsFourMiBAndATimeFloorNone() throws {
        var settings = VerdictSettings()
        try settings.setNoiseFloor("pss=3")
        try settings.setNoiseFloor("ready=8%")
        #expect(settings.metricFloors["pss"] == NoiseFloor(relative: 0.03, absolute: 4 * 1_048_576))
        #expect(settings.metricFloors["ready"] == NoiseFloor(relative: 0.08, absolute: 0))
    }

    @Test func badEntriesAreRefusedInWords() {
        var settings = VerdictSettings()
        #expect(throws: NoiseFloorSettingError.self) { try settings.setNoiseFloor("ready") }
        #expect(throws: NoiseFloorSettingError.self) { try settings.setNoiseFloor("ready=-1") }
        do {
            try settings.setNoiseFloor("redy=8")
            Issue.record("a misspelt metric was accepted")
        } catch {
            #expect("\(error)".contains("\"redy=8\" names no metric mvm measures"))
            #expect("\(error)".contains("ready"))
        }
        #expect(settings.metricFloors.isEmpty)
    }
}
