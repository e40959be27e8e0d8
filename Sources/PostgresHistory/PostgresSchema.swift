import History
import Logging
import PostgresNIO

/// The history's tables in PostgreSQL, from History's one description of
/// them (`HistorySchema`), plus `mvm_schema`, which says which of its
/// migrations the database has.
enum PostgresSchema {
    /// The newest schema this mvm knows.
    static let version = HistorySchema.version

    /// The key of the advisory lock every migration holds, so that many
    /// hosts starting at once against an empty database migrate it once
    /// ("mvmhist" in ASCII; any fixed 64-bit number would do).
    static let migrationLockKey: Int64 = 0x6D76_6D68_6973_74

    /// Each migration's statements, in order; migration N brings the schema
    /// to version N. One statement per string: the extended query protocol
    /// takes one at a time.
    static let migrations = HistorySchema.migrations(in: .postgres)

    /// Brings the database to `version`, in one transaction under the
    /// advisory lock: a second mvm waits for the first, then finds the
    /// schema current. A database migrated by a newer mvm is left alone.
    ///
    /// `schema`, when given, is created here too, under the lock: two
    /// `CREATE SCHEMA IF NOT EXISTS` at once can both try to create it. The
    /// caller has checked its name and put it first on the search_path.
    static func migrate(_ connection: PostgresConnection, schema: String?, url: PostgresURL, logger: Logger)
        async throws
    {
        do {
            try await connection.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLockKey))", logger: logger)
                if let schema {
                    try await connection.query(
                        PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(schema)"), logger: logger)
                }
                try await connection.query(
                    "CREATE TABLE IF NOT EXISTS mvm_schema (version INTEGER NOT NULL)", logger: logger)
                var found = 0
                for try await version in try await connection.query(
                    "SELECT COALESCE(MAX(version), 0) FROM mvm_schema", logger: logger
                )
                .decode(Int.self) {
                    found = version
                }
                if found > version {
                    throw PostgresHistoryError(
                        .newerSchema(found: found, known: version),
                        "the history database at \(url) has history schema \(found), newer than this mvm (\(version)): upgrade mvm"
                    )
                }
                guard found < version else { return }
                for statement in migrations[found...].joined() {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("DELETE FROM mvm_schema", logger: logger)
                try await connection.query(
                    "INSERT INTO mvm_schema (version) VALUES (\(Int32(version)))", logger: logger)
            }
        } catch {
            throw PostgresHistoryError.failed("migrating the schema", at: url, error)
        }
    }
}
