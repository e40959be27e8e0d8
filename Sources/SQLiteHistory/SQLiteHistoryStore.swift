import Foundation
import GRDB
import History
import MVMCore

/// The embedded history: one SQLite file, in WAL mode, through GRDB. What
/// it writes and reads is History's `SQLHistoryStore`; this runs it.
///
/// Each run is written in one transaction, so a reader sees a whole run or
/// none of it, and a process killed while writing leaves the earlier runs
/// as they were (SQLite rolls the open transaction back at the next open).
/// Two processes that record at once queue on SQLite's write lock; the busy
/// timeout makes the second wait instead of failing.
public final class SQLiteHistoryStore: SQLHistoryStore {
    /// A pool on a file (WAL: readers never wait for the writer); a queue
    /// for a database in memory.
    private let database: any DatabaseWriter
    public let path: String

    /// How long a writer waits for another's write lock before giving up.
    public static let defaultBusyTimeout: Duration = .seconds(30)
    let busyTimeout: Duration

    /// Opens the history file at `path`, creating it (and its directory)
    /// when missing, and migrating it when older than this mvm.
    public init(path: String, busyTimeout: Duration = defaultBusyTimeout) throws(SQLiteHistoryError) {
        self.path = path
        self.busyTimeout = busyTimeout
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            // Often the state directory itself: 0711 as mvm makes it (QEMU
            // under libvirt passes through it); the file is 0600.
            if !FileManager.default.fileExists(atPath: directory) {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
            }
        } catch {
            throw SQLiteHistoryError.cannotOpen(
                path, "cannot make its directory: \(SQLiteHistoryError.fileReason(error))")
        }
        do {
            database = try DatabasePool(path: path, configuration: Self.configuration(busyTimeout: busyTimeout))
            try Self.migrate(database, path: path)
        } catch {
            throw SQLiteHistoryError.failed("opening the history", at: path, error, busyTimeout: busyTimeout)
        }
        // The store holds host names and machine ids: readable by its owner only.
        chmod(path, 0o600)
    }

    /// A history that lives in memory and goes with the store: what tests
    /// and simulations record into, with the same schema, SQL and decoding
    /// as a file.
    public static func inMemory() throws(SQLiteHistoryError) -> SQLiteHistoryStore {
        try SQLiteHistoryStore(inMemory: ())
    }

    private init(inMemory: ()) throws(SQLiteHistoryError) {
        path = ":memory:"
        busyTimeout = Self.defaultBusyTimeout
        do {
            database = try DatabaseQueue(configuration: Self.configuration(busyTimeout: busyTimeout))
            try Self.migrate(database, path: path)
        } catch {
            throw SQLiteHistoryError.failed("opening the history", at: path, error)
        }
    }

    private static func configuration(busyTimeout: Duration) -> Configuration {
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout.seconds)
        configuration.label = "mvm-history"
        return configuration
    }

    /// Brings the schema up to this mvm's; refuses a file a newer mvm
    /// migrated further.
    private static func migrate(_ database: any DatabaseWriter, path: String) throws {
        let migrator = migrator
        try migrator.migrate(database)
        let unknown = try database.read { db in
            try migrator.appliedIdentifiers(db).subtracting(migrator.migrations).sorted()
        }
        if !unknown.isEmpty { throw SQLiteHistoryError.newerSchema(path, unknownMigrations: unknown) }
    }

    /// Opens the history file at `path` as mvm's commands do.
    ///
    /// Debug builds only: with MVM_TEST_HOLD_RECORD_SECONDS set, each run's
    /// transaction waits before it commits (`HoldBeforeCommit`), so that an
    /// integration test can kill mvm mid-write. A release build opens the
    /// file and nothing more.
    public static func open(path: String) throws(SQLiteHistoryError) -> SQLiteHistoryStore {
        let store = try SQLiteHistoryStore(path: path)
        #if DEBUG
            HoldBeforeCommit.install(on: store.database, environment: ProcessInfo.processInfo.environment)
        #endif
        return store
    }

    /// Migration "v1", "v2"... for History's migrations in order. GRDB
    /// records which it ran, so a file is never migrated twice.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for (index, statements) in HistorySchema.migrations(in: .sqlite).enumerated() {
            migrator.registerMigration("v\(index + 1)") { db in
                for statement in statements { try db.execute(sql: statement) }
            }
        }
        return migrator
    }

    package func execute(_ statements: [StoreStatement]) async throws {
        let rendered = statements.map { $0.rendered(for: .sqlite) }
        try await database.write { db in
            for (sql, values) in rendered {
                try db.execute(sql: sql, arguments: StatementArguments(values.map(\.databaseValue)))
            }
        }
    }

    package func fetch<Result: Sendable>(_ query: StoreQuery<Result>) async throws -> [Result] {
        let (sql, values) = query.statement.rendered(for: .sqlite)
        return try await database.read { db in
            let rows = try Row.fetchCursor(db, sql: sql, arguments: StatementArguments(values.map(\.databaseValue)))
            return try Array(
                rows.map { row in try query.decode(StoredRow(try Self.storedValues(row, as: query.columns))) })
        }
    }

    package func failure(_ action: String, _ error: any Error) -> any Error {
        SQLiteHistoryError.failed(action, at: path, error, busyTimeout: busyTimeout)
    }

    /// SQLite's own check of the file: "ok" when sound.
    public func integrityCheck() async throws -> String {
        do {
            return try await fetch(StoreQuery("PRAGMA integrity_check", columns: [.text]) { try $0.text(0) }).joined(
                separator: "\n")
        } catch {
            throw failure("checking the history", error)
        }
    }

    /// The row's values as `types` declare them. SQLite's columns hold any
    /// type; a value of another type than declared is an error here, not a
    /// surprise later.
    private static func storedValues(_ row: Row, as types: [StoredType]) throws -> [StoredValue] {
        try zip(types, row.databaseValues).enumerated().map { column, typed in
            let (type, value) = typed
            switch (type, value.storage) {
            case (_, .null): return .null(type)
            case (.text, .string(let text)): return .text(text)
            case (.real, .double(let number)): return .real(number)
            case (.real, .int64(let number)): return .real(Double(number))
            case (.integer, .int64(let number)): return .integer(number)
            case (.boolean, .int64(let number)): return .boolean(number != 0)
            default: throw StoredRowError.wrongType(column: column)
            }
        }
    }
}

extension StoredValue {
    /// The value as GRDB binds it; SQLite keeps a boolean as 0 or 1.
    var databaseValue: DatabaseValue {
        switch self {
        case .text(let text): text?.databaseValue ?? .null
        case .real(let number): number?.databaseValue ?? .null
        case .integer(let number): number?.databaseValue ?? .null
        case .boolean(let flag): flag?.databaseValue ?? .null
        }
    }
}
