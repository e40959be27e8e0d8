import Compare
import History
import MVMCore

/// The charts of the dimensions beyond boot. A side is a contender, drawn
/// in its role's colour as everywhere else; the workload's host side has a
/// colour of its own.
struct DimensionCharts {
    let results: DimensionResults
    let roles: [String: ContenderRole]

    /// A chart for the dimensions a picture helps with; empty for the others.
    func chart(_ dimension: ComparisonDimension) -> String {
        switch dimension {
        case .workload: results.workload.map(workloadChart) ?? ""
        case .scaling: results.scaling.map(scalingChart) ?? ""
        case .teardown: results.teardown.map(teardownChart) ?? ""
        case .boot, .isolation, .size: ""
        }
    }

    private func sideColour(_ side: String) -> String {
        side == WorkloadResult.hostSide ? Palette.host : Palette.colour(of: roles[side])
    }

    private func workloadChart(_ result: WorkloadResult) -> String {
        let rows = result.workloads.flatMap { workload in
            result.sides.compactMap { side -> IntervalBarChart.Row? in
                guard let ratio = result.figure(side: side, workload: workload)?.ratioToHost else { return nil }
                return IntervalBarChart.Row(
                    label: "\(workload) · \(side)", colour: sideColour(side), value: ratio.ratio,
                    lower: ratio.interval.lower,
                    upper: ratio.interval.upper, text: formatDecimal(ratio.ratio, places: 2) + "x")
            }
        }
        return IntervalBarChart(
            title: "How many times the host's time each side takes (lower is better)", rows: rows,
            format: { formatDecimal($0, places: $0 < 10 ? 1 : 0) + "x" }, reference: (1, "host")
        ).render()
    }

    private func teardownChart(_ result: TeardownResult) -> String {
        let rows = result.figures.flatMap { figure in
            [("stop returned", figure.stopReturned), ("all released", figure.released)].compactMap {
                name, measured -> IntervalBarChart.Row? in
                guard let summary = measured.summary else { return nil }
                return IntervalBarChart.Row(
                    label: "\(figure.side) · \(name)", colour: sideColour(figure.side), value: summary.median,
                    lower: summary.medianConfidenceInterval.lower, upper: summary.medianConfidenceInterval.upper,
                    text: formatValue(summary.median, MetricUnit.seconds))
            }
        }
        return IntervalBarChart(
            title: "From the stop request until stop() returned and until every resource was gone", rows: rows,
            format: { formatValue($0, MetricUnit.seconds) }, reference: nil
        ).render()
    }

    /// Medians against the concurrency level (levels evenly spaced: they double),
    /// one line per side, whiskers for the 95 % interval.
    private func levelChart(
        title: String, result: ScalingResult, unit: MetricUnit, value: (ScalingLevel) -> MeasuredFigure
    ) -> String {
        let points = result.levels.compactMap { level in value(level).summary.map { (level, $0) } }
        guard !points.isEmpty else { return "" }
        let (width, height, left, right, top, bottom) = (720.0, 260.0, 70.0, 640.0, 16.0, 220.0)
        let levels = result.sweep
        let x = { (level: Int) -> Double in
            let index = Double(levels.firstIndex(of: level) ?? 0)
            return levels.count == 1 ? (left + right) / 2 : left + index * (right - left) / Double(levels.count - 1)
        }
        let high = points.map(\.1.medianConfidenceInterval.upper).max() ?? 1
        // Ticks are chosen in the unit they are written in, so that they are
        // round there (100 MiB, not 95.4 MiB).
        let display = DisplayUnit.fitting([high], unit: SeriesUnit(unit))
        let displayScale = LinearScale(covering: 0, display.scaled(high), range: (bottom, top), includeZero: true)
        let scale = { (value: Double) in displayScale(display.scaled(value)) }
        var svg = SVGCanvas(width: width, height: height, title: title)
        svg.ticks(of: displayScale, .vertical, axis: left, grid: (left, right)) { tick in
            formatDecimal(tick, places: displayScale.tickDecimals) + "\u{A0}" + display.suffix
        }
        for level in levels {
            svg.text("\(level)", x: x(level), y: bottom + 16, anchor: .middle, size: 11, fill: Palette.muted)
        }
        svg.text(
            "instances at once", x: (left + right) / 2, y: bottom + 34, anchor: .middle, size: 11, fill: Palette.muted)
        for (index, side) in result.sides.enumerated() {
            let own = points.filter { $0.0.side == side }
            let colour = sideColour(side)
            for (from, to) in zip(own, own.dropFirst()) {
                svg.line(
                    x(from.0.level), scale(from.1.median), x(to.0.level), scale(to.1.median), stroke: colour, width: 2)
            }
            for (level, summary) in own {
                let interval = summary.medianConfidenceInterval
                svg.line(
                    x(level.level), scale(interval.lower), x(level.level), scale(interval.upper), stroke: colour,
                    width: 1.5)
                svg.circle(
                    x: x(level.level), y: scale(summary.median), radius: 4, fill: colour,
                    tooltip: "\(side), \(level.level) at once: \(formatValue(summary.median, unit))")
            }
            if let last = own.last {
                svg.text(
                    side, x: right + 8, y: scale(last.1.median) + 4 + Double(index) * 2, size: 12, weight: "600",
                    fill: colour)
            }
        }
        return "<figure><figcaption>\(escapeXML(title))</figcaption>\n\(svg.render())\n"
            + "<p class=\"legend\"><span>dot: median, whisker: 95 % bootstrap interval</span></p></figure>\n"
    }

    private func scalingChart(_ result: ScalingResult) -> String {
        levelChart(title: "Time until all instances are ready", result: result, unit: .seconds) { $0.allReady }
            + levelChart(title: "Host memory (PSS) per instance while all run", result: result, unit: .bytes) {
                $0.pssPerInstance
            }
    }
}

/// One horizontal bar per row from zero to the median, with the 95 %
/// interval as a whisker and the value written at the bar's end; an
/// optional reference line (1x for ratios).
private struct IntervalBarChart {
    struct Row {
        var label: String
        var colour: String
        var value: Double
        var lower: Double
        var upper: Double
        var text: String
    }

    var title: String
    var rows: [Row]
    var format: (Double) -> String
    var reference: (value: Double, label: String)?

    func render() -> String {
        guard !rows.isEmpty else { return "" }
        let labelWidth = max(90, (rows.map { estimatedTextWidth($0.label, size: 12) }.max() ?? 0) + 16)
        let (width, rowHeight, top) = (720.0, 26.0, 12.0)
        let plotRight = width - 110
        let height = top + Double(rows.count) * rowHeight + 34
        let high = max(rows.map(\.upper).max() ?? 1, reference?.value ?? 0)
        let scale = LinearScale(covering: 0, high, range: (labelWidth, plotRight), includeZero: true)
        var svg = SVGCanvas(width: width, height: height, title: title)
        let axisY = top + Double(rows.count) * rowHeight + 4
        svg.ticks(of: scale, .horizontal, axis: axisY, grid: (top, axisY), label: format)
        for (index, row) in rows.enumerated() {
            let y = top + Double(index) * rowHeight
            svg.text(row.label, x: labelWidth - 8, y: y + 17, anchor: .end, size: 12)
            svg.rect(
                x: scale(0), y: y + 5, width: scale(row.value) - scale(0), height: rowHeight - 10, fill: row.colour,
                opacity: 0.85, tooltip: "\(row.label): \(row.text)")
            svg.line(
                scale(row.lower), y + rowHeight / 2, scale(row.upper), y + rowHeight / 2, stroke: Palette.ink,
                width: 1.5)
            svg.line(scale(row.lower), y + 8, scale(row.lower), y + rowHeight - 8, stroke: Palette.ink, width: 1.5)
            svg.line(scale(row.upper), y + 8, scale(row.upper), y + rowHeight - 8, stroke: Palette.ink, width: 1.5)
            svg.text(row.text, x: max(scale(row.upper), scale(row.value)) + 6, y: y + 17, size: 12)
        }
        if let reference {
            svg.line(
                scale(reference.value), top - 4, scale(reference.value), axisY, stroke: Palette.vermillion, width: 1.5,
                dash: "4 3")
            svg.text(reference.label, x: scale(reference.value) + 4, y: top + 2, size: 11, fill: Palette.vermillion)
        }
        return "<figure><figcaption>\(escapeXML(title))</figcaption>\n\(svg.render())\n"
            + "<p class=\"legend\"><span>bar: median, whisker: 95 % bootstrap interval</span></p></figure>\n"
    }
}
