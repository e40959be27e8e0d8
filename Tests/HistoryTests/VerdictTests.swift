import Foundation
import MVMCore
import MVMTesting
import Testing

@testable import Compare
@testable import History

@Suite struct VerdictTests {
    typealias F = VerdictFixtures

    func verdict(_ verdicts: [SeriesVerdict], _ subject: String, _ metric: String) -> SeriesVerdict? {
        verdicts.first { $0.series.subject == subject && $0.series.metric == metric }
    }

    func quietHistory(_ count: Int, from start: Int = 0) -> [RecordedRun] {
        (start..<start + count).map { F.recorded($0, vmReady: 1.2) }
    }

    @Test func fewerThanFiveRunsIsWarming() {
        let evidence = F.evidence(history: quietHistory(4), new: F.report(vmReady: 1.8, seed: 99))
        let verdicts = VerdictEngine().judge(evidence)
        #expect(!verdicts.isEmpty)
        #expect(verdicts.allSatisfy { $0.decision == .warming })
        #expect(nightlyExitStatus(verdicts: verdicts, jobFailed: false) == 0)
    }

    @Test func aQuietRunIsOk() {
        let evidence = F.evidence(history: quietHistory(6), new: F.report(vmReady: 1.2, seed: 99))
        let verdicts = VerdictEngine().judge(evidence)
        #expect(verdicts.allSatisfy { $0.decision == .ok })
        #expect(verdict(verdicts, "vm", "ready")?.baselineRunIDs.count == 6)
    }

    func batch(_ vmReady: Double, containerReady: Double = 0.12) -> [SeriesKey: SeriesValues] {
        Dictionary(
            F.report(vmReady: vmReady, containerReady: containerReady, seed: 7).seriesValues(
                hostKey: F.host.key, planKey: F.plan.key),
            uniquingKeysWith: { a, _ in a })
    }

    @Test func aSlowerVMIsACandidateThatTheConfirmationSettles() throws {
        let engine = VerdictEngine()
        let evidence = F.evidence(history: quietHistory(6), new: F.report(vmReady: 1.5, seed: 99))
        let first = engine.judge(evidence)
        let ready = try #require(verdict(first, "vm", "ready"))
        #expect(ready.decision == .regression)
        #expect(ready.rule == .night)
        #expect(ready.awaitsConfirmation)
        #expect(try #require(ready.relativeChange) > 0.2)
        #expect(try #require(ready.score) > (ready.threshold ?? .infinity))
        // The container did not move; the ratio did, with the VM: changed,
        // never a regression of its own.
        #expect(verdict(first, "container", "ready")?.decision == .ok)
        #expect(verdict(first, "vm/container", "ready")?.decision == .changed)

        let confirmed = engine.confirm(first, with: batch(1.5), evidence: evidence)
        #expect(verdict(confirmed, "vm", "ready")?.decision == .regression)
        #expect(verdict(confirmed, "vm", "ready")?.awaitsConfirmation == false)
        #expect(verdict(confirmed, "vm", "ready")?.reason.contains("confirmed") == true)
        #expect(nightlyExitStatus(verdicts: confirmed, jobFailed: false) == 1)
        #expect(nightlyExitStatus(verdicts: confirmed, jobFailed: true) == 2)

        let refuted = engine.confirm(first, with: batch(1.2), evidence: evidence)
        #expect(verdict(refuted, "vm", "ready")?.decision == .unconfirmed)
        #expect(nightlyExitStatus(verdicts: refuted, jobFailed: false) == 0)
    }

    @Test func aConfirmedImprovementExitsZero() throws {
        let engine = VerdictEngine()
        let evidence = F.evidence(history: quietHistory(6), new: F.report(vmReady: 0.9, seed: 99))
        let first = engine.judge(evidence)
        #expect(verdict(first, "vm", "ready")?.decision == .improvement)
        let confirmed = engine.confirm(first, with: batch(0.9), evidence: evidence)
        let ready = try #require(verdict(confirmed, "vm", "ready"))
        #expect(ready.decision == .improvement)
        #expect(ready.reason.contains("confirmed by a second batch"))
        #expect(try #require(ready.relativeChange) < -0.2)
        #expect(nightlyExitStatus(verdicts: confirmed, jobFailed: false) == 0)
    }

    @Test func aFasterContainerChangesTheRatioAndExitsZero() throws {
        // Only the container moved (0.12 s to 0.08 s): vm/container rises by
        // half. That is the container's improvement, not the VM's regression.
        let engine = VerdictEngine()
        let evidence = F.evidence(history: quietHistory(6), new: F.report(vmReady: 1.2, containerReady: 0.08, seed: 99))
        let confirmed = engine.confirm(
            engine.judge(evidence), with: batch(1.2, containerReady: 0.08), evidence: evidence)
        #expect(verdict(confirmed, "container", "ready")?.decision == .improvement)
        let ratio = try #require(verdict(confirmed, "vm/container", "ready"))
        #expect(ratio.decision == .changed)
        #expect(try #require(ratio.relativeChange) > 0.4)
        #expect(verdict(confirmed, "vm", "ready")?.decision == .ok)
        #expect(nightlyExitStatus(verdicts: confirmed, jobFailed: false) == 0)
    }

    @Test func aFasterVMIsAnImprovement() {
        let evidence = F.evidence(history: quietHistory(6), new: F.report(vmReady: 0.9, seed: 99))
        #expect(verdict(VerdictEngine().judge(evidence), "vm", "ready")?.decision == .improvement)
    }

    @Test func aChangeUnderTheNoiseFloorIsOk() throws {
        // 3 % slower with a very steady baseline: past the baseline's spread,
        // but under the 5 % floor.
        let evidence = F.evidence(history: quietHistory(6), new: F.report(vmReady: 1.236, seed: 99, spread: 0.001))
        let ready = try #require(verdict(VerdictEngine().judge(evidence), "vm", "ready"))
        #expect(ready.decision == .ok)
        #expect(ready.reason.contains("noise floor"))
    }

    @Test func memoryNeedsFourMiBAsWellAsTwoPercent() throws {
        let floor = VerdictSettings().floor(
            for: SeriesKey(hostKey: "h", planKey: "p", subject: "vm", metric: "pss", unit: .bytes))
        let mebibyte = 1_048_576.0
        // 3 MiB on 60 is 5 %, past 2 %, but under 4 MiB; 5 MiB passes both.
        #expect(!floor.isExceeded(by: 3 * mebibyte, baseline: 60 * mebibyte))
        #expect(floor.isExceeded(by: 5 * mebibyte, baseline: 60 * mebibyte))
        // 4.5 MiB on 400 MiB is past 4 MiB but under 2 %.
        #expect(!floor.isExceeded(by: 4.5 * mebibyte, baseline: 400 * mebibyte))
        #expect(
            VerdictSettings().floor(
                for: SeriesKey(hostKey: "h", planKey: "p", subject: "vm", metric: "ready", unit: .seconds)
            ).relative == 0.05)
    }

    @Test func aBiggerVMIsAMemoryRegression() throws {
        let evidence = F.evidence(history: quietHistory(6), new: F.report(vmReady: 1.2, vmPSSMiB: 72, seed: 99))
        let verdicts = VerdictEngine().judge(evidence)
        #expect(verdict(verdicts, "vm", "pss")?.decision == .regression)
        #expect(verdict(verdicts, "vm", "ready")?.decision == .ok)
    }

    @Test func aStepNobodyExplainedIsNeverAbsorbed() throws {
        // Ten runs at 1.2 s, then six at 1.5 s that no verdict explained
        // (say, the job was not judging then): the step is still judged,
        // against the runs before it, and is a regression.
        let history = quietHistory(10) + (10..<16).map { F.recorded($0, vmReady: 1.5) }
        let evidence = F.evidence(history: history, new: F.report(vmReady: 1.5, seed: 99))
        let ready = try #require(verdict(VerdictEngine().judge(evidence), "vm", "ready"))
        #expect(ready.decision == .regression, "\(ready)")
        #expect(ready.rule == .changePoint)
        #expect(ready.stepRunID == history[10].header.id)
        #expect(ready.baselineRunIDs == history.prefix(10).map(\.header.id))
        #expect(ready.nights == 7)
        // Every rule's candidate meets a confirmation batch in tonight's place.
        #expect(ready.awaitsConfirmation)
        let confirmed = try #require(
            verdict(VerdictEngine().confirm([ready], with: batch(1.5), evidence: evidence), "vm", "ready"))
        #expect(confirmed.decision == .regression, "\(confirmed)")
    }

    @Test func aStepAVerdictExplainedStartsTheNewBaseline() throws {
        // The same step, reported as a regression on its first night: from
        // then on the new level is the baseline, and 1.5 s is ok.
        var history = quietHistory(10) + (10..<16).map { F.recorded($0, vmReady: 1.5) }
        let key = try #require(history[10].series.first { $0.0.subject == "vm" && $0.0.metric == "ready" }?.0)
        var regression = SeriesVerdict(
            series: key, decision: .regression, rule: .night, baselineRunIDs: [], baselineMedian: 1.2, newMedian: 1.5,
            stackChanges: [],
            reason: "test")
        regression.stepRunID = nil
        history[10].verdicts = [regression]
        let evidence = F.evidence(history: history, new: F.report(vmReady: 1.5, seed: 99))
        let ready = try #require(verdict(VerdictEngine().judge(evidence), "vm", "ready"))
        #expect(ready.decision == .ok, "\(ready)")
        #expect(ready.baselineRunIDs == history.suffix(6).map(\.header.id))
    }

    @Test func anAnnotationResetsTheBaseline() throws {
        let history = quietHistory(8)
        let note = Annotation(
            hostKey: F.host.key, subject: nil, at: history[5].header.startedAt.addingTimeInterval(1),
            message: "QEMU 8.0")
        let evidence = F.evidence(history: history, new: F.report(vmReady: 1.5, seed: 99), annotations: [note])
        let ready = try #require(verdict(VerdictEngine().judge(evidence), "vm", "ready"))
        #expect(ready.decision == .warming)
        #expect(ready.baselineRunIDs.count == 2)
        // An annotation of the container alone leaves the VM's baseline.
        let containerNote = Annotation(hostKey: F.host.key, subject: "container", at: note.at, message: "runc 1.2")
        let vmOnly = F.evidence(history: history, new: F.report(vmReady: 1.2, seed: 99), annotations: [containerNote])
        #expect(verdict(VerdictEngine().judge(vmOnly), "vm", "ready")?.baselineRunIDs.count == 8)
        #expect(verdict(VerdictEngine().judge(vmOnly), "container", "ready")?.decision == .warming)
    }

    @Test func partialAndFailedRunsAreNeverABaseline() throws {
        var failed = F.recorded(6, vmReady: 1.2)
        failed.header.failed = true
        let history = quietHistory(5) + [F.recorded(5, vmReady: 1.2, partial: true), failed]
        let evidence = F.evidence(history: history, new: F.report(vmReady: 1.2, seed: 99))
        for engine in [
            VerdictEngine(), VerdictEngine(choice: .run(failed.header.id)),
            VerdictEngine(choice: .run(history[5].header.id)),
        ] {
            let ready = try #require(verdict(engine.judge(evidence), "vm", "ready"))
            #expect(!ready.baselineRunIDs.contains(history[5].header.id))
            #expect(!ready.baselineRunIDs.contains(failed.header.id))
        }
        #expect(verdict(VerdictEngine().judge(evidence), "vm", "ready")?.baselineRunIDs.count == 5)
        #expect(
            verdict(VerdictEngine(choice: .run(failed.header.id)).judge(evidence), "vm", "ready")?.decision == .warming)
    }

    @Test func anAnnotationOfTheRatioResetsTheRatio() throws {
        let history = quietHistory(8)
        let note = Annotation(
            hostKey: F.host.key, subject: "vm/container", at: history[5].header.startedAt.addingTimeInterval(1),
            message: "x")
        let verdicts = VerdictEngine().judge(
            F.evidence(history: history, new: F.report(vmReady: 1.2, seed: 99), annotations: [note]))
        #expect(verdict(verdicts, "vm/container", "ready")?.decision == .warming)
        #expect(verdict(verdicts, "vm", "ready")?.decision != .warming)
    }

    @Test func aMemoryNoiseFloorLeavesTheRatioAlone() {
        var settings = VerdictSettings()
        settings.metricFloors["pss"] = NoiseFloor(relative: 0.03, absolute: 4 * 1_048_576)
        let ratio = SeriesKey(hostKey: "h", planKey: "p", subject: "vm/container", metric: "pss", unit: .ratio)
        let vm = SeriesKey(hostKey: "h", planKey: "p", subject: "vm", metric: "pss", unit: .bytes)
        #expect(settings.floor(for: ratio) == settings.ratioFloor)
        #expect(settings.floor(for: vm).relative == 0.03)
        // A ratio that moved from 20 to 30 passes its floor.
        #expect(settings.floor(for: ratio).isExceeded(by: 10, baseline: 20))
    }

    @Test func anExplicitLabelIsUsedWhateverItsSize() throws {
        let history = quietHistory(3) + [F.recorded(3, vmReady: 1.0, label: "before-upgrade")]
        let evidence = F.evidence(history: history, new: F.report(vmReady: 1.2, seed: 99))
        let ready = try #require(
            verdict(VerdictEngine(choice: .label("before-upgrade")).judge(evidence), "vm", "ready"))
        #expect(ready.baselineRunIDs == [history[3].header.id])
        #expect(ready.decision == .regression, "\(ready)")
        #expect(ready.rule == .samples)
    }

    @Test func theVerdictNamesWhatChangedInTheStack() throws {
        var upgraded = F.stack
        upgraded.versions["qemu"] = "8.0.0"
        let evidence = F.evidence(history: quietHistory(6), new: F.report(vmReady: 1.5, seed: 99), newStack: upgraded)
        let ready = try #require(verdict(VerdictEngine().judge(evidence), "vm", "ready"))
        #expect(ready.stackChanges == ["qemu 7.2.0 → 8.0.0"])
    }

    @Test func baselineArguments() {
        #expect(BaselineChoice(argument: "auto") == .automatic)
        #expect(BaselineChoice(argument: "20261130T082330Z-1a2b3c") == .run("20261130T082330Z-1a2b3c"))
        #expect(BaselineChoice(argument: "before-qemu-8") == .label("before-qemu-8"))
    }

    @Test func hostKeyIgnoresDriftAndRoundsMemory() {
        let a = HostIdentity(cpuModel: "X", cores: 2, memoryGiB: 24, hostname: "h", machineID: "m")
        var b = a
        #expect(a.key == b.key)
        b.hostname = "other"
        #expect(a.key != b.key)
        let facts = HostIdentity(
            host: .init(kernelRelease: "6.1", cpuModel: "X", cores: 2, memoryBytes: (24 << 30) - 300_000),
            hostname: "h", machineID: "m")
        #expect(facts.key == a.key)
    }
}
