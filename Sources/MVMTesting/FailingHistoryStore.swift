import History
import Synchronization

/// A history store that fails the operations it is told to, and passes the
/// others to the store it wraps: for testing what a job does when its
/// database goes away in the middle of a run.
public final class FailingHistoryStore: HistoryStore {
    public enum Operation: Sendable, Hashable {
        case record, read, annotate
    }

    private let wrapped: any HistoryStore
    private let failing: Mutex<Set<Operation>>

    public init(wrapping store: any HistoryStore, failing: Set<Operation>) {
        wrapped = store
        self.failing = Mutex(failing)
    }

    /// Changes which operations fail from now on.
    public func fail(_ operations: Set<Operation>) {
        failing.withLock { $0 = operations }
    }

    private func check(_ operation: Operation) throws(InjectedStoreFailure) {
        if failing.withLock({ $0.contains(operation) }) { throw InjectedStoreFailure(operation: operation) }
    }

    public func record(_ run: RecordedRun) async throws {
        try check(.record)
        try await wrapped.record(run)
    }

    public func run(id: String) async throws -> RecordedRun? {
        try check(.read)
        return try await wrapped.run(id: id)
    }

    public func runs(hostKey: String?, limit: Int) async throws -> [RunHeader] {
        try check(.read)
        return try await wrapped.runs(hostKey: hostKey, limit: limit)
    }

    public func runOverviews(hostKey: String?, limit: Int) async throws -> [RunOverview] {
        try check(.read)
        return try await wrapped.runOverviews(hostKey: hostKey, limit: limit)
    }

    public func observations(of series: SeriesKey) async throws -> [SeriesObservation] {
        try check(.read)
        return try await wrapped.observations(of: series)
    }

    public func annotate(_ annotation: Annotation) async throws {
        try check(.annotate)
        try await wrapped.annotate(annotation)
    }

    public func annotations(hostKey: String) async throws -> [Annotation] {
        try check(.read)
        return try await wrapped.annotations(hostKey: hostKey)
    }

    public func hosts() async throws -> [HostEntry] {
        try check(.read)
        return try await wrapped.hosts()
    }
}

/// The failure a `FailingHistoryStore` was told to give.
public struct InjectedStoreFailure: Error, CustomStringConvertible {
    public let operation: FailingHistoryStore.Operation
    public var description: String { "the history store was made to fail (\(operation))" }
}
