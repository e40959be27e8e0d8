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

    func render() -> String {
        let points = trend.points
        let unit = DisplayUnit.fitting(points.flatMap { [$0.low, $0.high, $0.median] }, unit: trend.series.unit)
        let slot = (Self.width - right - left) / Double(max(points.count, 1))
        let changes = trend.stackChanges.compactMap { marker in
            points.firstIndex { $0.runID == marker.runID }.map { (index: $0, changes: marker.changes) }
        }
        let labels = StackChangeLabels(changes, left: left, right: Self.width - right, slot: slot, size: labelSize)
        let top = 18 + Double(labels.rowsUsed) * labels.rowHeight
        var canvas = SVGCanvas(
            width: Self.width, height: Self.height, title: "\(trend.series.name): run medians over \(points.count) runs"
        )
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
            covering: values.map(unit.scaled).min() ?? 0, values.map(unit.scaled).max() ?? 1,
            range: (Self.height - bottom, top))
        let plotTop = y(y.domainHigh)
        let plotBottom = y(y.domainLow)
        let clipped = { (raw: Double) in min(max(y(unit.scaled(raw)), plotTop), plotBottom) }
        let plotRight = Self.width - right
        let x = { (index: Int) in left + (Double(index) + 0.5) * slot }
        let value = { (raw: Double) in y(unit.scaled(raw)) }

        drawYAxis(&canvas, y: y, unit: unit, top: top)
        if let band = trend.band {
            let first = points.firstIndex(where: \.inBaseline) ?? 0
            let from = x(first) - slot / 2
            canvas.rect(
                x: from, y: clipped(band.high), width: plotRight - from, height: clipped(band.low) - clipped(band.high),
                fill: Palette.band,
                opacity: 0.18,
                tooltip:
                    "baseline \(unit.format(band.median)), noise floor \(unit.format(band.low))–\(unit.format(band.high))"
            )
            canvas.line(
                from, value(band.median), plotRight, value(band.median), stroke: Palette.band, width: 1.5, dash: "6 3")
        }
        labels.draw(on: &canvas, plotTop: top, plotBottom: Self.height - bottom)
        let changeIDs = Set(trend.changePointRunIDs)
        for (index, point) in points.enumerated() {
            let px = x(index)
            if point.low.isFinite, point.high.isFinite, point.high > point.low {
                canvas.line(px, value(point.low), px, value(point.high), stroke: colour, width: 1.4)
                for end in [point.low, point.high] {
                    canvas.line(px - 3, value(end), px + 3, value(end), stroke: colour, width: 1.4)
                }
            }
            let tip =
                "\(point.runID) · \(formatDate(point.startedAt)) · median \(unit.format(point.median)) "
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
                    [(px - 5, base), (px + 5, base), (px, base - 8)], fill: Palette.purple,
                    tooltip: "change point: a new segment starts here")
            }
        }
        canvas.runAxis(
            starts: points.map(\.startedAt), y: Self.height - bottom, left: left, right: plotRight,
            newestLabel: points.last?.isNew == true ? "new" : nil)
        return canvas.render()
    }

    private func drawYAxis(_ canvas: inout SVGCanvas, y: LinearScale, unit: DisplayUnit, top: Double) {
        canvas.ticks(of: y, .vertical, axis: left, grid: (left, Self.width - right))
        canvas.line(left, top - 4, left, Self.height - bottom, stroke: Palette.muted)
        let title = "\(trend.series.metric) (\(unit.axisSuffix))"
        canvas.text(
            title, x: 14, y: (top + Self.height - bottom) / 2, anchor: .middle, size: labelSize + 1, rotate: true)
    }
}
