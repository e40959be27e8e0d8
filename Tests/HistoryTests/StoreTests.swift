import Compare
import Foundation
import SQLiteHistory
import Testing

@testable import History

@Suite struct SQLiteStoreTests {
    typealias F = VerdictFixtures

    func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("mvm-history-\(UUID().uuidString)/history.sqlite").path
    }

    func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path)
    }

    @Test func aRecordedRunReadsBackWhole() async throws {
        let path = temporaryPath()
        defer { remove(path) }
        let store = try SQLiteHistoryStore(path: path)
        var run = F.recorded(1, vmReady: 1.2, label: "first")
        run.failures = ["none really"]
        try await store.record(run)
        let back = try #require(try await store.run(id: run.header.id))
        #expect(back.report == run.report)
        #expect(back.header.label == "first")
        #expect(back.failures == ["none really"])
        #expect(back.host == F.host)
        #expect(try await store.integrityCheck() == "ok")
        // The file is its owner's only.
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test func observationsComeOldestFirstWithTheirSamples() async throws {
        let path = temporaryPath()
        defer { remove(path) }
        let store = try SQLiteHistoryStore(path: path)
        for index in [3, 1, 2] { try await store.record(F.recorded(index, vmReady: 1.0 + Double(index) / 10)) }
        try await store.record(F.recorded(4, vmReady: 1.2, partial: true))
        let key = SeriesKey(hostKey: F.host.key, planKey: F.plan.key, subject: "vm", metric: "ready", unit: .seconds)
        let observations = try await store.observations(of: key)
        #expect(observations.map(\.run.id) == [1, 2, 3, 4].map { F.header($0).id })
        #expect(observations.last?.run.partial == true)
        #expect(observations.first?.values.samples.count == 8)
        let ratio = SeriesKey(hostKey: F.host.key, planKey: F.plan.key, subject: "vm/container", metric: "ready", unit: .ratio)
        #expect(try await store.observations(of: ratio).count == 4)
        #expect(try await store.runs(hostKey: F.host.key, limit: 2).map(\.id) == [4, 3].map { F.header($0).id })
        let hosts = try await store.hosts()
        #expect(hosts.count == 1 && hosts.first?.runs == 4 && hosts.first?.plans[F.plan.key] == F.plan)
    }

    @Test func annotationsAreKeptPerHost() async throws {
        let path = temporaryPath()
        defer { remove(path) }
        let store = try SQLiteHistoryStore(path: path)
        try await store.annotate(Annotation(hostKey: F.host.key, subject: "vm", at: Date(timeIntervalSince1970: 5), message: "QEMU 8.0"))
        try await store.annotate(Annotation(hostKey: "other", subject: nil, at: Date(timeIntervalSince1970: 6), message: "elsewhere"))
        let notes = try await store.annotations(hostKey: F.host.key)
        #expect(notes.map(\.message) == ["QEMU 8.0"])
        #expect(notes.first?.subject == "vm")
    }

    /// Two writers on one file (as two nightly jobs would be): every run of
    /// both lands, and the file stays sound.
    @Test func twoWritersAtOnceLoseNothing() async throws {
        let path = temporaryPath()
        defer { remove(path) }
        let first = try SQLiteHistoryStore(path: path)
        let second = try SQLiteHistoryStore(path: path)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (offset, store) in [(0, first), (100, second)] {
                group.addTask {
                    for index in 0..<15 { try await store.record(F.recorded(offset + index, vmReady: 1.2)) }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await first.runs(hostKey: nil, limit: 100).count == 30)
        #expect(try await second.integrityCheck() == "ok")
    }

    @Test func recordingTheSameRunTwiceFailsAndKeepsTheFirst() async throws {
        let path = temporaryPath()
        defer { remove(path) }
        let store = try SQLiteHistoryStore(path: path)
        let run = F.recorded(1, vmReady: 1.2)
        try await store.record(run)
        await #expect(throws: HistoryStoreError.self) { try await store.record(F.recorded(1, vmReady: 9)) }
        #expect(try await store.run(id: run.header.id)?.report == run.report)
        let key = SeriesKey(hostKey: F.host.key, planKey: F.plan.key, subject: "vm", metric: "ready", unit: .seconds)
        #expect(try await store.observations(of: key).count == 1)
    }

    @Test func anUnopenableStoreSaysWhere() {
        #expect(throws: HistoryStoreError.self) { try SQLiteHistoryStore(path: "/proc/mvm-no/history.sqlite") }
    }
}
