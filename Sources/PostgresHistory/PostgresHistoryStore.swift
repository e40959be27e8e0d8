import Compare
import Foundation
import History
import Logging
import PostgresNIO
import Synchronization

/// The server history: one PostgreSQL database that a fleet of hosts share,
/// through postgres-nio.
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
public final class PostgresHistoryStore: HistoryStore {
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
        if let schema, schema.isEmpty || !schema.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }) {
            throw PostgresHistoryError(.badURL, "not a schema name for the history at \(url): \(schema) (lower-case letters, digits and _ only)")
        }
        let logger = Logger(label: "mvm-history-postgres", factory: { _ in SwiftLogNoOpLogHandler() })
        var parameters = [("application_name", "mvm")]
        if let schema { parameters.append(("search_path", schema)) }

        var tls = TLSConfiguration.makeClientConfiguration()
        if url.sslMode == .require { tls.certificateVerification = .none }

        var direct = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: .disable)
        direct.options.additionalStartupParameters = parameters
        direct.options.connectTimeout = .seconds(10)
        if url.sslMode != .disable {
            do {
                direct.tls = .require(try NIOSSLContext(configuration: tls))
            } catch {
                throw PostgresHistoryError(.unreachable, "cannot set up TLS for the history database at \(url): \(error)")
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
    public func close() async {
        closed.store(true, ordering: .relaxed)
        runTask.cancel()
        await runTask.value
    }

    public func record(_ run: RecordedRun) async throws {
        let header = run.header
        let logger = logger
        do {
            try checkOpen()
            let host = try storedJSON(run.host)
            let plan = try storedJSON(run.plan)
            let headerJSON = try storedJSON(header)
            let conditions = try storedJSON(run.conditions)
            let failures = try storedJSON(run.failures)
            let report = try storedJSON(run.report)
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query(
                    "INSERT INTO host (key, identity) VALUES (\(header.hostKey), \(host)) ON CONFLICT (key) DO UPDATE SET identity = excluded.identity",
                    logger: logger)
                try await connection.query(
                    "INSERT INTO plan (key, identity) VALUES (\(header.planKey), \(plan)) ON CONFLICT (key) DO NOTHING", logger: logger)
                try await connection.query(
                    """
                    INSERT INTO run (id, host_key, plan_key, label, started_at, partial, failed, under_load, header, conditions, failures, report)
                    VALUES (\(header.id), \(header.hostKey), \(header.planKey), \(header.label), \(header.startedAt.timeIntervalSince1970),
                    \(header.partial), \(header.failed), \(header.underLoad), \(headerJSON), \(conditions), \(failures), \(report))
                    """,
                    logger: logger)
                for sample in run.report.samples {
                    for (metric, value) in sample.storedRows {
                        try await connection.query(
                            """
                            INSERT INTO sample (run_id, contender, run_index, instance, warmup, ok, failure, metric, value)
                            VALUES (\(header.id), \(sample.contender), \(Int32(clamping: sample.run)), \(Int32(clamping: sample.instance)),
                            \(sample.warmup), \(sample.ok), \(sample.failure), \(metric), \(value))
                            """,
                            logger: logger)
                    }
                }
                for (key, values) in run.series {
                    let samples = try storedJSON(values.samples)
                    try await connection.query(
                        """
                        INSERT INTO summary (run_id, subject, metric, unit, median, low, high, samples)
                        VALUES (\(header.id), \(key.subject), \(key.metric), \(key.unit.rawValue), \(values.median), \(values.low),
                        \(values.high), \(samples))
                        """,
                        logger: logger)
                }
                for verdict in run.verdicts {
                    let detail = try storedJSON(verdict)
                    try await connection.query(
                        """
                        INSERT INTO verdict (run_id, subject, metric, decision, detail)
                        VALUES (\(header.id), \(verdict.series.subject), \(verdict.series.metric), \(verdict.decision.rawValue), \(detail))
                        """,
                        logger: logger)
                }
            }
        } catch {
            throw PostgresHistoryError.failed("cannot record run \(header.id)", at: url, error)
        }
    }

    public func run(id: String) async throws -> RecordedRun? {
        try await reading("reading run \(id)") { client, logger in
            let rows = try await client.query(
                """
                SELECT run.header, run.conditions, run.failures, run.report, host.identity, plan.identity
                FROM run JOIN host ON host.key = run.host_key JOIN plan ON plan.key = run.plan_key WHERE run.id = \(id)
                """,
                logger: logger)
            var found: (String, String, String, String, String, String)?
            for try await row in rows.decode((String, String, String, String, String, String).self) { found = row }
            guard let (header, conditions, failures, report, host, plan) = found else { return nil }
            var verdicts: [SeriesVerdict] = []
            let verdictRows = try await client.query(
                #"SELECT detail FROM verdict WHERE run_id = \#(id) ORDER BY subject COLLATE "C", metric COLLATE "C""#, logger: logger)
            for try await detail in verdictRows.decode(String.self) { verdicts.append(try decodeStoredJSON(SeriesVerdict.self, detail)) }
            return RecordedRun(
                header: try decodeStoredJSON(RunHeader.self, header), host: try decodeStoredJSON(HostIdentity.self, host),
                plan: try decodeStoredJSON(PlanIdentity.self, plan), conditions: try decodeStoredJSON(HostConditions.self, conditions),
                report: try decodeStoredJSON(ComparisonReport.self, report), failures: try decodeStoredJSON([String].self, failures),
                verdicts: verdicts)
        }
    }

    public func runs(hostKey: String?, limit: Int) async throws -> [RunHeader] {
        try await reading("listing runs") { client, logger in
            let rows: PostgresRowSequence
            if let hostKey {
                rows = try await client.query(
                    "SELECT header FROM run WHERE host_key = \(hostKey) ORDER BY started_at DESC, id DESC LIMIT \(limit)", logger: logger)
            } else {
                rows = try await client.query("SELECT header FROM run ORDER BY started_at DESC, id DESC LIMIT \(limit)", logger: logger)
            }
            var headers: [RunHeader] = []
            for try await header in rows.decode(String.self) { headers.append(try decodeStoredJSON(RunHeader.self, header)) }
            return headers
        }
    }

    public func observations(of series: SeriesKey) async throws -> [SeriesObservation] {
        try await reading("reading the series \(series.name)") { client, logger in
            let rows = try await client.query(
                """
                SELECT run.header, summary.median, summary.low, summary.high, summary.samples, verdict.detail
                FROM summary JOIN run ON run.id = summary.run_id
                LEFT JOIN verdict USING (run_id, subject, metric)
                WHERE run.host_key = \(series.hostKey) AND run.plan_key = \(series.planKey)
                AND summary.subject = \(series.subject) AND summary.metric = \(series.metric)
                ORDER BY run.started_at, run.id COLLATE "C"
                """,
                logger: logger)
            var observations: [SeriesObservation] = []
            for try await (header, median, low, high, samples, verdict) in rows.decode((String, Double, Double, Double, String, String?).self) {
                observations.append(SeriesObservation(
                    run: try decodeStoredJSON(RunHeader.self, header),
                    values: SeriesValues(samples: try decodeStoredJSON([Double].self, samples), median: median, low: low, high: high),
                    verdict: try verdict.map { try decodeStoredJSON(SeriesVerdict.self, $0) }))
            }
            return observations
        }
    }

    public func annotate(_ annotation: Annotation) async throws {
        do {
            try checkOpen()
            try await client.query(
                """
                INSERT INTO annotation (host_key, subject, at, message)
                VALUES (\(annotation.hostKey), \(annotation.subject), \(annotation.at.timeIntervalSince1970), \(annotation.message))
                """,
                logger: logger)
        } catch {
            throw PostgresHistoryError.failed("cannot annotate", at: url, error)
        }
    }

    public func annotations(hostKey: String) async throws -> [Annotation] {
        try await reading("reading annotations") { client, logger in
            let rows = try await client.query(
                "SELECT id, host_key, subject, at, message FROM annotation WHERE host_key = \(hostKey) ORDER BY at, id", logger: logger)
            var annotations: [Annotation] = []
            for try await (id, host, subject, at, message) in rows.decode((Int64, String, String?, Double, String).self) {
                annotations.append(Annotation(id: id, hostKey: host, subject: subject, at: Date(timeIntervalSince1970: at), message: message))
            }
            return annotations
        }
    }

    public func hosts() async throws -> [HostEntry] {
        try await reading("listing hosts") { client, logger in
            let rows = try await client.query(
                """
                SELECT host.key, host.identity, COUNT(run.id) AS runs, MIN(run.started_at) AS first, MAX(run.started_at) AS last
                FROM host LEFT JOIN run ON run.host_key = host.key GROUP BY host.key ORDER BY last DESC NULLS LAST, host.key COLLATE "C"
                """,
                logger: logger)
            var hosts: [(String, String, Int, Double?, Double?)] = []
            for try await row in rows.decode((String, String, Int, Double?, Double?).self) { hosts.append(row) }
            var entries: [HostEntry] = []
            for (key, identity, runs, first, last) in hosts {
                let planRows = try await client.query(
                    "SELECT DISTINCT plan.key, plan.identity FROM plan JOIN run ON run.plan_key = plan.key WHERE run.host_key = \(key)",
                    logger: logger)
                var plans: [String: PlanIdentity] = [:]
                for try await (planKey, plan) in planRows.decode((String, String).self) {
                    plans[planKey] = try decodeStoredJSON(PlanIdentity.self, plan)
                }
                entries.append(HostEntry(
                    key: key, identity: try decodeStoredJSON(HostIdentity.self, identity), runs: runs, plans: plans,
                    firstRun: first.map(Date.init(timeIntervalSince1970:)), lastRun: last.map(Date.init(timeIntervalSince1970:))))
            }
            return entries
        }
    }

    /// Test-only: runs `sql` as it is (to age or break a schema on purpose).
    func executeForTests(_ sql: String) async throws {
        try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger)
    }

    private func checkOpen() throws(PostgresHistoryError) {
        if closed.load(ordering: .relaxed) { throw PostgresHistoryError(.query, "the store of the history database at \(url) is closed") }
    }

    private func reading<T>(_ action: String, _ body: (PostgresClient, Logger) async throws -> T) async throws -> T {
        do {
            try checkOpen()
            return try await body(client, logger)
        } catch {
            throw PostgresHistoryError.failed(action, at: url, error)
        }
    }
}
