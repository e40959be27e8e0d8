import Compare
import Foundation
import MVMTesting
import PostgresHistory
import SQLiteHistory
import Testing

@testable import History

/// The history stores the same tests run against.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// The tests' PostgreSQL, as scripts/test-postgres.sh makes it.
    static var postgresURL: String {
        ProcessInfo.processInfo.environment["MVM_TEST_POSTGRES_URL"]
            ?? "postgresql://mvm:mvm-test@127.0.0.1:55432/mvm_test"
    }
}

/// A history of its own for one test: a fresh SQLite file, or a fresh
/// schema in the tests' PostgreSQL database. `open` gives another store on
/// the same history (as a second process would have); `finish` closes them
/// and removes the history.
actor FreshHistory {
    let backend: Backend
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(
        "mvm-history-\(UUID().uuidString)/history.sqlite"
    ).path
    let schema = "mvm_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    private var opened: [PostgresHistoryStore] = []

    init(_ backend: Backend) { self.backend = backend }

    func open() async throws -> any HistoryStore {
        switch backend {
        case .sqlite:
            return try SQLiteHistoryStore(path: path)
        case .postgres:
            let store = try await PostgresHistoryStore.connect(url: Backend.postgresURL, schema: schema)
            opened.append(store)
            return store
        }
    }

    func finish() async {
        switch backend {
        case .sqlite:
            try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path)
        case .postgres:
            // The schema's name is the test's own, made of letters, digits and _.
            if let store = opened.first {
                try? await store.execute([StoreStatement(verbatim: "DROP SCHEMA \(schema) CASCADE")])
            }
            for store in opened { await store.close() }
            opened = []
        }
    }

    /// Runs `body` on a store of a fresh history, removing it after, pass or fail.
    static func with(_ backend: Backend, _ body: (FreshHistory, any HistoryStore) async throws -> Void) async throws {
        let history = FreshHistory(backend)
        do {
            try await body(history, try await history.open())
        } catch {
            await history.finish()
            throw error
        }
        await history.finish()
    }
}

@Suite struct StoreTests {
    typealias F = VerdictFixtures

    @Test(arguments: Backend.allCases) func aRecordedRunReadsBackWhole(_ backend: Backend) async throws {
        try await FreshHistory.with(backend) { _, store in
            var run = F.recorded(1, vmReady: 1.2, label: "first")
            run.failures = ["none really"]
            try await store.record(run)
            let back = try #require(try await store.run(id: run.header.id))
            #expect(back == run)
            #expect(back.report == run.report)
            #expect(back.header.label == "first")
            #expect(back.failures == ["none really"])
            #expect(back.host == F.host)
            #expect(try await store.run(id: "no-such-run") == nil)
        }
    }

    @Test(arguments: Backend.allCases) func observationsComeOldestFirstWithTheirSamples(_ backend: Backend) async throws
    {
        try await FreshHistory.with(backend) { _, store in
            let key = SeriesKey(
                hostKey: F.host.key, planKey: F.plan.key, subject: "vm", metric: "ready", unit: .seconds)
            // The verdict given on run 2 comes back with its observation: the
            // rules read it to know which steps were explained.
            var judged = SeriesVerdict(
                series: key, decision: .regression, rule: .nights, baselineRunIDs: [F.header(1).id],
                baselineMedian: 1.1, newMedian: 1.2,
                stackChanges: [], reason: "the last 2 nights together")
            judged.stepRunID = F.header(1).id
            judged.nights = 2
            for index in [3, 1, 2] {
                var run = F.recorded(index, vmReady: 1.0 + Double(index) / 10)
                if index == 2 { run.verdicts = [judged] }
                try await store.record(run)
            }
            try await store.record(F.recorded(4, vmReady: 1.2, partial: true))
            let observations = try await store.observations(of: key)
            #expect(observations.map(\.run.id) == [1, 2, 3, 4].map { F.header($0).id })
            #expect(observations.last?.run.partial == true)
            #expect(observations.first?.values.samples.count == 8)
            #expect(observations.map(\.verdict) == [nil, judged, nil, nil])
            let ratio = SeriesKey(
                hostKey: F.host.key, planKey: F.plan.key, subject: "vm/container", metric: "ready", unit: .ratio)
            #expect(try await store.observations(of: ratio).count == 4)
            #expect(try await store.runs(hostKey: F.host.key, limit: 2).map(\.id) == [4, 3].map { F.header($0).id })
            #expect(try await store.runs(hostKey: nil, limit: 10).count == 4)
            #expect(try await store.runs(hostKey: "other", limit: 10).isEmpty)
            let hosts = try await store.hosts()
            #expect(hosts.count == 1 && hosts.first?.runs == 4 && hosts.first?.plans[F.plan.key] == F.plan)
            #expect(hosts.first?.firstRun == F.header(1).startedAt && hosts.first?.lastRun == F.header(4).startedAt)
        }
    }

    @Test(arguments: Backend.allCases) func annotationsAreKeptPerHost(_ backend: Backend) async throws {
        try await FreshHistory.with(backend) { _, store in
            try await store.annotate(
                Annotation(hostKey: F.host.key, subject: "vm", at: Date(timeIntervalSince1970: 7), message: "QEMU 8.0"))
            try await store.annotate(
                Annotation(hostKey: F.host.key, subject: nil, at: Date(timeIntervalSince1970: 5), message: "kernel 6.1")
            )
            try await store.annotate(
                Annotation(hostKey: "other", subject: nil, at: Date(timeIntervalSince1970: 6), message: "elsewhere"))
            let notes = try await store.annotations(hostKey: F.host.key)
            #expect(notes.map(\.message) == ["kernel 6.1", "QEMU 8.0"])
            #expect(notes.last?.subject == "vm" && notes.first?.subject == nil)
            #expect(notes.allSatisfy { $0.id != nil })
        }
    }

    /// Two writers on one history (as two nightly jobs, or two hosts of a
    /// fleet, would be): every run of both lands.
    @Test(arguments: Backend.allCases) func twoWritersAtOnceLoseNothing(_ backend: Backend) async throws {
        try await FreshHistory.with(backend) { history, first in
            let second = try await history.open()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (offset, store) in [(0, first), (100, second)] {
                    group.addTask {
                        for index in 0..<15 { try await store.record(F.recorded(offset + index, vmReady: 1.2)) }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await first.runs(hostKey: nil, limit: 100).count == 30)
            #expect(try await second.runs(hostKey: nil, limit: 100).count == 30)
            if let sqlite = second as? SQLiteHistoryStore { #expect(try await sqlite.integrityCheck() == "ok") }
        }
    }

    @Test(arguments: Backend.allCases) func recordingTheSameRunTwiceFailsAndKeepsTheFirst(_ backend: Backend)
        async throws
    {
        try await FreshHistory.with(backend) { _, store in
            let run = F.recorded(1, vmReady: 1.2)
            try await store.record(run)
            await #expect(throws: (any Error).self) { try await store.record(F.recorded(1, vmReady: 9)) }
            #expect(try await store.run(id: run.header.id)?.report == run.report)
            let key = SeriesKey(
                hostKey: F.host.key, planKey: F.plan.key, subject: "vm", metric: "ready", unit: .seconds)
            #expect(try await store.observations(of: key).count == 1)
        }
    }
}
