import Foundation
import History
import MVMCore

/// Hosts ranked by one figure: one horizontal bar each, smallest (best)
/// on top, the value at the end of its bar. For ratios a dashed line marks
/// parity (1×), where the micro-VM would match the container.
struct RankedBarChart {
    struct Bar {
        var label: String
        var detail: String
        var value: Double
    }

    let title: String
    let axisTitle: String
    let bars: [Bar]
    let unit: SeriesUnit
    let colour: String

    static let width = 560.0
    private let labelWidth = 220.0, valueWidth = 70.0, rowHeight = 24.0, top = 8.0, bottom = 40.0
    private let size = 12.0

    func render() -> String {
        let height = top + Double(max(bars.count, 1)) * rowHeight + bottom
        var canvas = SVGCanvas(width: Self.width, height: height, title: title)
        guard !bars.isEmpty else {
            canvas.text(
                "no good run measured this", x: Self.width / 2, y: top + 16, anchor: .middle, fill: Palette.muted)
            return canvas.render()
        }
        let display = DisplayUnit.fitting(bars.map(\.value), unit: unit)
        let largest = bars.map { display.scaled($0.value) }.max() ?? 1
        let x = LinearScale(
            covering: 0, largest, range: (labelWidth, Self.width - valueWidth), count: 4, includeZero: true)
        let axisY = height - bottom
        canvas.ticks(of: x, .horizontal, axis: axisY, grid: (top, axisY))
        canvas.text(
            axisTitle + " (\(display.suffix))", x: (labelWidth + Self.width - valueWidth) / 2, y: axisY + 31,
            anchor: .middle, size: size)
        for (index, bar) in bars.enumerated() {
            let y = top + Double(index) * rowHeight
            let tip = "\(index + 1). \(bar.label) · \(bar.detail) · \(display.format(bar.value))"
            canvas.text(
                "\(index + 1). " + truncated(bar.label, to: 28), x: labelWidth - 8, y: y + rowHeight / 2 + 4,
                anchor: .end, size: size,
                fill: Palette.ink, tooltip: tip)
            let end = x(display.scaled(bar.value))
            canvas.rect(
                x: labelWidth, y: y + 4, width: end - labelWidth, height: rowHeight - 8, fill: colour, tooltip: tip)
            canvas.text(display.format(bar.value), x: end + 5, y: y + rowHeight / 2 + 4, size: size, fill: Palette.ink)
        }
        if unit == .ratio, x.domainHigh >= 1 {
            canvas.line(
                x(1), top - 4, x(1), axisY, stroke: Palette.ink, width: 1.2, dash: "4 3",
                tooltip: "1×: parity with the container")
        }
        canvas.line(labelWidth, top, labelWidth, axisY, stroke: Palette.muted)
        return canvas.render()
    }
}

/// One host's runs, oldest to newest: a lane per series (each with its own
/// scale, so that a 0.1 s container is not flattened under a 1 s micro-VM),
/// good runs solid and joined, partial or failed runs hollow, and dashed
/// lines where the stack changed, labelled with what changed.
struct FleetTrendChart {
    struct Lane {
        var name: String
        var colour: String
        var unit: SeriesUnit
        var values: [Double?]
    }

    let title: String
    let points: [FleetPoint]
    let lanes: [Lane]
    let changes: [FleetStackChange]

    static let width = 560.0
    private let left = 62.0, right = 14.0, laneHeight = 96.0, laneGap = 14.0, bottom = 40.0
    private let size = 11.0

    func render() -> String {
        let slot = (Self.width - right - left) / Double(max(points.count, 1))
        let indexed = changes.compactMap { change in
            points.firstIndex { $0.header.id == change.runID }.map { (index: $0, changes: change.changes) }
        }
        let labels = StackChangeLabels(indexed, left: left, right: Self.width - right, slot: slot, size: size)
        // One row of labels always, so that charts side by side line up.
        let top = 12 + Double(max(labels.rowsUsed, 1)) * labels.rowHeight
        let height = top + Double(lanes.count) * (laneHeight + laneGap) - laneGap + bottom
        var canvas = SVGCanvas(width: Self.width, height: height, title: title)
        guard !points.isEmpty else {
            canvas.text("no runs recorded", x: Self.width / 2, y: height / 2, anchor: .middle, fill: Palette.muted)
            return canvas.render()
        }
        let x = { (index: Int) in left + (Double(index) + 0.5) * slot }
        let plotBottom = height - bottom
        labels.draw(on: &canvas, plotTop: top, plotBottom: plotBottom)
        for (number, lane) in lanes.enumerated() {
            let laneTop = top + Double(number) * (laneHeight + laneGap)
            drawLane(&canvas, lane, top: laneTop, x: x)
        }
        canvas.runAxis(starts: points.map(\.header.startedAt), y: plotBottom, left: left, right: Self.width - right)
        return canvas.render()
    }

    private func drawLane(_ canvas: inout SVGCanvas, _ lane: Lane, top: Double, x: (Int) -> Double) {
        // The scale follows the good runs: a partial run's stray 3 s would
        // otherwise flatten the rest; it is drawn at the lane's edge instead.
        let all = lane.values.compactMap { $0 }.filter(\.isFinite)
        let good = zip(points, lane.values).compactMap { point, value in point.isGood ? value : nil }.filter(\.isFinite)
        let basis = good.isEmpty ? all : good
        let unit = DisplayUnit.fitting(basis, unit: lane.unit)
        let scaled = basis.map(unit.scaled)
        // At least ±5 % of the median in view: a 1 % wobble must not look like a trend.
        let sorted = scaled.sorted()
        let middle = sorted.isEmpty ? 1 : sorted[sorted.count / 2]
        let low = min(scaled.min() ?? 0, middle * 0.95)
        let high = max(scaled.max() ?? 1, middle * 1.05)
        let scale = LinearScale(covering: low, high, range: (top + laneHeight, top + 14), count: 3)
        let y = { (value: Double) in min(max(scale(value), scale(scale.domainHigh)), scale(scale.domainLow)) }
        canvas.ticks(of: scale, .vertical, axis: left, grid: (left, Self.width - right))
        canvas.line(left, y(scale.domainHigh), left, y(scale.domainLow), stroke: Palette.muted)
        canvas.text(
            "\(lane.name) (\(unit.suffix))", x: left + 4, y: top + 8, size: size + 1, weight: "600", fill: lane.colour)
        var previous: (Double, Double)?
        for (index, point) in points.enumerated() {
            guard index < lane.values.count, let raw = lane.values[index], raw.isFinite else { continue }
            let at = (x(index), y(unit.scaled(raw)))
            if point.isGood {
                if let previous { canvas.line(previous.0, previous.1, at.0, at.1, stroke: lane.colour, width: 1.5) }
                previous = at
            }
        }
        for (index, point) in points.enumerated() {
            guard index < lane.values.count, let raw = lane.values[index], raw.isFinite else { continue }
            let offScale =
                unit.scaled(raw) > scale.domainHigh || unit.scaled(raw) < scale.domainLow ? " (off the scale)" : ""
            let state = (point.isGood ? "" : point.header.failed ? " · failed" : " · partial") + offScale
            let tipText =
                "\(point.header.id) · \(formatDate(point.header.startedAt)) · \(lane.name) median \(unit.format(raw))\(state)"
            if !offScale.isEmpty {
                // A hollow arrow at the edge, pointing to where the value lies.
                let (px, edge) = (x(index), y(unit.scaled(raw)))
                let tip = unit.scaled(raw) > scale.domainHigh ? edge - 1 : edge + 1
                let base = unit.scaled(raw) > scale.domainHigh ? edge + 7 : edge - 7
                canvas.polygon(
                    [(px - 4.5, base), (px + 4.5, base), (px, tip)], fill: "#FFFFFF", stroke: lane.colour,
                    tooltip: tipText)
                continue
            }
            canvas.circle(
                x: x(index), y: y(unit.scaled(raw)), radius: 3.5, fill: point.isGood ? lane.colour : "#FFFFFF",
                stroke: lane.colour,
                strokeWidth: 1.5, tooltip: tipText)
        }
    }
}
