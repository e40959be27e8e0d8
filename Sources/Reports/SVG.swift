import MVMCore

/// Text made safe for HTML and XML, in element content and in quoted
/// attribute values alike: a label comes from the command line, a stack
/// fact from a tool's output, and neither may end an element, open a tag or
/// leave a CDATA section ("]]>" loses its ">"). Characters XML forbids
/// (control characters other than tab and newline) become U+FFFD, so that a
/// stray byte cannot make the SVG invalid.
func escapeXML(_ text: String) -> String {
    var result = ""
    result.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": result += "&amp;"
        case "<": result += "&lt;"
        case ">": result += "&gt;"
        case "\"": result += "&quot;"
        case "'": result += "&#39;"
        case "\t", "\n": result.unicodeScalars.append(scalar)
        case "\r": result += " "
        default:
            let value = scalar.value
            let forbidden = value < 0x20 || (0x7F...0x9F).contains(value) || value == 0xFFFE || value == 0xFFFF
            if forbidden { result += "\u{FFFD}" } else { result.unicodeScalars.append(scalar) }
        }
    }
    return result
}

/// `text` cut to `limit` characters with an ellipsis, so that a long stack
/// change ("image vm 3f2a… → 9c1d…") keeps its chart label on one short line;
/// the full text goes into a tooltip.
func truncated(_ text: String, to limit: Int) -> String {
    guard text.count > limit, limit > 1 else { return text }
    return String(text.prefix(limit - 1)) + "…"
}

/// A rough width of `text` at `size` px in a sans-serif font, enough to keep
/// labels apart without measuring glyphs (no font metrics in a pure module).
func estimatedTextWidth(_ text: String, size: Double) -> Double {
    Double(text.count) * size * 0.56
}

/// An SVG document built element by element. Every text and attribute value
/// passes through `escapeXML`; coordinates are written with one decimal so
/// that the same data always gives the same bytes.
struct SVGCanvas {
    enum Anchor: String {
        case start, middle, end
    }

    let width: Double
    let height: Double
    /// Read by screen readers, and the chart's accessible name.
    let title: String
    private var elements: [String] = []

    init(width: Double, height: Double, title: String) {
        self.width = width
        self.height = height
        self.title = title
    }

    static func number(_ value: Double) -> String {
        value.isFinite ? formatDecimal(value, places: 1) : "0"
    }

    private static func attributes(_ pairs: [(String, String?)]) -> String {
        pairs.compactMap { name, value in value.map { " \(name)=\"\(escapeXML($0))\"" } }.joined()
    }

    private static func tooltip(_ text: String?) -> String {
        text.map { "<title>\(escapeXML($0))</title>" } ?? ""
    }

    mutating func line(
        _ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String, width: Double = 1, dash: String? = nil,
        tooltip: String? = nil
    ) {
        let n = Self.number
        let attributes = Self.attributes([
            ("x1", n(x1)), ("y1", n(y1)), ("x2", n(x2)), ("y2", n(y2)), ("stroke", stroke), ("stroke-width", n(width)),
            ("stroke-dasharray", dash),
        ])
        elements.append(tooltip == nil ? "<line\(attributes)/>" : "<line\(attributes)>\(Self.tooltip(tooltip))</line>")
    }

    mutating func rect(
        x: Double, y: Double, width: Double, height: Double, fill: String, opacity: Double? = nil,
        stroke: String? = nil,
        tooltip: String? = nil
    ) {
        let n = Self.number
        let attributes = Self.attributes([
            ("x", n(x)), ("y", n(y)), ("width", n(max(width, 0))), ("height", n(max(height, 0))), ("fill", fill),
            ("fill-opacity", opacity.map { formatDecimal($0, places: 2) }), ("stroke", stroke),
        ])
        elements.append("<rect\(attributes)>\(Self.tooltip(tooltip))</rect>")
    }

    mutating func circle(
        x: Double, y: Double, radius: Double, fill: String, stroke: String? = nil, strokeWidth: Double = 1,
        opacity: Double? = nil, tooltip: String? = nil
    ) {
        let n = Self.number
        let attributes = Self.attributes([
            ("cx", n(x)), ("cy", n(y)), ("r", n(radius)), ("fill", fill),
            ("fill-opacity", opacity.map { formatDecimal($0, places: 2) }),
            ("stroke", stroke), ("stroke-width", stroke == nil ? nil : n(strokeWidth)),
        ])
        elements.append("<circle\(attributes)>\(Self.tooltip(tooltip))</circle>")
    }

    /// A closed polygon through `points` (markers: triangles).
    mutating func polygon(_ points: [(Double, Double)], fill: String, stroke: String? = nil, tooltip: String? = nil) {
        let list = points.map { "\(Self.number($0.0)),\(Self.number($0.1))" }.joined(separator: " ")
        elements.append(
            "<polygon\(Self.attributes([("points", list), ("fill", fill), ("stroke", stroke)]))>\(Self.tooltip(tooltip))</polygon>"
        )
    }

    mutating func text(
        _ content: String, x: Double, y: Double, anchor: Anchor = .start, size: Double = 12, weight: String? = nil,
        fill: String = "#222", rotate: Bool = false, tooltip: String? = nil
    ) {
        let n = Self.number
        let attributes = Self.attributes([
            ("x", n(x)), ("y", n(y)), ("text-anchor", anchor.rawValue), ("font-size", n(size)), ("font-weight", weight),
            ("fill", fill), ("transform", rotate ? "rotate(-90 \(n(x)) \(n(y)))" : nil),
        ])
        elements.append("<text\(attributes)>\(Self.tooltip(tooltip))\(escapeXML(content))</text>")
    }

    /// The document: scales to its container's width (viewBox), keeps its
    /// proportions, and names itself for assistive technology.
    func render() -> String {
        let n = Self.number
        return "<svg viewBox=\"0 0 \(n(width)) \(n(height))\" role=\"img\" aria-label=\"\(escapeXML(title))\" "
            + "preserveAspectRatio=\"xMidYMid meet\"><title>\(escapeXML(title))</title>\n"
            + elements.joined(separator: "\n") + "\n</svg>"
    }
}
