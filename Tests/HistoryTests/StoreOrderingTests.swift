import Compare
import Foundation
import MVMTesting
import Testing

@testable import History

/// Both stores list a history in the same order, ties included, and count
/// a run's verdicts as `mvm history list` shows them.
@Suite struct StoreOrderingTests {
    typealias F = VerdictFixtures

    /// A run with the given id and start, on `host` under `plan`, with one
    /// verdict of each of `decisions`.
    static func run(
        _ id: String, at seconds: Double, host: HostIdentity = F.host, plan: PlanIdentity = F.plan,
        decisions: [Decision] = []
    ) -> RecordedRun {
        var run = F.recorded(1, vmReady: 1.2)
        run.header.id = id
        run.header.startedAt = Date(timeIntervalSince1970: seconds)
        run.header.hostKey = host.key
        run.header.planKey = plan.key
        run.host = host
        run.plan = plan
        run.verdicts = decisions.enumerated().map { index, decision in
            SeriesVerdict(
                series: SeriesKey(
                    hostKey: host.key, planKey: plan.key, subject: "vm", metric: "metric-\(index)", unit: .seconds),
                decision: decision, rule: .nights, baselineRunIDs: [], baselineMedian: 1, newMedian: 1,
                stackChanges: [], reason: "test")
        }
        return run
    }

    /// Ids that a locale's collation would order otherwise ("B" before "a"
    /// byte by byte, after it in most languages), recorded out of order.
    static let tiedIDs = ["20260101T000000Z-a", "20260101T000000Z-B", "20260101T000000Z-_", "20260101T000000Z-0"]

    @Test(arguments: Backend.allCases) func runsThatStartedTogetherAreOrderedByTheirIDs(_ backend: Backend) async throws
    {
        try await FreshHistory.with(backend) { _, store in
            for id in Self.tiedIDs { try await store.record(Self.run(id, at: 1000)) }
            try await store.record(Self.run("20251231T000000Z-z", at: 999))
            try await store.record(Self.run("20260102T000000Z-0", at: 1001))
            let bytewise = Self.tiedIDs.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            let newestFirst = ["20260102T000000Z-0"] + bytewise.reversed() + ["20251231T000000Z-z"]
            #expect(try await store.runs(hostKey: nil, limit: 10).map(\.id) == newestFirst)
            #expect(try await store.runs(hostKey: F.host.key, limit: 3).map(\.id) == Array(newestFirst.prefix(3)))
            #expect(try await store.runOverviews(hostKey: nil, limit: 10).map(\.header.id) == newestFirst)
            let key = SeriesKey(
                hostKey: F.host.key, planKey: F.plan.key, subject: "vm", metric: "ready", unit: .seconds)
            #expect(try await store.observations(of: key).map(\.run.id) == newestFirst.reversed())
        }
    }

    @Test(arguments: Backend.allCases) func annotationsMadeAtOnceKeepTheOrderTheyWereMadeIn(_ backend: Backend)
        async throws
    {
        try await FreshHistory.with(backend) { _, store in
            for message in ["second", "third", "fourth"] {
                try await store.annotate(
                    Annotation(hostKey: F.host.key, subject: nil, at: Date(timeIntervalSince1970: 8), message: message))
            }
            try await store.annotate(
                Annotation(hostKey: F.host.key, subject: "vm", at: Date(timeIntervalSince1970: 7), message: "first"))
            #expect(
                try await store.annotations(hostKey: F.host.key).map(\.message) == [
                    "first", "second", "third", "fourth",
                ])
        }
    }

    /// Hosts whose last runs started at the same moment come in the order of
    /// their keys, each with every plan it ran (read in the one query).
    @Test(arguments: Backend.allCases) func hostsWhoseLastRunsTieAreOrderedByKeyWithAllTheirPlans(_ backend: Backend)
        async throws
    {
        try await FreshHistory.with(backend) { _, store in
            let hosts = ["alpha", "bravo", "charlie"].map {
                HostIdentity(cpuModel: "Test CPU", cores: 2, memoryGiB: 24, hostname: $0, machineID: $0)
            }
            let otherPlan = PlanIdentity(
                contenders: ["vm"], memoryMiB: 256, vcpus: 2, accelerator: "kvm", runs: 4, warmup: 1, concurrency: 1)
            for (index, host) in hosts.enumerated() {
                try await store.record(Self.run("20260101T000000Z-\(index)", at: 500, host: host))
                try await store.record(Self.run("20260102T000000Z-\(index)", at: 1000, host: host, plan: otherPlan))
            }
            let newest = HostIdentity(
                cpuModel: "Test CPU", cores: 4, memoryGiB: 8, hostname: "delta", machineID: "delta")
            try await store.record(Self.run("20260103T000000Z-0", at: 2000, host: newest))

            let entries = try await store.hosts()
            let tiedKeys = hosts.map(\.key).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            #expect(entries.map(\.key) == [newest.key] + tiedKeys)
            for entry in entries.dropFirst() {
                #expect(entry.runs == 2 && entry.plans == [F.plan.key: F.plan, otherPlan.key: otherPlan])
                #expect(
                    entry.firstRun == Date(timeIntervalSince1970: 500)
                        && entry.lastRun == Date(timeIntervalSince1970: 1000))
            }
            #expect(entries.first?.plans == [F.plan.key: F.plan] && entries.first?.identity == newest)
        }
    }

    /// What `mvm history list` shows of a run's verdicts: how many, and how
    /// many are regressions.
    @Test(arguments: Backend.allCases) func runOverviewsCountVerdictsAndRegressions(_ backend: Backend) async throws {
        try await FreshHistory.with(backend) { _, store in
            try await store.record(Self.run("20260101T000000Z-0", at: 1, decisions: []))
            try await store.record(Self.run("20260102T000000Z-0", at: 2, decisions: [.ok, .improvement, .warming]))
            try await store.record(
                Self.run("20260103T000000Z-0", at: 3, decisions: [.regression, .ok, .regression, .changed]))
            let overviews = try await store.runOverviews(hostKey: F.host.key, limit: 10)
            #expect(overviews.map(\.verdicts) == [4, 3, 0])
            #expect(overviews.map(\.regressions) == [2, 0, 0])
            #expect(overviews.map(\.header) == (try await store.runs(hostKey: F.host.key, limit: 10)))
            #expect(try await store.runOverviews(hostKey: "other", limit: 10).isEmpty)
            #expect(try await store.runOverviews(hostKey: nil, limit: 1).map(\.header.id) == ["20260103T000000Z-0"])
        }
    }
}
