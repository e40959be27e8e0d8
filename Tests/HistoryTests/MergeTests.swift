import Foundation
import MVMTesting
import SQLiteHistory
import Testing

@testable import History

@Suite struct MergeTests {
    typealias F = VerdictFixtures

    /// A host's offline history merged twice into another store: every run
    /// and annotation once, whole.
    @Test func mergingTwiceAddsNothingTheSecondTime() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mvm-merge-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let local = try SQLiteHistoryStore(path: directory.appendingPathComponent("local.sqlite").path)
        let fleet = try SQLiteHistoryStore(path: directory.appendingPathComponent("fleet.sqlite").path)
        for index in 0..<4 { try await local.record(F.recorded(index, vmReady: 1.2)) }
        try await fleet.record(F.recorded(0, vmReady: 1.2))
        try await local.annotate(
            Annotation(hostKey: F.host.key, subject: nil, at: Date(timeIntervalSince1970: 9), message: "QEMU 8.0"))

        let first = try await merge(from: local, into: fleet)
        #expect(first == MergeSummary(added: 3, alreadyThere: 1, annotationsAdded: 1))
        let second = try await merge(from: local, into: fleet)
        #expect(second == MergeSummary(added: 0, alreadyThere: 4, annotationsAdded: 0))
        #expect(try await fleet.runs(hostKey: nil, limit: 100).count == 4)
        let id = F.header(3).id
        #expect(try await fleet.run(id: id)?.report == (try await local.run(id: id))?.report)
        #expect(try await fleet.annotations(hostKey: F.host.key).map(\.message) == ["QEMU 8.0"])
    }
}
