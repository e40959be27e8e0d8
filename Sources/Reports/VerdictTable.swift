import Compare
import Foundation
import History
import MVMCore

/// A value of a series in its own unit: "1258.5 ms", "61.2 MiB", "9.84×".
func formatSeriesValue(_ value: Double, _ unit: SeriesUnit) -> String {
    switch unit {
    case .seconds: formatMeasurement(value, .seconds)
    case .bytes: formatMeasurement(value, .bytes)
    case .ratio: String(format: "%.2f×", value)
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
        let steps = verdicts.filter { $0.decision == .unexplainedStep }.count
        let stepsNote = steps == 0 ? "" : " · \(steps) unexplained step\(steps == 1 ? "" : "s")"
        lines.append(
            "mvm nightly: \(status)\(stepsNote) · run \(run.id)\(run.label.map { " (\($0))" } ?? "") · baseline \(baseline) · \(host.hostname)"
        )
        for failure in failures { lines.append("  job failed: \(failure)") }
        if !conditions.isQuiet(cores: host.cores) {
            lines.append(
                String(
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
        let shared =
            judged.first.map { first in
                first.stackChanges.filter { change in judged.allSatisfy { $0.stackChanges.contains(change) } }
            } ?? []
        if !shared.isEmpty { lines.append("  stack changed since the baseline: " + shared.joined(separator: ", ")) }
        lines.append("")
        var rows: [[String]] = [["series", "baseline", "new", "change", "score", "rule", "decision", "stack changed"]]
        let ordered = verdicts.sorted { ($0.decision.urgency, $0.series) < ($1.decision.urgency, $1.series) }
        for verdict in ordered {
            let unit = verdict.series.unit
            rows.append([
                verdict.series.name,
                verdict.baselineMedian.map { formatSeriesValue($0, unit) } ?? "-",
                formatSeriesValue(verdict.newMedian, unit),
                verdict.relativeChange.map(signedPercent) ?? "-",
                verdict.score.map {
                    String(format: "%.1f", abs($0)) + (verdict.threshold.map { String(format: "/%.1f", $0) } ?? "")
                } ?? "-",
                verdict.rule?.rawValue ?? "-",
                verdict.decision == .warming
                    ? "warming: \(verdict.reason)" : "\(verdict.decision.label): \(verdict.reason)",
                verdict.stackChanges.filter { !shared.contains($0) }.joined(separator: ", ").nonEmpty ?? "-",
            ])
        }
        if rows.dropFirst().allSatisfy({ $0.last == "-" }) { rows = rows.map { Array($0.dropLast()) } }
        lines += alignColumns(rows).map { "  " + $0 }
        for traced in traceDifferences ?? [] {
            lines.append("  where the time moved: " + traced.sentence)
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}
