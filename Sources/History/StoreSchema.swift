// The history's tables, described once. Each SQL store creates them from
// this description in its own dialect, and builds its INSERTs from it, so
// that the SQLite file and the PostgreSQL database hold the same columns.

/// A column of a history table.
package struct StoreColumn: Sendable {
    package enum Role: Sendable {
        case plain
        /// The table's one-column primary key.
        case key
        /// A primary key the database numbers itself; INSERTs leave it out.
        case serialKey
    }

    package var name: String
    package var type: StoredType
    package var nullable: Bool
    package var role: Role
    /// "table(column)", with any ON DELETE clause.
    package var references: String?

    package static func column(_ name: String, _ type: StoredType, nullable: Bool = false, references: String? = nil)
        -> StoreColumn
    {
        StoreColumn(name: name, type: type, nullable: nullable, role: .plain, references: references)
    }

    package static func key(_ name: String, _ type: StoredType) -> StoreColumn {
        StoreColumn(name: name, type: type, nullable: false, role: .key, references: nil)
    }

    package static func serialKey(_ name: String) -> StoreColumn {
        StoreColumn(name: name, type: .integer, nullable: false, role: .serialKey, references: nil)
    }

    /// The column's definition in a CREATE TABLE.
    func definition(in dialect: SQLDialect) -> String {
        if role == .serialKey {
            return name + (dialect == .sqlite ? " INTEGER PRIMARY KEY AUTOINCREMENT" : " BIGSERIAL PRIMARY KEY")
        }
        var definition = name + " " + Self.typeName(type, in: dialect)
        if role == .key { definition += " PRIMARY KEY" }
        if !nullable { definition += " NOT NULL" }
        if let references { definition += " REFERENCES " + references }
        return definition
    }

    static func typeName(_ type: StoredType, in dialect: SQLDialect) -> String {
        switch (type, dialect) {
        case (.text, _): "TEXT"
        case (.integer, _): "INTEGER"
        case (.real, .sqlite): "REAL"
        case (.real, .postgres): "DOUBLE PRECISION"
        // SQLite has no boolean type: 0 or 1.
        case (.boolean, .sqlite): "INTEGER"
        case (.boolean, .postgres): "BOOLEAN"
        }
    }
}

/// A history table: its columns, its composite primary key and its indexes.
package struct StoreTable: Sendable {
    package var name: String
    package var columns: [StoreColumn]
    /// Empty when one column is the key.
    package var primaryKey: [String]
    /// Each index's name and columns.
    package var indexes: [(name: String, columns: [String])]

    init(
        _ name: String, _ columns: [StoreColumn], primaryKey: [String] = [],
        indexes: [(name: String, columns: [String])] = []
    ) {
        self.name = name
        self.columns = columns
        self.primaryKey = primaryKey
        self.indexes = indexes
    }

    /// The columns an INSERT gives values for, in the order it gives them.
    package var insertedColumns: [StoreColumn] { columns.filter { $0.role != .serialKey } }

    /// CREATE TABLE, then CREATE INDEX for each index: one statement a
    /// string, as PostgreSQL's extended protocol takes them.
    package func createStatements(in dialect: SQLDialect) -> [String] {
        var lines = columns.map { $0.definition(in: dialect) }
        if !primaryKey.isEmpty { lines.append("PRIMARY KEY (\(primaryKey.joined(separator: ", ")))") }
        let create = "CREATE TABLE \(name) (\n    " + lines.joined(separator: ",\n    ") + "\n)"
        return [create] + indexes.map { "CREATE INDEX \($0.name) ON \(name)(\($0.columns.joined(separator: ", ")))" }
    }

    /// INSERTs of `rows`, each one value per `insertedColumns` in their
    /// order, many rows to a statement: a round trip per row would make
    /// recording a large run slow on a distant server. `onConflict` follows
    /// "ON CONFLICT" as it is.
    package func insert(_ rows: [[StoredValue]], onConflict: String? = nil) -> [StoreStatement] {
        let names = insertedColumns.map(\.name).joined(separator: ", ")
        // SQLite before 3.32 binds at most 999 values to a statement.
        let rowsPerStatement = max(1, 999 / max(1, insertedColumns.count))
        return stride(from: 0, to: rows.count, by: rowsPerStatement).map { start in
            var statement = StoreStatement(verbatim: "INSERT INTO \(name) (\(names)) VALUES ")
            for (index, row) in rows[start..<min(start + rowsPerStatement, rows.count)].enumerated() {
                statement.append(sql: index == 0 ? "(" : ", (")
                for (position, value) in row.enumerated() {
                    if position > 0 { statement.append(sql: ", ") }
                    statement.append(value)
                }
                statement.append(sql: ")")
            }
            if let onConflict { statement.append(sql: " ON CONFLICT " + onConflict) }
            return statement
        }
    }
}

/// The history's schema: every table, and the migrations that build it.
package enum HistorySchema {
    static let host = StoreTable("host", [.key("key", .text), .column("identity", .text)])

    static let plan = StoreTable("plan", [.key("key", .text), .column("identity", .text)])

    static let run = StoreTable(
        "run",
        [
            .key("id", .text),
            .column("host_key", .text, references: "host(key)"),
            .column("plan_key", .text, references: "plan(key)"),
            .column("label", .text, nullable: true),
            .column("started_at", .real),
            .column("partial", .boolean),
            .column("failed", .boolean),
            .column("under_load", .boolean),
            .column("header", .text),
            .column("conditions", .text),
            .column("failures", .text),
            .column("report", .text),
        ],
        indexes: [("run_by_host", ["host_key", "plan_key", "started_at"]), ("run_by_label", ["label"])])

    /// A run's rows go with it.
    private static let runID = StoreColumn.column("run_id", .text, references: "run(id) ON DELETE CASCADE")

    /// Every raw sample, one row per instance and metric.
    static let sample = StoreTable(
        "sample",
        [
            runID,
            .column("contender", .text),
            .column("run_index", .integer),
            .column("instance", .integer),
            .column("warmup", .boolean),
            .column("ok", .boolean),
            .column("failure", .text, nullable: true),
            .column("metric", .text, nullable: true),
            .column("value", .real, nullable: true),
        ],
        indexes: [("sample_by_run", ["run_id"])])

    /// Each series' values in a run: what verdicts read.
    static let summary = StoreTable(
        "summary",
        [
            runID,
            .column("subject", .text),
            .column("metric", .text),
            .column("unit", .text),
            .column("median", .real),
            .column("low", .real),
            .column("high", .real),
            .column("samples", .text),
        ],
        primaryKey: ["run_id", "subject", "metric"])

    static let verdict = StoreTable(
        "verdict",
        [
            runID, .column("subject", .text), .column("metric", .text), .column("decision", .text),
            .column("detail", .text),
        ],
        primaryKey: ["run_id", "subject", "metric"])

    /// Not tied to the host table: a change can be noted on a host before
    /// its first run.
    static let annotation = StoreTable(
        "annotation",
        [
            .serialKey("id"), .column("host_key", .text), .column("subject", .text, nullable: true),
            .column("at", .real), .column("message", .text),
        ])

    /// Schema 1, in the order its tables refer to each other.
    package static let version1 = [host, plan, run, sample, summary, verdict, annotation]

    /// Each migration's statements in `dialect`, in order: migration N
    /// brings the schema to version N. A later schema adds a migration here
    /// (statements that change version N's tables), never edits one, since
    /// stores record which migrations they ran and do not run them again.
    package static func migrations(in dialect: SQLDialect) -> [[String]] {
        [version1.flatMap { $0.createStatements(in: dialect) }]
    }

    /// The newest schema this mvm knows.
    package static var version: Int { migrations(in: .sqlite).count }
}
