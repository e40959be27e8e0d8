import Foundation

/// What `merge` did.
public struct MergeSummary: Sendable, Equatable {
    public var added: Int
    /// Runs the target already had (same id): left as they were.
    public var alreadyThere: Int
    public var annotationsAdded: Int
}

/// Copies every run of `source` that `target` lacks, with its samples,
/// summary and verdicts, and the annotations it lacks. Runs carry stable
/// ids (start time and a random suffix), so merging the same file twice adds
/// nothing the second time. Each run is one transaction of the target, as
/// any recording is.
public func merge(from source: any HistoryStore, into target: any HistoryStore) async throws -> MergeSummary {
    var summary = MergeSummary(added: 0, alreadyThere: 0, annotationsAdded: 0)
    let existing = Set(try await target.runs(hostKey: nil, limit: Int(Int32.max)).map(\.id))
    // Oldest first, as they were recorded.
    for header in try await source.runs(hostKey: nil, limit: Int(Int32.max)).reversed() {
        if existing.contains(header.id) {
            summary.alreadyThere += 1
            continue
        }
        guard let run = try await source.run(id: header.id) else { continue }
        try await target.record(run)
        summary.added += 1
    }
    for host in try await source.hosts() {
        let present = try await target.annotations(hostKey: host.key)
        for note in try await source.annotations(hostKey: host.key)
        where !present.contains(where: {
            $0.subject == note.subject && $0.message == note.message && abs($0.at.timeIntervalSince(note.at)) < 0.001
        }) {
            try await target.annotate(
                Annotation(hostKey: note.hostKey, subject: note.subject, at: note.at, message: note.message))
            summary.annotationsAdded += 1
        }
    }
    return summary
}
