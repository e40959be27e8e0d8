import Logging
import PostgresNIO

/// The history's tables in PostgreSQL: the SQLite store's, column for
/// column, in Postgres types, plus `mvm_schema`, which says which of these
/// migrations the database has.
enum PostgresSchema {
    /// The newest schema this mvm knows.
    static let version = 1

    /// The key of the advisory lock every migration holds, so that many
    /// hosts starting at once against an empty database migrate it once
    /// ("mvmhist" in ASCII; any fixed 64-bit number would do).
    static let migrationLockKey: Int64 = 0x6D76_6D68_6973_74

    /// Each migration's statements, in order; migration N brings the schema
    /// to version N. One statement per string: the extended query protocol
    /// takes one at a time.
    static let migrations: [[String]] = [
        [
            "CREATE TABLE host (key TEXT PRIMARY KEY NOT NULL, identity TEXT NOT NULL)",
            "CREATE TABLE plan (key TEXT PRIMARY KEY NOT NULL, identity TEXT NOT NULL)",
            """
            CREATE TABLE run (
                id TEXT PRIMARY KEY NOT NULL,
                host_key TEXT NOT NULL REFERENCES host(key),
                plan_key TEXT NOT NULL REFERENCES plan(key),
                label TEXT,
                started_at DOUBLE PRECISION NOT NULL,
                partial BOOLEAN NOT NULL,
                failed BOOLEAN NOT NULL,
                under_load BOOLEAN NOT NULL,
                header TEXT NOT NULL,
                conditions TEXT NOT NULL,
                failures TEXT NOT NULL,
                report TEXT NOT NULL
            )
            """,
            "CREATE INDEX run_by_host ON run(host_key, plan_key, started_at)",
            "CREATE INDEX run_by_label ON run(label)",
            """
            CREATE TABLE sample (
                run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                contender TEXT NOT NULL,
                run_index INTEGER NOT NULL,
                instance INTEGER NOT NULL,
                warmup BOOLEAN NOT NULL,
                ok BOOLEAN NOT NULL,
                failure TEXT,
                metric TEXT,
                value DOUBLE PRECISION
            )
            """,
            "CREATE INDEX sample_by_run ON sample(run_id)",
            """
            CREATE TABLE summary (
                run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                subject TEXT NOT NULL,
                metric TEXT NOT NULL,
                unit TEXT NOT NULL,
                median DOUBLE PRECISION NOT NULL,
                low DOUBLE PRECISION NOT NULL,
                high DOUBLE PRECISION NOT NULL,
                samples TEXT NOT NULL,
                PRIMARY KEY (run_id, subject, metric)
            )
            """,
            """
            CREATE TABLE verdict (
                run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                subject TEXT NOT NULL,
                metric TEXT NOT NULL,
                decision TEXT NOT NULL,
                detail TEXT NOT NULL,
                PRIMARY KEY (run_id, subject, metric)
            )
            """,
            """
            CREATE TABLE annotation (
                id BIGSERIAL PRIMARY KEY,
                host_key TEXT NOT NULL,
                subject TEXT,
                at DOUBLE PRECISION NOT NULL,
                message TEXT NOT NULL
            )
            """,
        ]
    ]

    /// Brings the database to `version`, in one transaction under the
    /// advisory lock: a second mvm waits for the first, then finds the
    /// schema current. A database migrated by a newer mvm is left alone.
    ///
    /// `schema`, when given, is created here too, under the lock: two
    /// `CREATE SCHEMA IF NOT EXISTS` at once can both try to create it. The
    /// caller has checked its name and put it first on the search_path.
    static func migrate(_ connection: PostgresConnection, schema: String?, url: PostgresURL, logger: Logger) async throws {
        do {
            try await connection.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLockKey))", logger: logger)
                if let schema {
                    try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(schema)"), logger: logger)
                }
                try await connection.query("CREATE TABLE IF NOT EXISTS mvm_schema (version INTEGER NOT NULL)", logger: logger)
                var found = 0
                for try await version in try await connection.query("SELECT COALESCE(MAX(version), 0) FROM mvm_schema", logger: logger)
                    .decode(Int.self)
                {
                    found = version
                }
                if found > version {
                    throw PostgresHistoryError(
                        .newerSchema(found: found, known: version),
                        "the history database at \(url) has history schema \(found), newer than this mvm (\(version)): upgrade mvm")
                }
                guard found < version else { return }
                for statement in migrations[found...].joined() {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("DELETE FROM mvm_schema", logger: logger)
                try await connection.query("INSERT INTO mvm_schema (version) VALUES (\(Int32(version)))", logger: logger)
            }
        } catch {
            throw PostgresHistoryError.failed("migrating the schema", at: url, error)
        }
    }
}
