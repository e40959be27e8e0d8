/// A history store kept in an SQL database. A backend gives what differs
/// from one database to another: running statements in one transaction,
/// reading a query's rows, and saying what went wrong. Every `HistoryStore`
/// method is written once, in the extension below, on those three, so that
/// the backends write the same rows, read them the same way and list them
/// in the same order.
package protocol SQLHistoryStore: HistoryStore {
    /// Runs `statements`, in order, in one transaction: all take effect or
    /// none does.
    func execute(_ statements: [StoreStatement]) async throws

    /// The rows `query` answers, read as its columns declare and decoded.
    func fetch<Result: Sendable>(_ query: StoreQuery<Result>) async throws -> [Result]

    /// `error`, met while `action` (e.g. "reading run X"), as this store
    /// reports it: naming the database, on one line.
    func failure(_ action: String, _ error: any Error) -> any Error
}

extension SQLHistoryStore {
    public func record(_ run: RecordedRun) async throws {
        try await doing("cannot record run \(run.header.id)") {
            try await execute(try run.storedRows().flatMap(\.statements))
        }
    }

    public func run(id: String) async throws -> RecordedRun? {
        try await doing("reading run \(id)") {
            guard var run = try await fetch(StoreQueries.run(id: id)).first else { return nil }
            run.verdicts = try await fetch(StoreQueries.verdicts(ofRun: id))
            return run
        }
    }

    public func runs(hostKey: String?, limit: Int) async throws -> [RunHeader] {
        try await doing("listing runs") { try await fetch(StoreQueries.runs(hostKey: hostKey, limit: limit)) }
    }

    public func runOverviews(hostKey: String?, limit: Int) async throws -> [RunOverview] {
        try await doing("listing runs") { try await fetch(StoreQueries.runOverviews(hostKey: hostKey, limit: limit)) }
    }

    public func observations(of series: SeriesKey) async throws -> [SeriesObservation] {
        try await doing("reading the series \(series.name)") { try await fetch(StoreQueries.observations(of: series)) }
    }

    public func annotate(_ annotation: Annotation) async throws {
        try await doing("cannot annotate") { try await execute(annotation.storedRows.statements) }
    }

    public func annotations(hostKey: String) async throws -> [Annotation] {
        try await doing("reading annotations") { try await fetch(StoreQueries.annotations(hostKey: hostKey)) }
    }

    public func hosts() async throws -> [HostEntry] {
        try await doing("listing hosts") { StoreQueries.hostEntries(try await fetch(StoreQueries.hostPlans)) }
    }

    private func doing<T>(_ action: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw failure(action, error)
        }
    }
}
