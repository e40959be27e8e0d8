import Foundation
import History
import Logging
import PostgresNIO
import Synchronization

/// The server history: one PostgreSQL database that a fleet of hosts share,
/// through postgres-nio. What it writes and reads is History's
/// `SQLHistoryStore`; this runs it.
///
/// Each run is written in one transaction, so a reader sees a whole run or
/// none of it, and a process that dies while writing leaves nothing behind
/// (the server rolls back the transaction of a dropped connection). Many
/// hosts record at once; row locks order their upserts of a shared host or
/// plan row, and nothing else is shared.
///
/// The store owns a `PostgresClient` (a connection pool) and the task that
/// runs it; `close()` ends both. The first connection is made directly, not
/// through the pool, so that a wrong URL, password or port fails at once
/// with a clear error instead of after the pool's minute of retries.
public final class PostgresHistoryStore: SQLHistoryStore {
    /// The database, without its password.
    public let url: PostgresURL
    /// The schema the tables are in; nil: the first of the server's
    /// search_path (normally "public").
    public let schema: String?
    private let client: PostgresClient
    private let runTask: Task<Void, Never>
    private let logger: Logger
    /// Set by `close()`: the pool then answers with an opaque "pool shut
    /// down", so the store says it is closed before asking it.
    private let closed = Atomic<Bool>(false)

    private init(url: PostgresURL, schema: String?, client: PostgresClient, logger: Logger) {
        self.url = url
        self.schema = schema
        self.client = client
        self.logger = logger
        runTask = Task { await client.run() }
    }

    deinit { runTask.cancel() }

    /// Connects to the database at `url`, migrating its schema when it is
    /// older than this mvm's.
    ///
    /// - Parameters:
    ///   - url: `postgresql://user[:password]@host[:port]/database[?sslmode=disable|require|verify-full]`.
    ///     Without a password in it, `PGPASSWORD` or the pgpass file gives one.
    ///   - environment: where `PGPASSWORD`, `PGPASSFILE` and `HOME` are read.
    ///   - schema: a schema of its own for the tables (created if missing),
    ///     so that several histories (or tests) can share one database;
    ///     lower-case letters, digits and "_" only.
    public static func connect(
        url text: String, environment: [String: String] = ProcessInfo.processInfo.environment, schema: String? = nil
    ) async throws -> PostgresHistoryStore {
        let url = try PostgresURL(text).resolvingPassword(environment: environment)
        if let schema,
            schema.isEmpty || !schema.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" })
        {
            throw PostgresHistoryError(
                .badURL,
                "not a schema name for the history at \(url): \(schema) (lower-case letters, digits and _ only)")
        }
        let logger = Logger(label: "mvm-history-postgres", factory: { _ in SwiftLogNoOpLogHandler() })
        var parameters = [("application_name", "mvm")]
        if let schema { parameters.append(("search_path", schema)) }

        var tls = TLSConfiguration.makeClientConfiguration()
        if url.sslMode == .require { tls.certificateVerification = .none }

        var direct = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database,
            tls: .disable)
        direct.options.additionalStartupParameters = parameters
        direct.options.connectTimeout = .seconds(10)
        if url.sslMode != .disable {
            do {
                direct.tls = .require(try NIOSSLContext(configuration: tls))
            } catch {
                throw PostgresHistoryError(
                    .unreachable, "cannot set up TLS for the history database at \(url): \(error)")
            }
        }
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: direct, id: 0, logger: logger)
        } catch {
            throw PostgresHistoryError.connecting(to: url, error)
        }
        do {
            try await PostgresSchema.migrate(connection, schema: schema, url: url, logger: logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try? await connection.close()

        var pooled = PostgresClient.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database,
            tls: url.sslMode == .disable ? .disable : .require(tls))
        pooled.options.additionalStartupParameters = parameters
        pooled.options.maximumConnections = 4
        let client = PostgresClient(configuration: pooled)
        return PostgresHistoryStore(url: url, schema: schema, client: client, logger: logger)
    }

    /// Ends the pool and its connections. The store answers nothing after.
    /// How long one read or one run's write may take before mvm gives up
    /// on the server (a write is one transaction of a few dozen rows).
    public static let operationLimit: Duration = .seconds(30)

    /// Ends the pool and its connections, waiting for them at most a few
    /// seconds. The store answers nothing after.
    public func close() async {
        closed.store(true, ordering: .relaxed)
        runTask.cancel()
        let runTask = runTask
        _ = try? await bounded(by: .seconds(5), orThrow: CancellationError()) { await runTask.value }
    }

    package func execute(_ statements: [StoreStatement]) async throws {
        try checkOpen()
        let logger = logger
        let client = client
        let queries = statements.map(\.postgresQuery)
        try await bounded(by: Self.operationLimit, orThrow: timedOut) {
            // postgres-nio's withTransaction, but without its ROLLBACK on a
            // connection the server has closed: the transaction went with
            // the connection, and a query written to a closed channel waits
            // for ever (postgres-nio 1.33 drops that write's failure).
            try await client.withConnection { connection in
                try await connection.query("BEGIN", logger: logger)
                do {
                    for query in queries { try await connection.query(query, logger: logger) }
                    try await connection.query("COMMIT", logger: logger)
                } catch {
                    if !connection.isClosed { _ = try? await connection.query("ROLLBACK", logger: logger) }
                    throw error
                }
            }
        }
    }

    package func fetch<Result: Sendable>(_ query: StoreQuery<Result>) async throws -> [Result] {
        try checkOpen()
        let logger = logger
        let client = client
        return try await bounded(by: Self.operationLimit, orThrow: timedOut) {
            var results: [Result] = []
            for try await row in try await client.query(query.statement.postgresQuery, logger: logger) {
                let values = try zip(query.columns, row).map { type, cell in try cell.storedValue(as: type) }
                results.append(try query.decode(StoredRow(values)))
            }
            return results
        }
    }

    /// The error of an operation that the server did not finish in time.
    private var timedOut: any Error {
        PostgresHistoryError(
            .unreachable,
            "the history database at \(url) did not answer within \(Self.operationLimit.components.seconds) s")
    }

    package func failure(_ action: String, _ error: any Error) -> any Error {
        PostgresHistoryError.failed(action, at: url, error)
    }

    private func checkOpen() throws(PostgresHistoryError) {
        if closed.load(ordering: .relaxed) {
            throw PostgresHistoryError(.query, "the store of the history database at \(url) is closed")
        }
    }
}

extension StoreStatement {
    /// The statement with PostgreSQL's `$1` placeholders and its values
    /// bound, each NULL with its type.
    var postgresQuery: PostgresQuery {
        let (sql, values) = rendered(for: .postgres)
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .text(let text): bindings.append(text)
            case .real(let number): bindings.append(number)
            case .integer(let number): bindings.append(number)
            case .boolean(let flag): bindings.append(flag)
            }
        }
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }
}

extension PostgresCell {
    /// The cell read as the query declared its column.
    func storedValue(as type: StoredType) throws -> StoredValue {
        switch type {
        case .text: .text(try decode(String?.self))
        case .real: .real(try decode(Double?.self))
        case .integer: .integer(try decode(Int64?.self))
        case .boolean: .boolean(try decode(Bool?.self))
        }
    }
}
