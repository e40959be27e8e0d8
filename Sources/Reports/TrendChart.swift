import Foundation
import History
import MVMCore

/// Draws "did this series move?": run medians in run order with their 95 %
/// intervals, the band the baseline allows, the new run ringed, stack
/// changes as labelled dashed lines between runs, and change points as
/// triangles. Legends are HTML next to the chart (text there wraps and
/// never collides with data).
struct TrendChart {
    let trend: SeriesTrend
    let decision: Decision
    let colour: String

    static let width = 560.0
    static let height = 300.0
    private let left = 66.0, right = 14.0, bottom = 46.0
    private let labelSize = 11.0
    private static let maximumLabelLevels = 3

    func render() -> String {
        let points = trend.points
        let unit = DisplayUnit.fitting(points.flatMap { [$0.low, $0.high, $0.median] }, unit: trend.series.unit)
        let markers = stackLabels()
        let top = 18 + Double(markers.filter { !$0.text.isEmpty }.map(\.level).max().map { $0 + 1 } ?? 0) * (labelSize + 3)
        var canvas = SVGCanvas(
            width: Self.width, height: Self.height, title: "\(trend.series.name): run medians over \(points.count) runs")
        guard !points.isEmpty else {
            canvas.text("no runs recorded", x: Self.width / 2, y: Self.height / 2, anchor: .middle, fill: Palette.muted)
            return canvas.render()
        }
        // The scale follows the data and the baseline's median, not the whole
        // band: a 4 MiB memory floor around a 3 MiB container would otherwise
        // flatten every point into one line (and put negative MiB on the axis).
        var values = points.flatMap { [$0.low, $0.median, $0.high] }.filter(\.isFinite)
        if let band = trend.band { values.append(band.median) }
        let y = LinearScale(
            covering: values.map(unit.scaled).min() ?? 0, values.map(unit.scaled).max() ?? 1, range: (Self.height - bottom, top))
        let plotTop = y(y.domainHigh), plotBottom = y(y.domainLow)
        let clipped = { (raw: Double) in min(max(y(unit.scaled(raw)), plotTop), plotBottom) }
        let plotRight = Self.width - right
        let slot = (plotRight - left) / Double(points.count)
        let x = { (index: Int) in left + (Double(index) + 0.5) * slot }
        let value = { (raw: Double) in y(unit.scaled(raw)) }

        drawYAxis(&canvas, y: y, unit: unit, top: top)
        if let band = trend.band {
            let first = points.firstIndex(where: \.inBaseline) ?? 0
            let from = x(first) - slot / 2
            canvas.rect(
                x: from, y: clipped(band.high), width: plotRight - from, height: clipped(band.low) - clipped(band.high), fill: Palette.band,
                opacity: 0.18, tooltip: "baseline \(unit.format(band.median)), noise floor \(unit.format(band.low))–\(unit.format(band.high))")
            canvas.line(from, value(band.median), plotRight, value(band.median), stroke: Palette.band, width: 1.5, dash: "6 3")
        }
        for marker in markers {
            let lineX = x(marker.index) - slot / 2
            // Row 0 sits just above the plot, higher rows further up; the
            // line reaches up beside its own label, so each label reads as
            // belonging to its line even when labels are stacked.
            let labelY = top - 8 - Double(marker.level) * (labelSize + 3)
            let lineTop = marker.text.isEmpty ? top - 4 : labelY - labelSize + 2
            canvas.line(lineX, lineTop, lineX, Self.height - bottom, stroke: Palette.muted, width: 1.2, dash: "4 3", tooltip: marker.full)
            guard !marker.text.isEmpty else { continue }
            canvas.text(
                marker.text, x: marker.anchorEnd ? lineX - 3 : lineX + 3, y: labelY, anchor: marker.anchorEnd ? .end : .start,
                size: labelSize, fill: Palette.ink, tooltip: marker.full)
        }
        let changeIDs = Set(trend.changePointRunIDs)
        for (index, point) in points.enumerated() {
            let px = x(index)
            if point.low.isFinite, point.high.isFinite, point.high > point.low {
                canvas.line(px, value(point.low), px, value(point.high), stroke: colour, width: 1.4)
                for end in [point.low, point.high] { canvas.line(px - 3, value(end), px + 3, value(end), stroke: colour, width: 1.4) }
            }
            let tip = "\(point.runID) · \(formatDate(point.startedAt)) · median \(unit.format(point.median)) "
                + "[\(unit.format(point.low)), \(unit.format(point.high))]" + (point.good ? "" : " · partial or failed")
            if point.isNew {
                let ring = decision == .regression ? Palette.vermillion : Palette.ink
                canvas.circle(x: px, y: value(point.median), radius: 8, fill: "none", stroke: ring, strokeWidth: 2)
            }
            // Baseline and new runs solid, other good runs faded (no ring, so
            // they are not mistaken for the hollow partial or failed runs).
            let faded = point.good && !point.inBaseline && !point.isNew
            canvas.circle(
                x: px, y: value(point.median), radius: point.isNew ? 4.5 : 3.5, fill: point.good ? colour : "#FFFFFF",
                stroke: faded ? nil : colour, strokeWidth: 1.5, opacity: faded ? 0.45 : nil, tooltip: tip)
            if changeIDs.contains(point.runID) {
                let base = Self.height - bottom - 2
                canvas.polygon(
                    [(px - 5, base), (px + 5, base), (px, base - 8)], fill: Palette.purple, tooltip: "change point: a new segment starts here")
            }
        }
        drawXAxis(&canvas, points: points, x: x, slot: slot)
        return canvas.render()
    }

    private func drawYAxis(_ canvas: inout SVGCanvas, y: LinearScale, unit: DisplayUnit, top: Double) {
        for tick in y.ticks {
            canvas.line(left, y(tick), Self.width - right, y(tick), stroke: Palette.grid)
            canvas.text(formatDecimal(tick, places: y.tickDecimals), x: left - 6, y: y(tick) + 4, anchor: .end, size: labelSize, fill: Palette.muted)
        }
        canvas.line(left, top - 4, left, Self.height - bottom, stroke: Palette.muted)
        let title = "\(trend.series.metric) (\(unit.suffix == "×" ? "ratio, ×" : unit.suffix))"
        canvas.text(title, x: 14, y: (top + Self.height - bottom) / 2, anchor: .middle, size: labelSize + 1, rotate: true)
    }

    /// Dates under the runs, thinned so that labels stay 44 px apart; the
    /// new run is always labelled.
    private func drawXAxis(_ canvas: inout SVGCanvas, points: [TrendPoint], x: (Int) -> Double, slot: Double) {
        let axisY = Self.height - bottom
        canvas.line(left, axisY, Self.width - right, axisY, stroke: Palette.muted)
        let last = points.count - 1
        // Several runs a day (a CI job, a test) tell apart only by the time,
        // a wider label that needs more room.
        let days = Set(points.map { formatShortDate($0.startedAt) })
        let label = days.count < points.count ? formatShortTime : formatShortDate
        let stride = max(1, Int(((days.count < points.count ? 76 : 44) / slot).rounded(.up)))
        for index in points.indices {
            let isLast = index == last
            guard isLast || (index % stride == 0 && last - index >= stride) else { continue }
            canvas.line(x(index), axisY, x(index), axisY + 4, stroke: Palette.muted)
            canvas.text(
                isLast && points[index].isNew ? "new" : label(points[index].startedAt), x: x(index), y: axisY + 17,
                anchor: .middle, size: labelSize, weight: isLast ? "bold" : nil, fill: Palette.muted)
        }
        canvas.text(days.count < points.count ? "run (start, UTC), oldest → newest" : "run (start date, UTC), oldest → newest", x: (left + Self.width - right) / 2, y: Self.height - 8, anchor: .middle, size: labelSize + 1)
    }

    struct StackLabel {
        var index: Int
        var text: String
        var full: String
        var level: Int
        var anchorEnd: Bool
    }

    /// One label per stack change, on the first run of the new stack, in
    /// the lowest row where it neither overlaps another label nor is crossed
    /// by another change's line (a line runs from its own row down to the
    /// plot), and where its own line crosses no label below it. Past three
    /// rows a change keeps its dashed line and tooltip but no label, so that
    /// a busy week cannot push the plot off the chart.
    private func stackLabels() -> [StackLabel] {
        let points = trend.points
        guard !points.isEmpty else { return [] }
        let slot = (Self.width - right - left) / Double(points.count)
        var placed: [(level: Int, from: Double, to: Double, line: Double)] = []
        var labels: [StackLabel] = []
        for marker in trend.stackChanges {
            guard let index = points.firstIndex(where: { $0.runID == marker.runID }) else { continue }
            let full = marker.changes.joined(separator: "; ")
            let more = marker.changes.count > 1 ? " (+\(marker.changes.count - 1))" : ""
            let text = truncated(marker.changes.first ?? "", to: 30) + more
            let lineX = left + Double(index) * slot
            let width = estimatedTextWidth(text, size: labelSize)
            let anchorEnd = lineX + 3 + width > Self.width - right
            let (from, to) = anchorEnd ? (lineX - 3 - width, lineX) : (lineX, lineX + 3 + width)
            let conflicts = { (level: Int) in
                placed.contains { other in
                    (other.level == level && other.from < to + 6 && from < other.to + 6)
                        || (other.level >= level && from - 3 <= other.line && other.line <= to + 3)
                        || (other.level < level && other.from - 3 <= lineX && lineX <= other.to + 3)
                }
            }
            var level = 0
            while level < Self.maximumLabelLevels && conflicts(level) { level += 1 }
            guard level < Self.maximumLabelLevels else {
                labels.append(StackLabel(index: index, text: "", full: full, level: 0, anchorEnd: false))
                continue
            }
            placed.append((level, from, to, lineX))
            labels.append(StackLabel(index: index, text: text, full: full, level: level, anchorEnd: anchorEnd))
        }
        return labels
    }
}
