import Compare
import Foundation
import History
import MVMCore

/// Draws "where do the new samples sit against the baseline's?": every raw
/// sample as a dot (jittered across its row so that ties stay visible), a
/// box for the quartiles and the median, whiskers to the 5th and 95th
/// percentiles, and the baseline's allowed band behind both rows.
///
/// The jitter is deterministic (a golden-ratio sequence): the same outcome
/// always renders to the same bytes, and reports diff cleanly.
struct DistributionChart {
    let trend: SeriesTrend
    let colour: String

    static let width = 560.0
    static let height = 300.0
    private let left = 96.0, right = 18.0, top = 16.0, bottom = 46.0
    private let labelSize = 11.0

    func render() -> String {
        let rows = [("baseline", trend.baselineSamples, Palette.muted), ("new run", trend.newSamples, colour)]
            .filter { !$0.1.isEmpty }
        var canvas = SVGCanvas(
            width: Self.width, height: Self.height,
            title: "\(trend.series.name): baseline samples against the new run's")
        guard !rows.isEmpty else {
            canvas.text("no samples", x: Self.width / 2, y: Self.height / 2, anchor: .middle, fill: Palette.muted)
            return canvas.render()
        }
        // As in the trend: the scale follows the samples and the baseline's
        // median; the band is cut at the frame where it is wider.
        var all = rows.flatMap(\.1).filter(\.isFinite)
        if let band = trend.band { all.append(band.median) }
        let unit = DisplayUnit.fitting(all, unit: trend.series.unit)
        let plotBottom = Self.height - bottom
        let x = LinearScale(
            covering: all.map(unit.scaled).min() ?? 0, all.map(unit.scaled).max() ?? 1,
            range: (left, Self.width - right), count: 6)
        let value = { (raw: Double) in x(unit.scaled(raw)) }
        let clipped = { (raw: Double) in min(max(value(raw), left), Self.width - right) }

        canvas.ticks(of: x, .horizontal, axis: plotBottom, grid: (top, plotBottom))
        canvas.line(left, plotBottom, Self.width - right, plotBottom, stroke: Palette.muted)
        let axisTitle = "\(trend.series.name) (\(unit.axisSuffix)), each dot one instance"
        canvas.text(
            axisTitle, x: (left + Self.width - right) / 2, y: Self.height - 8, anchor: .middle, size: labelSize + 1)
        if let band = trend.band {
            canvas.rect(
                x: clipped(band.low), y: top, width: clipped(band.high) - clipped(band.low), height: plotBottom - top,
                fill: Palette.band,
                opacity: 0.18, tooltip: "baseline \(unit.format(band.median)) with the noise floor")
            canvas.line(
                value(band.median), top, value(band.median), plotBottom, stroke: Palette.band, width: 1.5, dash: "6 3")
        }
        let rowHeight = (plotBottom - top) / Double(rows.count)
        for (position, row) in rows.enumerated() {
            let center = top + rowHeight * (Double(position) + 0.5)
            canvas.text(row.0, x: left - 10, y: center - 2, anchor: .end, size: labelSize + 1, weight: "bold")
            canvas.text(
                "n = \(row.1.count)", x: left - 10, y: center + 13, anchor: .end, size: labelSize, fill: Palette.muted)
            drawBox(&canvas, samples: row.1, center: center, height: min(rowHeight * 0.5, 44), value: value, unit: unit)
            let spread = min(rowHeight * 0.7, 70)
            for (index, sample) in row.1.enumerated() where sample.isFinite {
                let jitter = (Double(index) * 0.618_033_988_75).truncatingRemainder(dividingBy: 1) - 0.5
                canvas.circle(x: value(sample), y: center + jitter * spread, radius: 2.6, fill: row.2, opacity: 0.55)
            }
        }
        return canvas.render()
    }

    /// Box from the first to the third quartile, a thick median, thin
    /// whiskers to p5 and p95 (numpy's linear interpolation, as everywhere
    /// in mvm, through Compare's `percentile`).
    private func drawBox(
        _ canvas: inout SVGCanvas, samples: [Double], center: Double, height: Double, value: (Double) -> Double,
        unit: DisplayUnit
    ) {
        let sorted = samples.filter(\.isFinite).sorted()
        guard !sorted.isEmpty else { return }
        guard let p5 = percentile(sorted, 0.05), let q1 = percentile(sorted, 0.25),
            let median = percentile(sorted, 0.5),
            let q3 = percentile(sorted, 0.75), let p95 = percentile(sorted, 0.95)
        else { return }
        let tip =
            "median \(unit.format(median, places: 2)); quartiles \(unit.format(q1, places: 2))–\(unit.format(q3, places: 2)); "
            + "p5–p95 \(unit.format(p5, places: 2))–\(unit.format(p95, places: 2))"
        canvas.line(value(p5), center, value(q1), center, stroke: Palette.ink, width: 1.2)
        canvas.line(value(q3), center, value(p95), center, stroke: Palette.ink, width: 1.2)
        for end in [p5, p95] {
            canvas.line(
                value(end), center - height / 4, value(end), center + height / 4, stroke: Palette.ink, width: 1.2)
        }
        canvas.rect(
            x: value(q1), y: center - height / 2, width: max(value(q3) - value(q1), 1), height: height, fill: "#FFFFFF",
            opacity: 0.6,
            stroke: Palette.ink, tooltip: tip)
        canvas.line(
            value(median), center - height / 2, value(median), center + height / 2, stroke: Palette.ink, width: 3,
            tooltip: tip)
    }
}
