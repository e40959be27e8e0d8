import Compare
import Foundation

// What the history stores read, written once for every SQL store: each
// query's SQL, the types of its columns and how its rows become values.
// Text is ordered byte by byte (`bytewise`) so that a PostgreSQL database
// in any locale lists a history as the SQLite file does.

package enum StoreQueries {
    /// The run's header, identities, conditions, failures and report;
    /// its verdicts come from `verdicts(ofRun:)`.
    package static func run(id: String) -> StoreQuery<RecordedRun> {
        StoreQuery(
            """
            SELECT run.header, run.conditions, run.failures, run.report, host.identity, plan.identity
            FROM run JOIN host ON host.key = run.host_key JOIN plan ON plan.key = run.plan_key
            WHERE run.id = \(id)
            """,
            columns: Array(repeating: .text, count: 6)
        ) { row in
            RecordedRun(
                header: try decodeStoredJSON(RunHeader.self, row.text(0)),
                host: try decodeStoredJSON(HostIdentity.self, row.text(4)),
                plan: try decodeStoredJSON(PlanIdentity.self, row.text(5)),
                conditions: try decodeStoredJSON(HostConditions.self, row.text(1)),
                report: try decodeStoredJSON(ComparisonReport.self, row.text(3)),
                failures: try decodeStoredJSON([String].self, row.text(2)),
                verdicts: [])
        }
    }

    package static func verdicts(ofRun id: String) -> StoreQuery<SeriesVerdict> {
        StoreQuery(
            "SELECT detail FROM verdict WHERE run_id = \(id) ORDER BY \(bytewise: "subject"), \(bytewise: "metric")",
            columns: [.text]
        ) { row in
            try decodeStoredJSON(SeriesVerdict.self, row.text(0))
        }
    }

    package static func runs(hostKey: String?, limit: Int) -> StoreQuery<RunHeader> {
        StoreQuery("SELECT run.header FROM run \(newestFirst(hostKey: hostKey, limit: limit))", columns: [.text]) {
            row in
            try decodeStoredJSON(RunHeader.self, row.text(0))
        }
    }

    /// The runs `runs` lists, each with its verdicts counted. The counts
    /// are subqueries on the verdict table's primary key, which run_id
    /// leads: an index lookup per run, not a scan.
    package static func runOverviews(hostKey: String?, limit: Int) -> StoreQuery<RunOverview> {
        StoreQuery(
            """
            SELECT run.header,
            (SELECT COUNT(*) FROM verdict WHERE verdict.run_id = run.id),
            (SELECT COUNT(*) FROM verdict WHERE verdict.run_id = run.id AND verdict.decision = \(Decision.regression.rawValue))
            FROM run \(newestFirst(hostKey: hostKey, limit: limit))
            """,
            columns: [.text, .integer, .integer]
        ) { row in
            RunOverview(
                header: try decodeStoredJSON(RunHeader.self, row.text(0)), verdicts: Int(try row.integer(1)),
                regressions: Int(try row.integer(2)))
        }
    }

    /// The end of every newest-first list of runs: which host's, in which
    /// order, how many.
    private static func newestFirst(hostKey: String?, limit: Int) -> StoreStatement {
        let host: StoreStatement = hostKey.map { "WHERE run.host_key = \($0)" } ?? ""
        return "\(host) ORDER BY run.started_at DESC, \(bytewise: "run.id") DESC LIMIT \(limit)"
    }

    package static func observations(of series: SeriesKey) -> StoreQuery<SeriesObservation> {
        StoreQuery(
            """
            SELECT run.header, summary.median, summary.low, summary.high, summary.samples, verdict.detail
            FROM summary JOIN run ON run.id = summary.run_id
            LEFT JOIN verdict USING (run_id, subject, metric)
            WHERE run.host_key = \(series.hostKey) AND run.plan_key = \(series.planKey)
            AND summary.subject = \(series.subject) AND summary.metric = \(series.metric)
            ORDER BY run.started_at, \(bytewise: "run.id")
            """,
            columns: [.text, .real, .real, .real, .text, .text]
        ) { row in
            SeriesObservation(
                run: try decodeStoredJSON(RunHeader.self, row.text(0)),
                values: SeriesValues(
                    samples: try decodeStoredJSON([Double].self, row.text(4)), median: try row.real(1),
                    low: try row.real(2),
                    high: try row.real(3)),
                verdict: try row.optionalText(5).map { try decodeStoredJSON(SeriesVerdict.self, $0) })
        }
    }

    package static func annotations(hostKey: String) -> StoreQuery<Annotation> {
        StoreQuery(
            "SELECT id, host_key, subject, at, message FROM annotation WHERE host_key = \(hostKey) ORDER BY at, id",
            columns: [.integer, .text, .text, .real, .text]
        ) { row in
            Annotation(
                id: try row.integer(0), hostKey: try row.text(1), subject: try row.optionalText(2),
                at: Date(timeIntervalSince1970: try row.real(3)), message: try row.text(4))
        }
    }

    /// One row per host and plan it ran (one with no plan for a host with
    /// no run), the host's figures repeated on each: `hostEntries` folds
    /// them. One query for every host, instead of one more per host.
    package static let hostPlans = StoreQuery<HostPlanRow>(
        """
        SELECT host.key, host.identity, COALESCE(stats.runs, 0), stats.first_run, stats.last_run, plan.key, plan.identity
        FROM host
        LEFT JOIN (
            SELECT host_key, COUNT(*) AS runs, MIN(started_at) AS first_run, MAX(started_at) AS last_run FROM run GROUP BY host_key
        ) AS stats ON stats.host_key = host.key
        LEFT JOIN (SELECT DISTINCT host_key, plan_key FROM run) AS used ON used.host_key = host.key
        LEFT JOIN plan ON plan.key = used.plan_key
        ORDER BY stats.last_run DESC NULLS LAST, \(bytewise: "host.key"), \(bytewise: "plan.key")
        """,
        columns: [.text, .text, .integer, .real, .real, .text, .text]
    ) { row in
        let plan = try row.optionalText(5).map { key in (key, try decodeStoredJSON(PlanIdentity.self, try row.text(6)))
        }
        return HostPlanRow(
            entry: HostEntry(
                key: try row.text(0), identity: try decodeStoredJSON(HostIdentity.self, row.text(1)),
                runs: Int(try row.integer(2)),
                plans: [:], firstRun: try row.optionalReal(3).map(Date.init(timeIntervalSince1970:)),
                lastRun: try row.optionalReal(4).map(Date.init(timeIntervalSince1970:))),
            plan: plan)
    }

    /// A row of `hostPlans`.
    package struct HostPlanRow: Sendable {
        var entry: HostEntry
        var plan: (key: String, identity: PlanIdentity)?
    }

    /// The hosts of `hostPlans`' rows, in their order, each with its plans.
    package static func hostEntries(_ rows: [HostPlanRow]) -> [HostEntry] {
        var entries: [HostEntry] = []
        for row in rows {
            if entries.last?.key != row.entry.key { entries.append(row.entry) }
            if let plan = row.plan { entries[entries.count - 1].plans[plan.key] = plan.identity }
        }
        return entries
    }
}
