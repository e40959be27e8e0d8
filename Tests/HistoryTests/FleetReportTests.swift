import Foundation
import MVMTesting
import Testing

@testable import History

/// The fleet report's model: groups, the newest good run, rankings. Its
/// page is tested in ReportsTests.
@Suite struct FleetReportTests {
    typealias X = FleetFixtures

    @Test func groupsEveryHostByPlanAndSkipsThePartialRunAsLatest() async throws {
        let report = try await X.report()
        #expect(report.hostCount == 3)
        #expect(report.groups.count == 4)
        let alpha = try #require(report.groups.first { $0.hostKey == X.alpha.key })
        #expect(alpha.points.count == 13)
        #expect(alpha.points.last?.isGood == false)
        #expect(alpha.latest?.header.startedAt == alpha.points[11].header.startedAt)
        #expect(alpha.stackChanges.map(\.changes) == [["qemu 7.2.0 → 8.0.0"]])
        #expect(report.groups.filter { $0.hostKey == X.bravo.key }.map(\.points.count).sorted() == [3, 12])
        let limited = try await {
            let (store, directory) = try await X.store()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            return try await FleetReport.load(from: store, runsPerHost: 5)
        }()
        #expect(limited.groups.first { $0.hostKey == X.alpha.key }?.points.count == 5)
    }

    @Test func ranksByReadyTimeAndByRatio() async throws {
        let report = try await X.report()
        let byReady = report.ranked(by: \.vmReady).map { $0.group.host.identity.hostname }
        #expect(byReady == ["bravo", "bravo", "alpha", X.hostile])
        let byRatio = report.ranked(by: \.readyRatio).map { $0.group.host.identity.hostname }
        #expect(byRatio == [X.hostile, "alpha", "bravo", "bravo"])
    }
}
