import MVMCore

/// Renders a comparison for people (terminal table, Markdown) and for
/// machines (CSV). Every figure comes from `report.summary`.
public struct ComparisonRendering: Sendable {
    public let report: ComparisonReport

    public init(_ report: ComparisonReport) {
        self.report = report
    }

    // MARK: Terminal

    public func table() -> String {
        var lines: [String] = []
        if report.includesBoot { lines += bootTable() }
        if let traces = report.traces, !traces.isEmpty {
            lines.append("")
            lines += traceLines(traces)
        }
        for section in sections {
            if !lines.isEmpty { lines.append("") }
            lines += terminalLines(section)
        }
        if !report.includesBoot {
            lines.append("")
            lines.append(contentsOf: environmentLines())
        }
        return lines.joined(separator: "\n")
    }

    private var sections: [DimensionSection] { report.dimensions?.sections ?? [] }

    private func terminalLines(_ section: DimensionSection) -> [String] {
        var lines = ["== \(section.title) ==", section.explanation]
        for table in section.tables {
            lines.append("")
            lines += alignColumns(table)
        }
        if !section.notes.isEmpty { lines.append("") }
        lines += section.notes
        return lines
    }

    private func bootTable() -> [String] {
        var lines: [String] = []
        let plan = report.plan
        lines.append(
            "mvm compare: \(plan.runs) run\(plan.runs == 1 ? "" : "s") + \(plan.warmup) warm-up per contender, "
                + "\(plan.concurrency) instance\(plan.concurrency == 1 ? "" : "s") at a time, contenders interleaved in shuffled order"
        )
        lines.append("each cell: median [95% bootstrap interval of the median]; times from the request")
        lines.append("")
        lines.append(contentsOf: alignedRows(cells(cell: medianCell)))
        lines.append("")
        lines.append(contentsOf: ratioSentences())
        lines.append(contentsOf: failureLines())
        lines.append(contentsOf: environmentLines())
        return lines
    }

    /// Rows: the header, one row per metric any contender has, then runs.
    private func cells(cell: (SampleSummary, MetricUnit) -> String) -> [[String]] {
        let contenders = report.summary.contenders
        var rows: [[String]] = [[""] + contenders.map(\.name)]
        for metric in ComparisonSummary.metricOrder {
            guard contenders.contains(where: { $0.metric(metric)?.summary != nil }) else { continue }
            rows.append(
                [metric.name]
                    + contenders.map { contender in
                        contender.metric(metric)?.summary.map { cell($0, metric.unit) } ?? "-"
                    })
        }
        rows.append(["ok runs"] + contenders.map { "\($0.instances - $0.failed)/\($0.instances)" })
        rows.append(
            ["outliers (ready)"]
                + contenders.map { contender in
                    contender.metric(.ready)?.summary.map { "\($0.outliers)" } ?? "-"
                })
        return rows
    }

    /// "1258.5 ms [1085.8, 1336.1]": the median and its interval.
    private func medianCell(_ summary: SampleSummary, _ unit: MetricUnit) -> String {
        let interval = summary.medianConfidenceInterval
        return "\(format(summary.median, unit)) [\(format(interval.lower, unit, withUnit: false)), "
            + "\(format(interval.upper, unit, withUnit: false))]"
    }

    private func alignedRows(_ rows: [[String]]) -> [String] {
        alignColumns(rows)
    }

    /// "container ready 21.3x sooner than vm [20.1x, 22.5x]".
    public func ratioSentences() -> [String] {
        report.summary.ratios.map { ratio in
            let value = ratio.ratio.ratio
            let interval = ratio.ratio.interval
            // Say it the way round that gives a factor >= 1.
            let (faster, slower, factor, lower, upper) =
                value >= 1
                ? (ratio.denominator, ratio.numerator, value, interval.lower, interval.upper)
                : (ratio.numerator, ratio.denominator, 1 / value, 1 / interval.upper, 1 / interval.lower)
            let range = "[\(formatDecimal(lower, places: 1))x, \(formatDecimal(upper, places: 1))x]"
            let sentence =
                switch ratio.unit {
                case .seconds:
                    "\(faster) \(ratio.metric) \(formatDecimal(factor, places: 1))x sooner than \(slower) \(range)"
                case .bytes:
                    "\(faster) uses \(formatDecimal(factor, places: 1))x less memory (\(ratio.metric)) than \(slower) \(range)"
                }
            return sentence + limitsDiffer(ratio.numerator, ratio.denominator)
        }
    }

    /// "; limits differ: container had no memory, CPU or pids limit" when
    /// either side of a ratio went without the limits the other had.
    private func limitsDiffer(_ sides: String...) -> String {
        let unapplied = sides.compactMap { side in
            report.unappliedLimits?[side].map { limits in
                "\(side) had no \(joinedWithOr(limits)) limit"
            }
        }
        return unapplied.isEmpty ? "" : "; limits differ: " + unapplied.joined(separator: ", ")
    }

    private func joinedWithOr(_ items: [String]) -> String {
        guard let last = items.last, items.count > 1 else { return items.first ?? "" }
        return items.dropLast().joined(separator: ", ") + " or " + last
    }

    private func failureLines() -> [String] {
        report.summary.contenders.flatMap { contender in
            contender.failures.sorted { $0.key < $1.key }.map { reason, count in
                "\(contender.name): \(count) failed run\(count == 1 ? "" : "s"): \(reason)"
            }
        }
    }

    private func environmentLines() -> [String] {
        let environment = report.environment
        var lines = ["accelerator: \(environment.accelerator) (\(environment.acceleratorReason))"]
        lines += report.caveats.map { "caveat: " + $0 }
        lines.append(
            "host: \(environment.cpuModel), \(environment.cores) cores, \(formatBytes(environment.memoryBytes)), "
                + "kernel \(environment.hostKernel); "
                + environment.versions.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(
                    separator: ", "))
        return lines
    }

    // MARK: Markdown

    public func markdown() -> String {
        var lines = ["# mvm compare", ""]
        guard report.includesBoot else {
            lines += sections.flatMap(markdownLines)
            for sentence in environmentLines() { lines.append("- " + sentence) }
            return lines.joined(separator: "\n") + "\n"
        }
        lines.append(
            "\(report.plan.runs) runs + \(report.plan.warmup) warm-up per contender, \(report.plan.concurrency) instance(s) at a time, interleaved in shuffled order (seed \(report.plan.seed)). Each cell: median [95% bootstrap interval of the median]."
        )
        lines.append("")
        let rows = cells(cell: medianCell)
        if let header = rows.first {
            lines.append("| " + (["metric"] + header.dropFirst()).joined(separator: " | ") + " |")
            lines.append("|" + String(repeating: " --- |", count: header.count))
            for row in rows.dropFirst() { lines.append("| " + row.joined(separator: " | ") + " |") }
        }
        lines.append("")
        for sentence in ratioSentences() + failureLines() + environmentLines() { lines.append("- " + sentence) }
        lines.append("")
        lines.append("## All statistics")
        lines.append("")
        lines.append(
            "| contender | metric | n | mean | sd | median | min | max | p5 | p95 | MAD | outliers | median 95% CI |")
        lines.append("|" + String(repeating: " --- |", count: 13))
        for row in statisticsRows() {
            lines.append("| " + row.joined(separator: " | ") + " |")
        }
        if !sections.isEmpty { lines.append("") }
        lines += sections.flatMap(markdownLines)
        return lines.joined(separator: "\n") + "\n"
    }

    private func markdownLines(_ section: DimensionSection) -> [String] {
        var lines = ["## \(section.title)", "", section.explanation, ""]
        for table in section.tables {
            guard let header = table.first else { continue }
            lines.append("| " + header.map(markdownCell).joined(separator: " | ") + " |")
            lines.append("|" + String(repeating: " --- |", count: header.count))
            for row in table.dropFirst() { lines.append("| " + row.map(markdownCell).joined(separator: " | ") + " |") }
            lines.append("")
        }
        for note in section.notes { lines.append("- " + markdownCell(note)) }
        if !section.notes.isEmpty { lines.append("") }
        return lines
    }

    /// A pipe would end the cell; a newline, the row.
    private func markdownCell(_ text: String) -> String {
        var cell = ""
        for character in text {
            switch character {
            case "|": cell += "\\|"
            case "\n": cell += " "
            default: cell.append(character)
            }
        }
        return cell
    }

    private func statisticsRows() -> [[String]] {
        report.summary.contenders.flatMap { contender in
            contender.metrics.compactMap { metric -> [String]? in
                guard let s = metric.summary else { return nil }
                let f = { (value: Double) in format(value, metric.unit) }
                return [
                    contender.name, metric.name, "\(s.count)", f(s.mean), f(s.standardDeviation), f(s.median),
                    f(s.minimum), f(s.maximum), f(s.p5), f(s.p95), f(s.medianAbsoluteDeviation), "\(s.outliers)",
                    "[\(f(s.medianConfidenceInterval.lower)), \(f(s.medianConfidenceInterval.upper))]",
                ]
            }
        }
    }

    // MARK: CSV

    /// One row per contender and metric with every statistic, in the
    /// metric's base unit (seconds or bytes), full precision; then one row
    /// per figure of each other dimension (`metric` is `<dimension>.<figure>`;
    /// a ratio fills median and its interval, an observation fills `value`).
    public func csv() -> String {
        var lines = [
            "contender,metric,unit,n,mean,stddev,median,min,max,p5,p95,mad,outliers,median_ci_lower,median_ci_upper,value"
        ]
        for contender in report.summary.contenders {
            for metric in contender.metrics {
                guard let s = metric.summary else { continue }
                let values = [
                    s.mean, s.standardDeviation, s.median, s.minimum, s.maximum, s.p5, s.p95, s.medianAbsoluteDeviation,
                ].map { "\($0)" }
                lines.append(
                    ([csvField(contender.name), csvField(metric.name), metric.unit.rawValue, "\(s.count)"] + values
                        + [
                            "\(s.outliers)", "\(s.medianConfidenceInterval.lower)",
                            "\(s.medianConfidenceInterval.upper)", "",
                        ])
                        .joined(separator: ","))
            }
        }
        for row in sections.flatMap(\.csvRows) { lines.append(csvLine(row)) }
        return lines.joined(separator: "\n") + "\n"
    }

    private func csvLine(_ row: DimensionCSVRow) -> String {
        var fields = [csvField(row.subject), csvField(row.metric), row.unit]
        if let s = row.summary {
            fields +=
                ["\(s.count)"]
                + [s.mean, s.standardDeviation, s.median, s.minimum, s.maximum, s.p5, s.p95, s.medianAbsoluteDeviation]
                .map { "\($0)" }
            fields += ["\(s.outliers)", "\(s.medianConfidenceInterval.lower)", "\(s.medianConfidenceInterval.upper)"]
        } else if let ratio = row.ratio {
            fields += [
                "", "", "", "\(ratio.ratio)", "", "", "", "", "", "", "\(ratio.interval.lower)",
                "\(ratio.interval.upper)",
            ]
        } else {
            fields += Array(repeating: "", count: 12)
        }
        fields.append(row.value.map(csvField) ?? "")
        return fields.joined(separator: ",")
    }

    private func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return text }
        return "\"" + text.replacingAll("\"", with: "\"\"") + "\""
    }

    // MARK: Units

    func format(_ value: Double, _ unit: MetricUnit, withUnit: Bool = true) -> String {
        formatMeasurement(value, unit, withUnit: withUnit)
    }
}
