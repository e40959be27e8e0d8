import Compare
import History
import MVMCore

/// Colours of the trace's layers: the contender palette's hues, told apart
/// by the labels too.
enum TraceColours {
    static func colour(of layer: TraceLayer) -> String {
        switch layer {
        case .mvm: "#8A8A8A"
        case .libvirt: Palette.blue
        case .qemu: Palette.sky
        case .kernel: Palette.purple
        case .`init`: Palette.green
        case .runtime: Palette.orange
        }
    }
}

/// The traced starts of a comparison as a waterfall: one row per top-level
/// step of each contender, all on one time axis from the request, the finer
/// steps drawn inside their row (each with a tooltip, labelled where the
/// label fits), then each contender's longest steps as a table.
func traceSectionHTML(_ report: ComparisonReport) -> String {
    guard let traces = report.traces, !traces.isEmpty else { return "" }
    let traced = report.contenders.compactMap { name in traces[name].map { (name, $0) } }
    var html = "<section id=\"trace\">\n<h2>Where the time goes</h2>\n"
    html +=
        "<p>One traced start per contender, after the measured runs (tracing perturbs, so these are not samples). "
        + "libvirt's steps come from its debug log, the kernel's from its console timestamps (each gap is named by the line that ends it), "
        + "the init's from its step marks, the runtime's from its debug log; all on mvm's clock from the request.</p>\n"
    let drawable = traced.compactMap { name, traced in traced.trace.map { (name, $0) } }
    if !drawable.isEmpty {
        html += "<figure>" + TraceWaterfall(traces: drawable).render() + "</figure>\n"
    }
    for (name, traced) in traced {
        guard let trace = traced.trace else {
            html +=
                "<p><b>\(escapeXML(name))</b>: the traced start failed: \(escapeXML(traced.failure ?? "no trace"))</p>\n"
            continue
        }
        var heading = "<b>\(escapeXML(name))</b>: ready in \(formatValue(trace.ready, MetricUnit.seconds)); "
        heading += "\(formatDecimal(trace.coverage * 100, places: 1)) % of it in named steps"
        if let cost = traced.tracingCost {
            heading +=
                "; tracing cost \(cost < 0 ? "−" : "+")\(formatValue(abs(cost), MetricUnit.seconds)) against the untraced median"
        }
        html += "<p>\(heading)</p>\n"
        html +=
            "<table>\n<thead><tr><th>layer</th><th>step</th><th class=\"num\">time</th><th class=\"num\">share</th></tr></thead>\n<tbody>\n"
        for step in trace.topSteps(8) {
            let detail = step.span.detail.map { " <span class=\"muted\">(\(escapeXML($0)))</span>" } ?? ""
            html +=
                "<tr><td>\(escapeXML(step.span.layer.rawValue))</td><td>\(escapeXML(step.span.name))\(detail)</td>"
                + "<td class=\"num\">\(formatValue(step.span.duration, MetricUnit.seconds))</td>"
                + "<td class=\"num\">\(formatDecimal(step.share * 100, places: 1)) %</td></tr>\n"
        }
        html += "</tbody></table>\n"
        if !trace.notes.isEmpty {
            html += "<ul>" + trace.notes.map { "<li>\(escapeXML($0))</li>" }.joined() + "</ul>\n"
        }
    }
    return html + "</section>\n"
}

/// Draws the waterfall: a heading row per contender, then a row per
/// top-level span, its children as segments inside it.
struct TraceWaterfall {
    let traces: [(contender: String, trace: BootTrace)]

    static let width = 1100.0
    private let left = 300.0, right = 70.0, top = 10.0, bottom = 46.0, rowHeight = 24.0, barHeight = 16.0
    private let labelSize = 11.0

    private enum Row {
        case contender(String, BootTrace)
        case span(BootTrace, Int)
    }

    private var rows: [Row] {
        traces.flatMap { contender, trace -> [Row] in
            let topLevel = trace.spans.indices.filter { trace.spans[$0].parent == nil }
                .sorted { trace.spans[$0].start < trace.spans[$1].start }
            return [.contender(contender, trace)] + topLevel.map { .span(trace, $0) }
        }
    }

    func render() -> String {
        let rows = self.rows
        let height = top + rowHeight * Double(rows.count) + bottom
        var canvas = SVGCanvas(
            width: Self.width, height: height,
            title: "Where each contender's start spends its time, layer by layer, on one time axis")
        let end = traces.map(\.trace.ready).max() ?? 0
        let unit = DisplayUnit.fitting([end], unit: .seconds)
        let x = LinearScale(
            covering: 0, unit.scaled(end), range: (left, Self.width - right), count: 10, includeZero: true)
        let position = { (seconds: Double) in x(unit.scaled(seconds)) }
        let plotBottom = height - bottom
        canvas.ticks(of: x, .horizontal, axis: plotBottom, grid: (top, plotBottom))
        canvas.line(left, plotBottom, Self.width - right, plotBottom, stroke: Palette.muted)
        canvas.text(
            "time from the request (\(unit.suffix)); hover a bar for its step", x: (left + Self.width - right) / 2,
            y: height - 8, anchor: .middle, size: labelSize + 1)
        for (index, row) in rows.enumerated() {
            let center = top + rowHeight * (Double(index) + 0.5)
            switch row {
            case .contender(let name, let trace):
                canvas.text(name, x: 6, y: center + 4, size: labelSize + 2, weight: "bold")
                // Down through this contender's own rows only.
                let ownRows = Double(trace.spans.filter { $0.parent == nil }.count)
                canvas.line(
                    position(trace.ready), center - rowHeight / 2, position(trace.ready),
                    top + rowHeight * (Double(index) + 1 + ownRows), stroke: Palette.ink, width: 1, dash: "3 3",
                    tooltip: "\(name) ready")
                canvas.text(
                    "ready " + unit.format(trace.ready), x: position(trace.ready) + 4, y: center + 4,
                    size: labelSize, weight: "bold")
            case .span(let trace, let spanIndex):
                draw(trace: trace, span: spanIndex, center: center, position: position, unit: unit, on: &canvas)
            }
        }
        return canvas.render()
    }

    private func draw(
        trace: BootTrace, span spanIndex: Int, center: Double, position: (Double) -> Double, unit: DisplayUnit,
        on canvas: inout SVGCanvas
    ) {
        let span = trace.spans[spanIndex]
        let colour = TraceColours.colour(of: span.layer)
        canvas.rect(x: 14, y: center - 5, width: 8, height: 10, fill: colour)
        canvas.text(
            truncated("\(span.layer.rawValue): \(span.name)", to: 44), x: 28, y: center + 4, size: labelSize,
            tooltip: span.name)
        let from = position(span.start)
        canvas.rect(
            x: from, y: center - barHeight / 2, width: max(position(span.end) - from, 1), height: barHeight,
            fill: colour, opacity: 0.25, stroke: colour,
            tooltip: "\(span.layer.rawValue): \(span.name): \(unit.format(span.duration))")
        let children = trace.spans.filter { $0.parent == spanIndex }
        for (number, child) in children.enumerated() {
            let start = position(child.start)
            let width = position(child.end) - start
            guard width > 0.2 else { continue }
            canvas.rect(
                x: start, y: center - barHeight / 2 + 2, width: width, height: barHeight - 4, fill: colour,
                opacity: number % 2 == 0 ? 0.85 : 0.55,
                tooltip: "\(child.name)\(child.detail.map { " (\($0))" } ?? ""): \(unit.format(child.duration))")
            let label = truncated(child.name, to: Int((width - 6) / (labelSize * 0.56)))
            if width > 60, label.count >= 6 {
                canvas.text(label, x: start + 3, y: center + 4, size: labelSize - 1, fill: "#FFFFFF")
            }
        }
        if children.isEmpty || span.duration > 0 {
            canvas.text(
                unit.format(span.duration), x: position(span.end) + 4, y: center + 4, size: labelSize - 1,
                fill: Palette.muted)
        }
    }
}
