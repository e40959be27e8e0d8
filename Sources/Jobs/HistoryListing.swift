import Foundation
import History

/// What `mvm history list` shows: the recorded runs, newest first, each
/// with its state and how its verdicts came out. Read with one query,
/// however many runs.
public struct HistoryListing: Sendable {
    public var runs: [RunOverview]

    /// The runs of the host `hostKey` (nil: every host), at most `limit`.
    public init(store: any HistoryStore, hostKey: String?, limit: Int) async throws {
        runs = try await store.runOverviews(hostKey: hostKey, limit: limit)
    }

    /// The table: a header row, then one row per run.
    public var rows: [[String]] {
        [["run", "started", "label", "plan", "state", "verdicts"]] + runs.map(Self.row)
    }

    private static func row(_ run: RunOverview) -> [String] {
        let header = run.header
        var state: [String] = []
        if header.partial { state.append("partial") }
        if header.failed { state.append("failed") }
        if header.underLoad { state.append("under load") }
        let verdicts = run.verdicts == 0 ? "-" : run.regressions > 0 ? "\(run.regressions) regression(s)" : "ok"
        return [
            header.id, header.startedAt.formatted(.iso8601), header.label ?? "-", header.planKey,
            state.isEmpty ? "good" : state.joined(separator: ", "), verdicts,
        ]
    }
}
