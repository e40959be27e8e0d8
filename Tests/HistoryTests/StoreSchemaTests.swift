import Foundation
import MVMTesting
import Testing

@testable import Compare
@testable import History

/// The one description of the history's tables, the statements built from
/// it and the rows a recording writes.
@Suite struct StoreSchemaTests {
    typealias F = VerdictFixtures

    /// Existing history files and databases were made by these statements
    /// (written by hand before the schema was described once) and are not
    /// migrated again: what the description makes must be the same tables.
    @Test func theDescribedSchemaIsTheOneExistingHistoriesHave() {
        #expect(
            Self.normalized(HistorySchema.migrations(in: .sqlite).flatMap { $0 })
                == Self.normalized(LegacySchema.sqlite))
        #expect(
            Self.normalized(HistorySchema.migrations(in: .postgres).flatMap { $0 })
                == Self.normalized(LegacySchema.postgres))
        #expect(HistorySchema.version == 1)
    }

    /// One statement a string, without comments, each run of white space
    /// one space, none inside parentheses' edges.
    static func normalized(_ statements: [String]) -> [String] {
        statements.joined(separator: ";").split(separator: "\n")
            .map { $0.split(separator: "--", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" }
            .joined(separator: " ").split(separator: ";")
            .map { statement in
                statement.split(whereSeparator: \.isWhitespace).joined(separator: " ")
                    .replacingOccurrences(of: "( ", with: "(").replacingOccurrences(of: " )", with: ")")
            }
            .filter { !$0.isEmpty }
    }

    /// Every row a recording writes has one value per column of its table,
    /// of the column's type, and NULL only where the column allows it.
    @Test func everyRecordedRowFitsItsTable() throws {
        var run = F.recorded(1, vmReady: 1.2, label: "first")
        run.report.samples.append(
            InstanceSample(
                contender: "vm", run: 9, instance: 0, warmup: false, ok: false, failure: "no console", phases: [:],
                footprint: [:], guest: nil,
                allReadySeconds: nil))
        run.verdicts = [
            SeriesVerdict(
                series: SeriesKey(
                    hostKey: F.host.key, planKey: F.plan.key, subject: "vm", metric: "ready", unit: .seconds),
                decision: .ok,
                rule: .nights, baselineRunIDs: [], baselineMedian: nil, newMedian: 1.2, stackChanges: [], reason: "test"
            )
        ]
        let annotation = Annotation(
            hostKey: F.host.key, subject: nil, at: Date(timeIntervalSince1970: 1), message: "QEMU 8.0")
        let written = try run.storedRows() + [annotation.storedRows]
        #expect(written.map(\.table.name) == ["host", "plan", "run", "sample", "summary", "verdict", "annotation"])
        #expect(written.allSatisfy { !$0.rows.isEmpty })
        for rows in written {
            for row in rows.rows {
                #expect(row.count == rows.table.insertedColumns.count, "\(rows.table.name)")
                for (column, value) in zip(rows.table.insertedColumns, row) {
                    #expect(Self.type(of: value) == column.type, "\(rows.table.name).\(column.name)")
                    #expect(column.nullable || !Self.isNull(value), "\(rows.table.name).\(column.name)")
                }
            }
        }
    }

    static func type(of value: StoredValue) -> StoredType {
        switch value {
        case .text: .text
        case .real: .real
        case .integer: .integer
        case .boolean: .boolean
        }
    }

    static func isNull(_ value: StoredValue) -> Bool {
        value == .null(type(of: value))
    }

    @Test func aStatementRendersInEachDialect() {
        let host: String? = nil
        let statement: StoreStatement =
            "SELECT x FROM t WHERE a = \("it's") AND b = \(2) AND c IS \(host) ORDER BY \(bytewise: "t.id") DESC"
        let sqlite = statement.rendered(for: .sqlite)
        #expect(sqlite.sql == "SELECT x FROM t WHERE a = ? AND b = ? AND c IS ? ORDER BY t.id COLLATE BINARY DESC")
        #expect(sqlite.values == [.text("it's"), .integer(2), .text(nil)])
        let postgres = statement.rendered(for: .postgres)
        #expect(postgres.sql == #"SELECT x FROM t WHERE a = $1 AND b = $2 AND c IS $3 ORDER BY t.id COLLATE "C" DESC"#)
        #expect(postgres.values == sqlite.values)
        let spliced: StoreStatement = "\(statement) LIMIT \(5)"
        #expect(spliced.rendered(for: .postgres).sql.hasSuffix("DESC LIMIT $4"))
    }

    /// Many rows go in few statements, none binding more values than the
    /// oldest SQLite takes (999).
    @Test func manyRowsAreInsertedInFewStatements() {
        let table = HistorySchema.sample
        let values: [any StoredValueConvertible] = ["r", "vm", 1, 0, false, true, String?.none, "ready", 1.5]
        let row = values.map(\.storedValue)
        let statements = table.insert(Array(repeating: row, count: 250))
        let rendered = statements.map { $0.rendered(for: .sqlite) }
        #expect(rendered.map(\.values.count).reduce(0, +) == 250 * 9)
        #expect(rendered.allSatisfy { $0.values.count <= 999 })
        #expect(statements.count == 3)
        let columns = "run_id, contender, run_index, instance, warmup, ok, failure, metric, value"
        #expect(rendered.first?.sql.hasPrefix("INSERT INTO sample (\(columns)) VALUES (?, ?") == true)
    }
}

@Suite struct PlanWorkloadTests {
    /// mvm's own workload keeps the plan keys stored before plans named
    /// one; the user's images make a plan of their own.
    @Test func theUsersWorkloadMakesAPlanOfItsOwn() {
        let plan = PlanIdentity(
            contenders: ["vm", "container"], memoryMiB: 128, vcpus: 1, accelerator: "tcg", runs: 10, warmup: 1,
            concurrency: 1)
        #expect(
            plan.key
                == stableHash([
                    "contenders=container,vm", "memory-mib=128", "vcpus=1", "accelerator=tcg", "runs=10", "warmup=1",
                    "concurrency=1",
                ]))
        var own = plan
        own.workload = "kernel /k/vmlinux, append noapictimer"
        #expect(own.key != plan.key)
        #expect(own.description.hasSuffix(" · kernel /k/vmlinux, append noapictimer"))
    }
}
