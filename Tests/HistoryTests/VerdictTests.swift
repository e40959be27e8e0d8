@testable import Compare
import MVMCore
import Foundation
import Testing

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

    @Test func aSlowerVMIsACandidateThatTheConfirmationSettles() throws {
        let engine = VerdictEngine()
        let evidence = F.evidence(history: quietHistory(6), new: F.report(vmReady: 1.5, seed: 99))
        let first = engine.judge(evidence)
        let ready = try #require(verdict(first, "vm", "ready"))
        #expect(ready.decision == .regression)
        #expect(try #require(ready.relativeChange) > 0.2)
        #expect(try #require(ready.qValue) <= 0.01)
        // The container did not move; the ratio did, with the VM.
        #expect(verdict(first, "container", "ready")?.decision == .ok)
        #expect(verdict(first, "vm/container", "ready")?.decision == .regression)

        func batch(_ vmReady: Double) -> [SeriesKey: SeriesValues] {
            Dictionary(F.report(vmReady: vmReady, seed: 7).seriesValues(hostKey: F.host.key, planKey: F.plan.key), uniquingKeysWith: { a, _ in a })
        }
        let confirmed = engine.confirm(first, with: batch(1.5), evidence: evidence)
        #expect(verdict(confirmed, "vm", "ready")?.decision == .regression)
        #expect(nightlyExitStatus(verdicts: confirmed, jobFailed: false) == 1)
        #expect(nightlyExitStatus(verdicts: confirmed, jobFailed: true) == 2)

        let refuted = engine.confirm(first, with: batch(1.2), evidence: evidence)
        #expect(verdict(refuted, "vm", "ready")?.decision == .unconfirmed)
        #expect(nightlyExitStatus(verdicts: refuted, jobFailed: false) == 0)
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
        let floor = VerdictSettings().floor(for: SeriesKey(hostKey: "h", planKey: "p", subject: "vm", metric: "pss", unit: .bytes))
        let mebibyte = 1_048_576.0
        // 3 MiB on 60 is 5 %, past 2 %, but under 4 MiB; 5 MiB passes both.
        #expect(!floor.isExceeded(by: 3 * mebibyte, baseline: 60 * mebibyte))
        #expect(floor.isExceeded(by: 5 * mebibyte, baseline: 60 * mebibyte))
        // 4.5 MiB on 400 MiB is past 4 MiB but under 2 %.
        #expect(!floor.isExceeded(by: 4.5 * mebibyte, baseline: 400 * mebibyte))
        #expect(VerdictSettings().floor(for: SeriesKey(hostKey: "h", planKey: "p", subject: "vm", metric: "ready", unit: .seconds)).relative == 0.05)
    }

    @Test func aBiggerVMIsAMemoryRegression() throws {
        let evidence = F.evidence(history: quietHistory(6), new: F.report(vmReady: 1.2, vmPSSMiB: 72, seed: 99))
        let verdicts = VerdictEngine().judge(evidence)
        #expect(verdict(verdicts, "vm", "pss")?.decision == .regression)
        #expect(verdict(verdicts, "vm", "ready")?.decision == .ok)
    }

    @Test func theBaselineStartsAfterTheLastChangePoint() throws {
        // Ten runs at 1.2 s, then six at 1.5 s: the step is a change point,
        // so a new run at 1.5 s is judged against the six, and is ok.
        let history = quietHistory(10) + (10..<16).map { F.recorded($0, vmReady: 1.5) }
        let evidence = F.evidence(history: history, new: F.report(vmReady: 1.5, seed: 99))
        let ready = try #require(verdict(VerdictEngine().judge(evidence), "vm", "ready"))
        #expect(ready.baselineRunIDs == history.suffix(6).map(\.header.id))
        #expect(ready.decision == .ok)
    }

    @Test func anAnnotationResetsTheBaseline() throws {
        let history = quietHistory(8)
        let note = Annotation(hostKey: F.host.key, subject: nil, at: history[5].header.startedAt.addingTimeInterval(1), message: "QEMU 8.0")
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

    @Test func partialRunsAreNeverABaseline() throws {
        let history = quietHistory(5) + [F.recorded(5, vmReady: 1.2, partial: true)]
        let evidence = F.evidence(history: history, new: F.report(vmReady: 1.2, seed: 99))
        let ready = try #require(verdict(VerdictEngine().judge(evidence), "vm", "ready"))
        #expect(!ready.baselineRunIDs.contains(history[5].header.id))
        #expect(ready.baselineRunIDs.count == 5)
    }

    @Test func anExplicitLabelIsUsedWhateverItsSize() throws {
        let history = quietHistory(3) + [F.recorded(3, vmReady: 1.0, label: "before-upgrade")]
        let evidence = F.evidence(history: history, new: F.report(vmReady: 1.2, seed: 99))
        let ready = try #require(verdict(VerdictEngine(choice: .label("before-upgrade")).judge(evidence), "vm", "ready"))
        #expect(ready.baselineRunIDs == [history[3].header.id])
        #expect(ready.decision == .regression, "\(ready)")
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
        let facts = HostIdentity(host: .init(kernelRelease: "6.1", cpuModel: "X", cores: 2, memoryBytes: (24 << 30) - 300_000), hostname: "h", machineID: "m")
        #expect(facts.key == a.key)
    }
}
