import Compare
import Foundation

// What a recording writes, as rows of the schema's tables: built once here,
// for every SQL store, from the run as `HistoryStore` hands it over.

/// Rows for one table, each one value per `table.insertedColumns`.
package struct StoredRows: Sendable {
    package var table: StoreTable
    package var rows: [[StoredValue]]
    /// What follows "ON CONFLICT", when a row may already be there.
    package var onConflict: String?

    init(_ table: StoreTable, _ rows: [[any StoredValueConvertible]], onConflict: String? = nil) {
        self.table = table
        self.rows = rows.map { $0.map(\.storedValue) }
        self.onConflict = onConflict
    }

    package var statements: [StoreStatement] { table.insert(rows, onConflict: onConflict) }
}

extension RecordedRun {
    /// Every row the run adds, in an order the foreign keys accept. The host
    /// row takes the newest identity (a host renamed keeps its key); a plan
    /// is the same plan whenever its key is.
    package func storedRows() throws -> [StoredRows] {
        let samples = report.samples.flatMap { sample in
            sample.storedRows.map { metric, value -> [any StoredValueConvertible] in
                [
                    header.id, sample.contender, sample.run, sample.instance, sample.warmup, sample.ok, sample.failure,
                    metric, value,
                ]
            }
        }
        return [
            StoredRows(
                HistorySchema.host, [[header.hostKey, try storedJSON(host)]],
                onConflict: "(key) DO UPDATE SET identity = excluded.identity"),
            StoredRows(HistorySchema.plan, [[header.planKey, try storedJSON(plan)]], onConflict: "(key) DO NOTHING"),
            StoredRows(
                HistorySchema.run,
                [
                    [
                        header.id, header.hostKey, header.planKey, header.label, header.startedAt.timeIntervalSince1970,
                        header.partial, header.failed,
                        header.underLoad, try storedJSON(header), try storedJSON(conditions), try storedJSON(failures),
                        try storedJSON(report),
                    ]
                ]),
            StoredRows(HistorySchema.sample, samples),
            StoredRows(
                HistorySchema.summary,
                try series.map { key, values in
                    [
                        header.id, key.subject, key.metric, key.unit.rawValue, values.median, values.low, values.high,
                        try storedJSON(values.samples),
                    ]
                }),
            StoredRows(
                HistorySchema.verdict,
                try verdicts.map {
                    [header.id, $0.series.subject, $0.series.metric, $0.decision.rawValue, try storedJSON($0)]
                }),
        ]
    }
}

extension Annotation {
    /// The annotation's row; the database numbers it.
    package var storedRows: StoredRows {
        StoredRows(HistorySchema.annotation, [[hostKey, subject, at.timeIntervalSince1970, message]])
    }
}

extension InstanceSample {
    /// The sample as a store's `sample` table keeps it: one (metric, value)
    /// row per phase, memory reading and all-ready time; one row of nils
    /// for a sample with none (a failed run keeps its failure).
    package var storedRows: [(metric: String?, value: Double?)] {
        var rows: [(metric: String?, value: Double?)] = phases.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        rows += footprint.sorted { $0.key < $1.key }.map { ($0.key, Double($0.value)) }
        if let allReadySeconds { rows.append(("all-ready", allReadySeconds)) }
        return rows.isEmpty ? [(nil, nil)] : rows
    }
}
