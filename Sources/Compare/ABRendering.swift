import MVMCore

/// `mvm ab`'s report for people: the two sides, then one row per metric
/// with both means, the change, p and the verdict; as a terminal table or
/// as Markdown.
public struct ABRendering: Sendable {
    public let report: ABReport

    public init(_ report: ABReport) {
        self.report = report
    }

    private var heading: [String] {
        let plan = report.comparison.plan
        return [
            "mvm ab: \(plan.runs) run\(plan.runs == 1 ? "" : "s") + \(plan.warmup) warm-up per side, interleaved in shuffled order; "
                + "a difference counts when a permutation test of the means (\(ABAnalysis.resamples) resamples) gives p < \(formatDecimal(ABAnalysis.alpha, places: 2)) "
                + "and it is past the metric's threshold",
            "A: " + Self.describe(report.a),
            "B: " + Self.describe(report.b),
        ]
    }

    public static func describe(_ side: [String: String]) -> String {
        side.isEmpty
            ? "mvm's defaults" : side.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }

    private var rows: [[String]] {
        [["metric", "A (mean)", "B (mean)", "change", "p", "verdict"]]
            + report.results.map { result in
                [
                    result.metric, formatMeasurement(result.meanA, result.unit),
                    formatMeasurement(result.meanB, result.unit),
                    Self.signedPercent(result.relativeChange),
                    ABAnalysis.formatP(result.pValue), result.sentence,
                ]
            }
    }

    private var footer: [String] {
        var lines: [String] = []
        for contender in report.comparison.summary.contenders where contender.failed > 0 {
            lines.append("\(contender.name): \(contender.failed) of \(contender.instances) runs failed")
        }
        lines.append(
            report.bRegressed
                ? "B regressed: "
                    + report.results.filter { $0.outcome == .regression }.map(\.metric).joined(separator: ", ")
                : "B did not regress")
        return lines
    }

    /// "+12.5 %", "-3.0 %", "0.0 %".
    static func signedPercent(_ fraction: Double) -> String {
        let text = formatDecimal(abs(fraction) * 100, places: 1)
        return (text == "0.0" ? "" : fraction > 0 ? "+" : "-") + text + " %"
    }

    /// The terminal table.
    public func table() -> String {
        (heading + [""] + alignColumns(rows) + [""] + footer).joined(separator: "\n")
    }

    /// The same as Markdown.
    public func markdown() -> String {
        var lines = ["# mvm ab", ""] + heading.map { $0 + "  " } + [""]
        let table = rows
        lines.append("| " + table[0].joined(separator: " | ") + " |")
        lines.append("|" + String(repeating: " --- |", count: table[0].count))
        for row in table.dropFirst() { lines.append("| " + row.joined(separator: " | ") + " |") }
        return (lines + [""] + footer).joined(separator: "\n") + "\n"
    }
}
