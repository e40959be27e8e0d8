import Compare
import History
import MVMCore

/// Where a contender's start-up time goes: the time from one phase's median
/// to the next one's, in the order the phases happen.
struct PhaseBreakdown {
    struct Segment {
        var phase: String
        var start: Double
        var duration: Double
    }

    var contender: String
    var colour: String
    var segments: [Segment]
    /// The last phase's median (ready, when the contender has it).
    var total: Double

    /// Medians of different phases come from the same runs but are not
    /// additive (the median of a sum is not the sum of medians), so a later
    /// phase's median can sit a hair below an earlier one's: such a segment
    /// is drawn empty rather than negative.
    static func of(_ report: ComparisonReport) -> [PhaseBreakdown] {
        let phases = ComparisonSummary.metricOrder.filter { $0.unit == .seconds && $0 != .allReady }
        return report.summary.contenders.compactMap { contender in
            var segments: [Segment] = []
            var reached = 0.0
            for phase in phases {
                guard let median = contender.metric(phase)?.summary?.median, median.isFinite else { continue }
                let end = max(median, reached)
                segments.append(Segment(phase: phase.name, start: reached, duration: end - reached))
                reached = end
            }
            guard !segments.isEmpty else { return nil }
            return PhaseBreakdown(
                contender: contender.name, colour: Palette.colour(of: report.roles[contender.name]), segments: segments,
                total: reached)
        }
    }

    /// Every phase any contender went through, in the order they happen.
    static func phaseNames(_ breakdowns: [PhaseBreakdown]) -> [String] {
        ComparisonSummary.metricOrder.map(\.name).filter { name in
            breakdowns.contains { $0.segments.contains { $0.phase == name } }
        }
    }

    /// Spread over the whole ramp, so that four phases get four clearly
    /// different shades rather than the ramp's dark end.
    static func colour(ofPhase name: String, among names: [String]) -> String {
        let index = names.firstIndex(of: name) ?? 0
        let last = Palette.phases.count - 1
        guard names.count > 1 else { return Palette.phases[0] }
        let position = Int((Double(index) * Double(last) / Double(names.count - 1)).rounded())
        return Palette.phases[min(max(position, 0), last)]
    }
}

/// Draws one horizontal stacked bar per contender on a shared time axis
/// from zero (a duration is read against zero), with the total at the end
/// of each bar. Segment labels sit inside a segment only where they fit.
struct PhaseChart {
    let breakdowns: [PhaseBreakdown]

    static let width = 1100.0
    private let left = 120.0, right = 90.0, top = 12.0, bottom = 46.0, rowHeight = 40.0, barHeight = 24.0
    private let labelSize = 12.0

    func render() -> String {
        let height = top + rowHeight * Double(max(breakdowns.count, 1)) + bottom
        var canvas = SVGCanvas(
            width: Self.width, height: height, title: "Time from the request to each phase, per contender")
        let totals = breakdowns.map(\.total)
        let unit = DisplayUnit.fitting(totals, unit: .seconds)
        let x = LinearScale(
            covering: 0, unit.scaled(totals.max() ?? 0), range: (left, Self.width - right), count: 8, includeZero: true)
        let value = { (raw: Double) in x(unit.scaled(raw)) }
        let plotBottom = height - bottom
        canvas.ticks(of: x, .horizontal, axis: plotBottom, grid: (top, plotBottom))
        canvas.line(left, plotBottom, Self.width - right, plotBottom, stroke: Palette.muted)
        canvas.text(
            "time from the request (\(unit.suffix)), median of each phase", x: (left + Self.width - right) / 2,
            y: height - 8, anchor: .middle,
            size: labelSize)
        let names = PhaseBreakdown.phaseNames(breakdowns)
        for (row, breakdown) in breakdowns.enumerated() {
            let center = top + rowHeight * (Double(row) + 0.5)
            canvas.rect(x: 6, y: center - 7, width: 6, height: 14, fill: breakdown.colour)
            canvas.text(breakdown.contender, x: 18, y: center + 4, size: labelSize + 1, weight: "bold")
            for segment in breakdown.segments where segment.duration > 0 {
                let from = value(segment.start)
                let width = value(segment.start + segment.duration) - from
                let fill = PhaseBreakdown.colour(ofPhase: segment.phase, among: names)
                canvas.rect(
                    x: from, y: center - barHeight / 2, width: width, height: barHeight, fill: fill, stroke: "#8A8A8A",
                    tooltip: "\(breakdown.contender) \(segment.phase): +\(unit.format(segment.duration))")
                let label = unit.format(segment.duration, places: 0)
                if estimatedTextWidth(label, size: labelSize - 1) + 8 < width {
                    let dark = (Palette.phases.firstIndex(of: fill) ?? 0) < 2
                    canvas.text(
                        label, x: from + width / 2, y: center + 4, anchor: .middle, size: labelSize - 1,
                        fill: dark ? "#FFFFFF" : "#000000")
                }
            }
            canvas.text(
                unit.format(breakdown.total), x: value(breakdown.total) + 6, y: center + 4, size: labelSize,
                weight: "bold")
        }
        return canvas.render()
    }
}
