import Foundation
import MVMCore

/// Which way an axis's values run, and so which way its grid lines cross
/// the plot and where its tick labels stand.
enum AxisDirection {
    /// Values along x: vertical grid lines, labels centred under the axis.
    case horizontal
    /// Values along y: horizontal grid lines, labels right-aligned left of the axis.
    case vertical
}

extension SVGCanvas {
    /// Tick labels are one size on every chart, and grey so that the data
    /// stays in front.
    static let tickLabelSize = 11.0

    /// A grid line and a label at each of `scale`'s ticks. `axis` is where
    /// the labels hang from: the y of a horizontal axis (labels below it),
    /// the x of a vertical one (labels to its left). `grid` is the span the
    /// grid lines cover across the plot. Labels are plain numbers with the
    /// decimals the step needs, unless `label` writes them.
    mutating func ticks(
        of scale: LinearScale, _ direction: AxisDirection, axis: Double, grid: (from: Double, to: Double),
        label: ((Double) -> String)? = nil
    ) {
        for tick in scale.ticks {
            let text = label?(tick) ?? formatDecimal(tick, places: scale.tickDecimals)
            let at = scale(tick)
            switch direction {
            case .horizontal:
                line(at, grid.from, at, grid.to, stroke: Palette.grid)
                self.text(text, x: at, y: axis + 16, anchor: .middle, size: Self.tickLabelSize, fill: Palette.muted)
            case .vertical:
                line(grid.from, at, grid.to, at, stroke: Palette.grid)
                // +4 puts the middle of an 11 px figure on the grid line.
                self.text(text, x: axis - 6, y: at + 4, anchor: .end, size: Self.tickLabelSize, fill: Palette.muted)
            }
        }
    }
}

extension SVGCanvas {
    /// The x axis of runs that stand in equal slots between `left` and
    /// `right`, oldest first: their start dates under the axis at `y`,
    /// thinned so that labels stay apart, the newest always labelled (in
    /// bold, and as `newestLabel` when given: "new" for the run judged).
    /// Several runs a day (a CI job, a test) tell apart only by the time, a
    /// wider label that needs more room.
    mutating func runAxis(starts: [Date], y: Double, left: Double, right: Double, newestLabel: String? = nil) {
        line(left, y, right, y, stroke: Palette.muted)
        guard !starts.isEmpty else { return }
        let slot = (right - left) / Double(starts.count)
        let sameDay = Set(starts.map(formatShortDate)).count < starts.count
        let label = sameDay ? formatShortTime : formatShortDate
        let stride = max(1, Int(((sameDay ? 76 : 44) / slot).rounded(.up)))
        let last = starts.count - 1
        for index in starts.indices where index == last || (index % stride == 0 && last - index >= stride) {
            let x = left + (Double(index) + 0.5) * slot
            let isNewest = index == last
            line(x, y, x, y + 4, stroke: Palette.muted)
            text(
                isNewest ? newestLabel ?? label(starts[index]) : label(starts[index]), x: x, y: y + 16, anchor: .middle,
                size: Self.tickLabelSize, weight: isNewest ? "bold" : nil, fill: Palette.muted)
        }
        let title = sameDay ? "run start (UTC), oldest → newest" : "run start date (UTC), oldest → newest"
        text(title, x: (left + right) / 2, y: y + 34, anchor: .middle, size: 12)
    }
}
