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
        // A change every series saw (a new commit, a QEMU upgrade) is said
        // once; the column keeps what only some series saw.
        let judged = verdicts.filter { !$0.baselineRunIDs.isEmpty }
        let shared = judged.first.map { first in first.stackChanges.filter { change in judged.allSatisfy { $0.stackChanges.contains(change) } } } ?? []
        if !shared.isEmpty { lines.append("  stack changed since the baseline: " + shared.joined(separator: ", ")) }
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
                verdict.decision == .warming ? "warming" : "\(verdict.decision.rawValue): \(verdict.reason)",
                verdict.stackChanges.filter { !shared.contains($0) }.joined(separator: ", ").nonEmpty ?? "-",
            ])
        }
        if rows.dropFirst().allSatisfy({ $0.last == "-" }) { rows = rows.map { Array($0.dropLast()) } }
        lines += alignColumns(rows).map { "  " + $0 }
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}
