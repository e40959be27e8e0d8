import Compare
import Foundation
import MVMCore

/// The section "The isolation trade-off", or nothing when fewer than two
/// contenders have a time to ready, a PSS and a host syscall count: one
/// bubble says nothing about a trade-off.
func tradeOffSectionHTML(_ report: ComparisonReport) -> String {
    guard let chart = TradeOffChart(report) else { return "" }
    var legend = [
        "Bubble area is the median PSS; lower-left is cheaper, and fewer host system calls mean "
            + "a smaller host kernel surface."
    ]
    if chart.clampsSmallBubbles { legend.append("The smallest bubbles are drawn at a minimum size to stay visible.") }
    return "<section id=\"trade-off\">\n<h2>The isolation trade-off</h2>\n<figure class=\"wide\">\n"
        + chart.render() + "\n<p class=\"legend\">"
        + legend.map { "<span>\(escapeXML($0))</span>" }.joined() + "</p></figure>\n</section>\n"
}

/// "What does isolation cost me?" in one picture. The boot table and the
/// isolation table each answer half of it; only side by side do they show
/// which contender bought a smaller host kernel surface (fewer system calls
/// its host-side process may make) with time to ready or memory, and which
/// pays without buying it.
struct TradeOffChart {
    /// A contender with all three figures.
    struct Point: Equatable {
        var name: String
        /// Median seconds to ready.
        var ready: Double
        /// What the isolation dimension counted: the seccomp filter's allowed
        /// calls, or the host's whole table for a process without one.
        var syscalls: Int
        /// Median PSS in bytes.
        var pss: Double
        var colour: String
    }

    /// A bubble where it is drawn, with its label's box.
    struct Bubble {
        var point: Point
        var x: Double
        var y: Double
        var radius: Double
        var label: Box
    }

    /// A label's extent; `y` is the top, the baseline is 11 px lower.
    struct Box {
        var x: Double
        var y: Double
        var width: Double
        var height: Double

        func overlaps(_ other: Box) -> Bool {
            x < other.x + other.width && other.x < x + width && y < other.y + other.height && other.y < y + height
        }

        func overlaps(circleAt cx: Double, _ cy: Double, radius: Double) -> Bool {
            let dx = cx - min(max(cx, x), x + width)
            let dy = cy - min(max(cy, y), y + height)
            return dx * dx + dy * dy < radius * radius
        }
    }

    /// The key the isolation dimension writes for every side.
    static let syscallKey = "host.allowedSyscalls"
    static let width = 760.0
    static let height = 430.0
    static let labelSize = 12.0
    /// The largest PSS's radius; the others by area, down to `minimumRadius`,
    /// below which a 2 MiB container next to a 400 MiB VM would vanish.
    static let maximumRadius = 36.0
    static let minimumRadius = 4.5
    private let left = 76.0, right = 740.0, top = 14.0, bottom = 372.0

    let points: [Point]

    /// Nil unless at least two contenders have all three figures.
    init?(_ report: ComparisonReport) {
        let observations = report.dimensions?.isolation?.observations ?? [:]
        let points = report.contenders.compactMap { name -> Point? in
            let contender = report.summary.contender(name)
            guard let ready = contender?.metric(.ready)?.summary?.median, ready > 0, ready.isFinite,
                let pss = contender?.metric(.pss)?.summary?.median, pss > 0, pss.isFinite,
                let syscalls = observations[name]?[Self.syscallKey].flatMap({ Int($0) }), syscalls >= 0
            else { return nil }
            return Point(
                name: name, ready: ready, syscalls: syscalls, pss: pss, colour: Palette.colour(of: report.roles[name]))
        }
        guard points.count >= 2 else { return nil }
        self.points = points
    }

    var clampsSmallBubbles: Bool {
        let largest = points.map(\.pss).max() ?? 1
        return points.contains { Self.radius($0.pss, largest: largest) <= Self.minimumRadius }
    }

    /// Radius from area: a bubble twice the memory covers twice the ink.
    static func radius(_ pss: Double, largest: Double) -> Double {
        max(minimumRadius, maximumRadius * (pss / max(largest, 1)).squareRoot())
    }

    var xScale: LogScale {
        LogScale(covering: points.map(\.ready).min() ?? 0.1, points.map(\.ready).max() ?? 1, range: (left, right))
    }

    /// Zero at the bottom (no host system calls at all is the ideal), and
    /// headroom above the largest so that its bubble and label stay inside.
    var yScale: LinearScale {
        let high = Double(points.map(\.syscalls).max() ?? 1) * 1.1
        return LinearScale(covering: 0, high, range: (bottom, top), count: 5, includeZero: true)
    }

    /// Bubbles with labels placed left to right: above the bubble if that
    /// box is free of earlier labels and of every bubble, else below, right
    /// or left; above when nothing is free. Crude, but enough for a handful.
    func bubbles() -> [Bubble] {
        let (x, y) = (xScale, yScale)
        let largest = points.map(\.pss).max() ?? 1
        let circles = points.map { (x($0.ready), y(Double($0.syscalls)), Self.radius($0.pss, largest: largest)) }
        var placed: [Bubble] = []
        for (point, circle) in zip(points, circles).sorted(by: { $0.1.0 < $1.1.0 }) {
            let (cx, cy, r) = circle
            let width = estimatedTextWidth(Self.label(point), size: Self.labelSize) * 1.08
            let height = 14.0
            let candidates = [
                Box(x: cx - width / 2, y: cy - r - 4 - height, width: width, height: height),
                Box(x: cx - width / 2, y: cy + r + 4, width: width, height: height),
                Box(x: cx + r + 5, y: cy - height / 2, width: width, height: height),
                Box(x: cx - r - 5 - width, y: cy - height / 2, width: width, height: height),
                Box(x: cx - width / 2, y: cy - r - 6 - 2 * height, width: width, height: height),
                Box(x: cx - width / 2, y: cy + r + 6 + height, width: width, height: height),
            ]
            let inside = candidates.filter {
                $0.x >= left + 3 && $0.x + $0.width <= Self.width - 2 && $0.y >= 2 && $0.y + $0.height <= bottom - 2
            }
            let free = inside.first { box in
                !placed.contains { $0.label.overlaps(box) }
                    && !circles.contains { box.overlaps(circleAt: $0.0, $0.1, radius: $0.2 + 1) }
            }
            let label = free ?? inside.first ?? candidates[0]
            placed.append(Bubble(point: point, x: cx, y: cy, radius: r, label: label))
        }
        return placed
    }

    /// "gvisor · 30.6 MiB": the name and the figure the area stands for.
    static func label(_ point: Point) -> String {
        "\(point.name) · \(formatValue(point.pss, MetricUnit.bytes))"
    }

    func render() -> String {
        let (x, y) = (xScale, yScale)
        var svg = SVGCanvas(
            width: Self.width, height: Self.height,
            title: "Time to ready against host system calls allowed; bubble area is PSS")
        svg.ticks(of: y, .vertical, axis: left, grid: (left, right))
        for tick in x.ticks {
            svg.line(x(tick), top, x(tick), bottom, stroke: Palette.grid)
            svg.text(
                LogScale.label(tick), x: x(tick), y: bottom + 16, anchor: .middle, size: SVGCanvas.tickLabelSize,
                fill: Palette.muted)
        }
        svg.line(left, bottom, right, bottom, stroke: Palette.muted)
        svg.line(left, top, left, bottom, stroke: Palette.muted)
        svg.text("time to ready (log scale)", x: (left + right) / 2, y: bottom + 38, anchor: .middle, size: 12)
        svg.text(
            "host system calls its host-side process may make", x: 20, y: (top + bottom) / 2, anchor: .middle,
            size: 12, rotate: true)
        let bubbles = bubbles()
        // The largest first, so that a small bubble on a large one stays on top.
        for bubble in bubbles.sorted(by: { $0.radius > $1.radius }) {
            let point = bubble.point
            let tip =
                "\(point.name): ready \(formatValue(point.ready, MetricUnit.seconds)), "
                + "PSS \(formatValue(point.pss, MetricUnit.bytes)), \(point.syscalls) host system calls allowed"
            svg.circle(
                x: bubble.x, y: bubble.y, radius: bubble.radius, fill: point.colour, stroke: point.colour,
                strokeWidth: 1.5, opacity: 0.45, tooltip: tip)
        }
        for bubble in bubbles {
            svg.text(
                Self.label(bubble.point), x: bubble.label.x, y: bubble.label.y + 11, size: Self.labelSize,
                weight: "600", fill: bubble.point.colour)
        }
        return svg.render()
    }
}

/// Seconds to pixels on a log scale, with ticks at 1 and 3 times a power of
/// ten: times to ready span two decades (30 ms to 3 s), where a linear axis
/// would crowd every container into its first few pixels.
struct LogScale {
    let low: Double
    let high: Double
    let range: (Double, Double)
    let ticks: [Double]

    /// The domain runs from the tick below `lowValue / padding` to the tick
    /// above `highValue * padding`, so that no bubble sits on the frame.
    init(covering lowValue: Double, _ highValue: Double, range: (Double, Double), padding: Double = 1.5) {
        let candidates = (-4...4).flatMap { exponent in [1.0, 3.0].map { $0 * pow(10, Double(exponent)) } }
        let low = candidates.last { $0 <= lowValue / padding } ?? 1e-4
        let high = candidates.first { $0 >= highValue * padding } ?? 3e4
        self.low = low
        self.high = high
        self.range = range
        ticks = candidates.filter { $0 >= low && $0 <= high }
    }

    func callAsFunction(_ value: Double) -> Double {
        let span = log10(high) - log10(low)
        guard span > 0, value > 0 else { return range.0 }
        return range.0 + (log10(value) - log10(low)) / span * (range.1 - range.0)
    }

    /// "30 ms", "300 ms", "1 s", "3 s": round figures in the unit one reads.
    static func label(_ seconds: Double) -> String {
        if seconds < 1 {
            let milliseconds = seconds * 1000
            return formatDecimal(milliseconds, places: milliseconds < 1 ? 1 : 0) + "\u{A0}ms"
        }
        return formatDecimal(seconds, places: 0) + "\u{A0}s"
    }
}
