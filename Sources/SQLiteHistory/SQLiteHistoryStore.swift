import Compare
import Foundation
import GRDB
import History

/// The embedded history: one SQLite file, in WAL mode, through GRDB.
///
/// Each run is written in one transaction, so a reader sees a whole run or
/// none of it, and a process killed while writing leaves the earlier runs
/// as they were (SQLite rolls the open transaction back at the next open).
/// Two processes that record at once queue on SQLite's write lock; the busy
/// timeout makes the second wait instead of failing.
public final class SQLiteHistoryStore: HistoryStore {
    private let pool: DatabasePool
    public let path: String
    /// Test-only: how long `record` waits inside its transaction, so a test
    /// can kill the process mid-write. Nil in normal use.
    private let holdInsideRecord: Duration?

    public init(path: String, holdInsideRecord: Duration? = nil) throws(HistoryStoreError) {
        self.path = path
        self.holdInsideRecord = holdInsideRecord
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        configuration.label = "mvm-history"
        do {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            // Often the state directory itself: 0711 as mvm makes it (QEMU
            // under libvirt passes through it); the file is 0600.
            if !FileManager.default.fileExists(atPath: directory) {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
            }
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw HistoryStoreError("cannot open the history store \(path)", underlying: error)
        }
        // The store holds host names and machine ids: readable by its owner only.
        chmod(path, 0o600)
    }

    /// Opens the store at `path`, reading the test-only hold from
    /// MVM_TEST_HOLD_RECORD_SECONDS.
    public static func open(path: String) throws(HistoryStoreError) -> SQLiteHistoryStore {
        let hold = ProcessInfo.processInfo.environment["MVM_TEST_HOLD_RECORD_SECONDS"].flatMap(Double.init).map { Duration.seconds($0) }
        return try SQLiteHistoryStore(path: path, holdInsideRecord: hold)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE host (
                    key TEXT PRIMARY KEY NOT NULL,
                    identity TEXT NOT NULL
                );
                CREATE TABLE plan (
                    key TEXT PRIMARY KEY NOT NULL,
                    identity TEXT NOT NULL
                );
                CREATE TABLE run (
                    id TEXT PRIMARY KEY NOT NULL,
                    host_key TEXT NOT NULL REFERENCES host(key),
                    plan_key TEXT NOT NULL REFERENCES plan(key),
                    label TEXT,
                    started_at REAL NOT NULL,
                    partial INTEGER NOT NULL,
                    failed INTEGER NOT NULL,
                    under_load INTEGER NOT NULL,
                    header TEXT NOT NULL,
                    conditions TEXT NOT NULL,
                    failures TEXT NOT NULL,
                    report TEXT NOT NULL
                );
                CREATE INDEX run_by_host ON run(host_key, plan_key, started_at);
                CREATE INDEX run_by_label ON run(label);
                -- Every raw sample, one row per instance and metric.
                CREATE TABLE sample (
                    run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    contender TEXT NOT NULL,
                    run_index INTEGER NOT NULL,
                    instance INTEGER NOT NULL,
                    warmup INTEGER NOT NULL,
                    ok INTEGER NOT NULL,
                    failure TEXT,
                    metric TEXT,
                    value REAL
                );
                CREATE INDEX sample_by_run ON sample(run_id);
                -- Each series' values in a run: what verdicts read.
                CREATE TABLE summary (
                    run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    subject TEXT NOT NULL,
                    metric TEXT NOT NULL,
                    unit TEXT NOT NULL,
                    median REAL NOT NULL,
                    low REAL NOT NULL,
                    high REAL NOT NULL,
                    samples TEXT NOT NULL,
                    PRIMARY KEY (run_id, subject, metric)
                );
                CREATE TABLE verdict (
                    run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    subject TEXT NOT NULL,
                    metric TEXT NOT NULL,
                    decision TEXT NOT NULL,
                    detail TEXT NOT NULL,
                    PRIMARY KEY (run_id, subject, metric)
                );
                CREATE TABLE annotation (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    host_key TEXT NOT NULL,
                    subject TEXT,
                    at REAL NOT NULL,
                    message TEXT NOT NULL
                );
                """)
        }
        return migrator
    }

    public func record(_ run: RecordedRun) async throws {
        let header = run.header
        do {
            try await pool.write { db in
                try db.execute(
                    sql: "INSERT INTO host (key, identity) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET identity = excluded.identity",
                    arguments: [header.hostKey, try storedJSON(run.host)])
                try db.execute(
                    sql: "INSERT INTO plan (key, identity) VALUES (?, ?) ON CONFLICT(key) DO NOTHING",
                    arguments: [header.planKey, try storedJSON(run.plan)])
                try db.execute(
                    sql: """
                        INSERT INTO run (id, host_key, plan_key, label, started_at, partial, failed, under_load, header, conditions, failures, report)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        header.id, header.hostKey, header.planKey, header.label, header.startedAt.timeIntervalSince1970, header.partial,
                        header.failed, header.underLoad, try storedJSON(header), try storedJSON(run.conditions), try storedJSON(run.failures),
                        try storedJSON(run.report),
                    ])
                let insertSample = try db.makeStatement(
                    sql: "INSERT INTO sample (run_id, contender, run_index, instance, warmup, ok, failure, metric, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
                for sample in run.report.samples {
                    for (metric, value) in sample.storedRows {
                        try insertSample.execute(arguments: [
                            header.id, sample.contender, sample.run, sample.instance, sample.warmup, sample.ok, sample.failure, metric, value,
                        ])
                    }
                }
                if let hold = holdInsideRecord {
                    FileHandle.standardError.write(Data("test: holding the history transaction open for \(hold)\n".utf8))
                    Thread.sleep(forTimeInterval: Double(hold.components.seconds))
                }
                let insertSummary = try db.makeStatement(
                    sql: "INSERT INTO summary (run_id, subject, metric, unit, median, low, high, samples) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
                for (key, values) in run.series {
                    try insertSummary.execute(arguments: [
                        header.id, key.subject, key.metric, key.unit.rawValue, values.median, values.low, values.high, try storedJSON(values.samples),
                    ])
                }
                let insertVerdict = try db.makeStatement(
                    sql: "INSERT INTO verdict (run_id, subject, metric, decision, detail) VALUES (?, ?, ?, ?, ?)")
                for verdict in run.verdicts {
                    try insertVerdict.execute(arguments: [
                        header.id, verdict.series.subject, verdict.series.metric, verdict.decision.rawValue, try storedJSON(verdict),
                    ])
                }
            }
        } catch {
            throw HistoryStoreError("cannot record run \(header.id) in \(path)", underlying: error)
        }
    }

    public func run(id: String) async throws -> RecordedRun? {
        try read("reading run \(id)") { db -> RecordedRun? in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM run WHERE id = ?", arguments: [id]) else { return nil }
            let host = try String.fetchOne(db, sql: "SELECT identity FROM host WHERE key = ?", arguments: [row["host_key"] as String])
            let plan = try String.fetchOne(db, sql: "SELECT identity FROM plan WHERE key = ?", arguments: [row["plan_key"] as String])
            let verdicts = try String.fetchAll(db, sql: "SELECT detail FROM verdict WHERE run_id = ? ORDER BY subject, metric", arguments: [id])
            return RecordedRun(
                header: try decodeStoredJSON(RunHeader.self, row["header"]), host: try decodeStoredJSON(HostIdentity.self, host ?? ""),
                plan: try decodeStoredJSON(PlanIdentity.self, plan ?? ""), conditions: try decodeStoredJSON(HostConditions.self, row["conditions"]),
                report: try decodeStoredJSON(ComparisonReport.self, row["report"]), failures: try decodeStoredJSON([String].self, row["failures"]),
                verdicts: try verdicts.map { try decodeStoredJSON(SeriesVerdict.self, $0) })
        }
    }

    public func runs(hostKey: String?, limit: Int) async throws -> [RunHeader] {
        try read("listing runs") { db in
            let headers: [String]
            if let hostKey {
                headers = try String.fetchAll(
                    db, sql: "SELECT header FROM run WHERE host_key = ? ORDER BY started_at DESC LIMIT ?", arguments: [hostKey, limit])
            } else {
                headers = try String.fetchAll(db, sql: "SELECT header FROM run ORDER BY started_at DESC LIMIT ?", arguments: [limit])
            }
            return try headers.map { try decodeStoredJSON(RunHeader.self, $0) }
        }
    }

    public func observations(of series: SeriesKey) async throws -> [SeriesObservation] {
        try read("reading the series \(series.name)") { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT run.header, summary.median, summary.low, summary.high, summary.samples, verdict.detail AS verdict
                    FROM summary JOIN run ON run.id = summary.run_id
                    LEFT JOIN verdict USING (run_id, subject, metric)
                    WHERE run.host_key = ? AND run.plan_key = ? AND summary.subject = ? AND summary.metric = ?
                    ORDER BY run.started_at, run.id
                    """,
                arguments: [series.hostKey, series.planKey, series.subject, series.metric])
            return try rows.map { row in
                SeriesObservation(
                    run: try decodeStoredJSON(RunHeader.self, row["header"]),
                    values: SeriesValues(
                        samples: try decodeStoredJSON([Double].self, row["samples"]), median: row["median"], low: row["low"], high: row["high"]),
                    verdict: try (row["verdict"] as String?).map { try decodeStoredJSON(SeriesVerdict.self, $0) })
            }
        }
    }

    public func annotate(_ annotation: Annotation) async throws {
        do {
            try await pool.write { db in
                try db.execute(
                    sql: "INSERT INTO annotation (host_key, subject, at, message) VALUES (?, ?, ?, ?)",
                    arguments: [annotation.hostKey, annotation.subject, annotation.at.timeIntervalSince1970, annotation.message])
            }
        } catch {
            throw HistoryStoreError("cannot annotate in \(path)", underlying: error)
        }
    }

    public func annotations(hostKey: String) async throws -> [Annotation] {
        try read("reading annotations") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM annotation WHERE host_key = ? ORDER BY at", arguments: [hostKey]).map { row in
                Annotation(
                    id: row["id"], hostKey: row["host_key"], subject: row["subject"],
                    at: Date(timeIntervalSince1970: row["at"]), message: row["message"])
            }
        }
    }

    public func hosts() async throws -> [HostEntry] {
        try read("listing hosts") { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT host.key, host.identity, COUNT(run.id) AS runs, MIN(run.started_at) AS first, MAX(run.started_at) AS last
                    FROM host LEFT JOIN run ON run.host_key = host.key GROUP BY host.key ORDER BY last DESC
                    """)
            return try rows.map { row in
                let key: String = row["key"]
                let planRows = try Row.fetchAll(
                    db, sql: "SELECT DISTINCT plan.key, plan.identity FROM plan JOIN run ON run.plan_key = plan.key WHERE run.host_key = ?",
                    arguments: [key])
                var plans: [String: PlanIdentity] = [:]
                for plan in planRows { plans[plan["key"]] = try decodeStoredJSON(PlanIdentity.self, plan["identity"]) }
                let first: Double? = row["first"]
                let last: Double? = row["last"]
                return HostEntry(
                    key: key, identity: try decodeStoredJSON(HostIdentity.self, row["identity"]), runs: row["runs"], plans: plans,
                    firstRun: first.map(Date.init(timeIntervalSince1970:)), lastRun: last.map(Date.init(timeIntervalSince1970:)))
            }
        }
    }

    /// SQLite's own check of the file: "ok" when sound.
    public func integrityCheck() async throws -> String {
        try read("checking the store") { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "no answer" }
    }

    private func read<T>(_ action: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch {
            throw HistoryStoreError("\(action) in \(path)", underlying: error)
        }
    }
}

/// A store that could not be opened, read or written.
public struct HistoryStoreError: Error, CustomStringConvertible {
    public var action: String
    public var underlying: any Error

    init(_ action: String, underlying: any Error) {
        self.action = action
        self.underlying = underlying
    }

    public var description: String {
        if let error = underlying as? DatabaseError {
            return "\(action): \(error.message ?? error.resultCode.description)"
        }
        return "\(action): \(underlying)"
    }
}
