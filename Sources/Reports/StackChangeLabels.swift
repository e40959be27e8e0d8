/// The stack changes of a chart whose runs stand in equal slots, oldest
/// first: each change a dashed line on the first run of the new stack,
/// labelled above the plot with what changed. The trend and the fleet charts
/// both place their labels here, so that they read the same.
struct StackChangeLabels {
    struct Label {
        /// The first run of the new stack.
        var index: Int
        /// Empty when no row had room: the line and its tooltip remain.
        var text: String
        /// Every change, for the tooltip.
        var full: String
        /// 0 just above the plot, higher rows further up.
        var row: Int
        /// Written leftwards from the line, where it would leave the chart.
        var anchorEnd: Bool
    }

    /// Past three rows a change keeps its line and tooltip but no label, so
    /// that a busy week cannot push the plot off the chart.
    static let maximumRows = 3

    let labels: [Label]
    let left: Double
    let slot: Double
    let size: Double

    /// The height of one row of labels.
    var rowHeight: Double { size + 3 }

    /// The rows that carry a label: 0 when none does.
    var rowsUsed: Int {
        labels.filter { !$0.text.isEmpty }.map(\.row).max().map { $0 + 1 } ?? 0
    }

    /// One label per change in `changes` (each the index of its first run and
    /// what changed), in the lowest row where it neither overlaps another
    /// label nor is crossed by another change's line (a line runs from its
    /// own row down to the plot), and where its own line crosses no label
    /// below it. `left` and `right` bound the plot; `slot` is one run's width.
    init(_ changes: [(index: Int, changes: [String])], left: Double, right: Double, slot: Double, size: Double) {
        self.left = left
        self.slot = slot
        self.size = size
        var placed: [(row: Int, from: Double, to: Double, line: Double)] = []
        var labels: [Label] = []
        for (index, changed) in changes {
            let full = changed.joined(separator: "; ")
            let more = changed.count > 1 ? " (+\(changed.count - 1))" : ""
            let text = truncated(changed.first ?? "", to: 30) + more
            let lineX = left + Double(index) * slot
            let width = estimatedTextWidth(text, size: size)
            let anchorEnd = lineX + 3 + width > right
            let (from, to) = anchorEnd ? (lineX - 3 - width, lineX) : (lineX, lineX + 3 + width)
            let conflicts = { (row: Int) in
                placed.contains { other in
                    (other.row == row && other.from < to + 6 && from < other.to + 6)
                        || (other.row >= row && from - 3 <= other.line && other.line <= to + 3)
                        || (other.row < row && other.from - 3 <= lineX && lineX <= other.to + 3)
                }
            }
            var row = 0
            while row < Self.maximumRows && conflicts(row) { row += 1 }
            guard row < Self.maximumRows else {
                labels.append(Label(index: index, text: "", full: full, row: 0, anchorEnd: false))
                continue
            }
            placed.append((row, from, to, lineX))
            labels.append(Label(index: index, text: text, full: full, row: row, anchorEnd: anchorEnd))
        }
        self.labels = labels
    }

    /// Each change's dashed line from beside its label down to `plotBottom`,
    /// and its label, row 0 just above `plotTop`: the line reaches up beside
    /// its own label, so each label reads as belonging to its line even when
    /// labels are stacked.
    func draw(on canvas: inout SVGCanvas, plotTop: Double, plotBottom: Double) {
        for label in labels {
            let lineX = left + Double(label.index) * slot
            let labelY = plotTop - 8 - Double(label.row) * rowHeight
            let lineTop = label.text.isEmpty ? plotTop - 4 : labelY - size + 2
            canvas.line(
                lineX, lineTop, lineX, plotBottom, stroke: Palette.muted, width: 1.2, dash: "4 3", tooltip: label.full)
            guard !label.text.isEmpty else { continue }
            canvas.text(
                label.text, x: label.anchorEnd ? lineX - 3 : lineX + 3, y: labelY,
                anchor: label.anchorEnd ? .end : .start, size: size,
                fill: Palette.ink, tooltip: label.full)
        }
    }
}
