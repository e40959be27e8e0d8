import Compare
import ContainerShim
import Foundation
import History
import Jobs
import MVMCore
import MVMTesting
import Reports
import SQLiteHistory
import Testing

/// The jobs with fake contenders and an in-memory history: what they
/// measure, record and judge, without a hypervisor.
@Suite struct JobTests {
    let state = StateDirectory(
        path: FileManager.default.temporaryDirectory.appendingPathComponent("mvm-jobs-\(UUID().uuidString)").path)

    func comparisonRequest(
        runs: Int = 3, dimensions: [ComparisonDimension] = [.boot], trace: Bool = false
    ) throws -> ComparisonRequest {
        var settings = ComparisonSettings(stateDirectory: state, images: ImageSet(directory: "/nonexistent/images"))
        settings.trace = trace
        settings.plan = ComparisonPlan(runs: runs, warmup: 1, concurrency: 1, seed: 7)
        settings.dimensions.dimensions = dimensions
        return try ComparisonRequest(
            checking: settings, host: .fake,
            containerHost: ContainerHost(cgroups: .hybrid, swapAccounting: false, userNamespacesAllowed: true))
    }

    /// Ready in about `seconds`, each launch a little off (±1 %), as a quiet
    /// host measures.
    static func steady(_ seconds: Double) -> FakeLauncher.Script {
        { launch in seconds * (1 + 0.01 * sin(Double(launch) * 1.7)) }
    }

    @Test func aComparisonRunsEveryContenderAsPlannedAndStopsEveryInstance() async throws {
        let vm = FakeLauncher(name: "vm", pssBytes: 80 << 20, readySeconds: Self.steady(0.9))
        let container = FakeLauncher(name: "container", readySeconds: Self.steady(0.045))
        let job = ComparisonJob(try comparisonRequest(runs: 3), lineup: .fake(vm: vm, container: container))
        let report = await job.run()
        #expect(vm.launches == 4 && container.launches == 4)
        #expect(vm.running == 0 && container.running == 0)
        #expect(report.samples.count == 8 && report.samples.filter(\.warmup).count == 2)
        #expect(report.environment.accelerator == "tcg")
        #expect(report.environment.versions["runtime"] == "fake")
        #expect(report.environment.gitCommit == mvmCommit)
        #expect(report.environment.cores == HostFacts.fake.cores)
    }

    @Test func dimensionsBeyondBootNeedMVMsOwnLaunchersAndSaySo() async throws {
        let lineup = ContenderLineup.fake(
            vm: FakeLauncher(name: "vm", readySeconds: Self.steady(0.9)),
            container: FakeLauncher(name: "container", readySeconds: Self.steady(0.045)))
        let report = await ComparisonJob(try comparisonRequest(dimensions: [.boot, .size]), lineup: lineup).run()
        #expect(report.dimensions?.failures?["size"] == "needs mvm's own micro-VM and container launchers")
        #expect(report.summary.contenders.allSatisfy { $0.failed == 0 })
    }

    @Test func aFailedLaunchIsAFailedSampleNotAFailedJob() async throws {
        let vm = FakeLauncher(name: "vm", readySeconds: { $0 == 2 ? nil : 0.9 })
        let container = FakeLauncher(name: "container", readySeconds: Self.steady(0.045))
        let report = await ComparisonJob(try comparisonRequest(), lineup: .fake(vm: vm, container: container)).run()
        let failed = report.samples.filter { !$0.ok }
        #expect(failed.count == 1 && failed.first?.failure == "fake launch 2 failed as scripted")
        #expect(vm.running == 0)
    }

    /// A nightly job of these launchers on `store`.
    func nightly(
        vm: FakeLauncher, container: FakeLauncher, store: any HistoryStore, history: HistoryLocation? = nil,
        trace: Bool = false
    ) async throws -> NightlyJob {
        let comparison = try comparisonRequest(runs: 5, trace: trace)
        var historySettings = HistorySettings()
        historySettings.record = true
        historySettings.baseline = "auto"
        var request = NightlyRequest(comparison: comparison, history: historySettings, nightly: false, environment: [:])
        if let history { request.history = history }
        return try await NightlyJob(
            request, comparison: ComparisonJob(comparison, lineup: .fake(vm: vm, container: container)), store: store)
    }

    @Test func aRegressionIsConfirmedByASecondBatchAndExitsOne() async throws {
        let store = try SQLiteHistoryStore.inMemory()
        let container = FakeLauncher(name: "container", readySeconds: Self.steady(0.045))
        for _ in 0..<8 {
            let quiet = try await nightly(
                vm: FakeLauncher(name: "vm", readySeconds: Self.steady(0.9)), container: container, store: store)
            let outcome = await quiet.run()
            #expect(outcome.failures.isEmpty, "\(outcome.failures)")
        }
        #expect(try await store.runs(hostKey: nil, limit: 100).count == 8)

        let slower = FakeLauncher(name: "vm", readySeconds: Self.steady(1.3))
        let outcome = try await nightly(vm: slower, container: container, store: store).run()
        let ready = try #require(outcome.verdicts.first { $0.series.subject == "vm" && $0.series.metric == "ready" })
        #expect(ready.decision == .regression, "\(ready.reason)")
        #expect(outcome.exitStatus == 1)
        // The measured runs and the confirmation batch, each with its warm-up.
        #expect(slower.launches == 2 * 6)
        #expect(try await store.runs(hostKey: nil, limit: 100).count == 9)
    }

    /// Every traced run keeps a trace per contender in the history; when a
    /// verdict fires, the outcome sets this run's trace against the trace of
    /// a baseline run, step by step.
    @Test func aRegressionIsTracedToAStepAgainstTheBaselinesTrace() async throws {
        let store = try SQLiteHistoryStore.inMemory()
        let container = FakeLauncher(name: "container", readySeconds: Self.steady(0.045))
        for _ in 0..<8 {
            let outcome = try await nightly(
                vm: FakeLauncher(name: "vm", readySeconds: Self.steady(0.9)), container: container, store: store,
                trace: true
            ).run()
            #expect(outcome.comparison.traces?["vm"]?.trace != nil)
            #expect(outcome.traceDifferences == nil)
        }
        let stored = try #require(try await store.runs(hostKey: nil, limit: 100).first)
        let kept = try #require(try await store.run(id: stored.id))
        #expect(kept.report.traces?["container"]?.trace != nil)
        // Traced starts are not samples.
        #expect(kept.report.samples.filter { $0.contender == "vm" }.count == 6)

        let slower = FakeLauncher(name: "vm", readySeconds: Self.steady(1.3))
        let outcome = try await nightly(vm: slower, container: container, store: store, trace: true).run()
        #expect(outcome.exitStatus == 1)
        let traced = try #require(outcome.traceDifferences?.first { $0.contender == "vm" })
        let ready = try #require(outcome.verdicts.first { $0.series.subject == "vm" && $0.series.metric == "ready" })
        #expect(ready.baselineRunIDs.contains(traced.baselineRunID))
        // A fake's phases scale with its ready time (started at 40 %, first
        // output at 90 %): 0.4 s more moves started → first-output most.
        let largest = try #require(traced.difference.steps.first)
        #expect(largest.name == "started → first-output" && largest.delta > 0.15, "\(traced.difference.summary())")
        #expect(outcome.verdictTable().contains("where the time moved: vm: against run \(traced.baselineRunID)"))
    }

    @Test func aQuietNightNeedsNoConfirmationAndExitsZero() async throws {
        let store = try SQLiteHistoryStore.inMemory()
        let container = FakeLauncher(name: "container", readySeconds: Self.steady(0.045))
        for _ in 0..<8 {
            _ = try await nightly(
                vm: FakeLauncher(name: "vm", readySeconds: Self.steady(0.9)), container: container, store: store
            ).run()
        }
        let vm = FakeLauncher(name: "vm", readySeconds: Self.steady(0.9))
        let outcome = try await nightly(vm: vm, container: container, store: store).run()
        #expect(outcome.exitStatus == 0, "\(outcome.verdicts.map(\.reason))")
        #expect(vm.launches == 6)
        #expect(outcome.verdicts.allSatisfy { $0.decision == .ok || $0.decision == .changed })
    }

    @Test func aRunTheFleetsDatabaseRefusesIsKeptInTheLocalFile() async throws {
        try FileManager.default.createDirectory(atPath: state.path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: state.path) }
        let fleet = FailingHistoryStore(wrapping: try SQLiteHistoryStore.inMemory(), failing: [.record])
        let job = try await nightly(
            vm: FakeLauncher(name: "vm", readySeconds: Self.steady(0.9)),
            container: FakeLauncher(name: "container", readySeconds: Self.steady(0.045)),
            store: fleet, history: .server("postgresql://mvm@fleet.invalid/mvm"))
        let outcome = await job.run()
        let local = NightlyRequest.defaultHistoryPath(in: state)
        #expect(outcome.exitStatus == 2)
        #expect(
            outcome.failures.contains { $0.contains("this run is kept in \(local) (`mvm history merge` uploads it)") },
            "\(outcome.failures)")
        let kept = try await SQLiteHistoryStore.open(path: local).runs(hostKey: nil, limit: 10)
        #expect(kept.map(\.id) == [outcome.run.id])
    }

    @Test func aFleetThatCannotBeReachedStillMeasuresAndKeepsTheRunHere() async throws {
        try FileManager.default.createDirectory(atPath: state.path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: state.path) }
        let comparison = try comparisonRequest(runs: 2)
        var settings = HistorySettings()
        // Port 1 on loopback: refused at once.
        settings.location = "postgresql://mvm@127.0.0.1:1/mvm"
        let request = NightlyRequest(comparison: comparison, history: settings, nightly: false, environment: [:])
        var recording = request
        recording.record = true
        let lineup = ContenderLineup.fake(
            vm: FakeLauncher(name: "vm", readySeconds: Self.steady(0.9)),
            container: FakeLauncher(name: "container", readySeconds: Self.steady(0.045)))
        let outcome = try await NightlyJob(recording, comparison: ComparisonJob(comparison, lineup: lineup)).run()
        #expect(outcome.exitStatus == 2)
        #expect(outcome.comparison.samples.count == 6)
        let kept = try await SQLiteHistoryStore.open(path: request.fallbackHistoryPath).runs(hostKey: nil, limit: 10)
        #expect(kept.count == 1 && kept.first?.failed == true)
    }
}
