extension BootTrace {
    /// For people: how much of the time to ready the trace explains, its
    /// longest steps with their share of that time, and each layer's total.
    public func summary(steps: Int = 10) -> String {
        let longestGap = unexplainedGaps.first.map { $0.end - $0.start } ?? 0
        var lines = [
            "where the time went: \(formatDecimal(coverage * 100, places: 1)) % of the \(formatMilliseconds(.seconds(ready))) to ready is in named steps"
                + (longestGap > 0 ? " (longest gap without one: \(formatMilliseconds(.seconds(longestGap))))" : "")
        ]
        let top = topSteps(steps)
        let names = top.map { Self.label($0.span) }
        let nameWidth = min(72, names.map(\.count).max() ?? 0)
        let layerWidth = top.map(\.span.layer.rawValue.count).max() ?? 0
        for (step, name) in zip(top, names) {
            let shown = name.count > nameWidth ? String(name.prefix(nameWidth - 1)) + "…" : name
            lines.append(
                "  " + step.span.layer.rawValue.paddedRight(to: layerWidth) + "  " + shown.paddedRight(to: nameWidth)
                    + "  " + formatMilliseconds(.seconds(step.span.duration)).paddedLeft(to: 10) + "  "
                    + (formatDecimal(step.share * 100, places: 1) + " %").paddedLeft(to: 7))
        }
        let layers = secondsByLayer.sorted { $0.key < $1.key }
        lines.append(
            "  by layer: "
                + layers.map { "\($0.key.rawValue) \(formatMilliseconds(.seconds($0.value)))" }.joined(
                    separator: ", "))
        lines += notes.map { "  note: " + $0 }
        return lines.joined(separator: "\n")
    }

    /// A step's name with its detail: "Waiting for monitor to show up (libvirt's qemuProcessLaunch, 2 QMP commands)".
    static func label(_ span: TraceSpan) -> String {
        let name = span.layer == .kernel ? "\"\(span.name)\"" : span.name
        return span.detail.map { "\(name) (\($0))" } ?? name
    }
}

extension String {
    package func paddedLeft(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
