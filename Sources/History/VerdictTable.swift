import Compare
import Foundation
import MVMCore

/// A value of a series in its own unit: "1258.5 ms", "61.2 MiB", "9.84×".
public func formatSeriesValue(_ value: Double, _ unit: SeriesUnit) -> String {
    switch unit {
    case .seconds: formatMeasurement(value, .seconds)
    case .bytes: formatMeasurement(value, .bytes)
    case .ratio: String(format: "%.2f×", value)
    }
}

/// The order a reader wants: what needs action first.
public func verdictRank(_ decision: Decision) -> Int {
    switch decision {
    case .regression: 0
    case .improvement: 1
    case .unconfirmed: 2
    case .ok: 3
    case .warming: 4
    }
}

extension NightlyOutcome {
    /// The terminal's verdict table: series, baseline median, new median,
    /// change, p, decision, and what changed in the stack.
    public func verdictTable() -> String {
        var lines: [String] = []
        let status: String
        if !failures.isEmpty {
            status = "JOB FAILED"
        } else if !regressions.isEmpty {
            status = "\(regressions.count) REGRESSION\(regressions.count == 1 ? "" : "S")"
        } else {
            status = "no regression"
        }
        lines.append("mvm nightly: \(status) · run \(run.id)\(run.label.map { " (\($0))" } ?? "") · baseline \(baseline) · \(host.hostname)")
        for failure in failures { lines.append("  job failed: \(failure)") }
        if !conditions.isQuiet(cores: host.cores) {
            lines.append(String(
                format: "  measured under load: load %.2f at the start, %.2f at the end, %.1f %% steal",
                conditions.loadAverageAtStart, conditions.loadAverageAtEnd, conditions.stealFraction * 100))
        }
        guard !verdicts.isEmpty else {
            lines.append(verdicts.isEmpty && baseline != "none" ? "  no series to judge" : "")
            return lines.joined(separator: "\n")
        }
        lines.append("")
        var rows: [[String]] = [["series", "baseline", "new", "change", "p", "decision", "stack changed"]]
        let ordered = verdicts.sorted { (verdictRank($0.decision), $0.series) < (verdictRank($1.decision), $1.series) }
        for verdict in ordered {
            let unit = verdict.series.unit
            rows.append([
                verdict.series.name,
                verdict.baselineMedian.map { formatSeriesValue($0, unit) } ?? "-",
                formatSeriesValue(verdict.newMedian, unit),
                verdict.relativeChange.map(signedPercent) ?? "-",
                verdict.pValue.map { String(format: "%.4f", $0) } ?? "-",
                verdict.decision.rawValue + (verdict.decision == .ok || verdict.decision == .warming ? "" : ": " + verdict.reason),
                verdict.stackChanges.isEmpty ? "-" : verdict.stackChanges.joined(separator: ", "),
            ])
        }
        lines += alignColumns(rows).map { "  " + $0 }
        return lines.joined(separator: "\n")
    }
}
