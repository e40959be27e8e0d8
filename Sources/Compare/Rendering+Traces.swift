import MVMCore

extension ComparisonRendering {
    /// One traced start per contender: what tracing cost it, and its
    /// longest steps.
    func traceLines(_ traces: [String: ContenderTrace]) -> [String] {
        var lines = ["== where the time goes (one traced start per contender, not a sample) =="]
        for name in report.contenders {
            guard let traced = traces[name] else { continue }
            guard let trace = traced.trace else {
                lines.append("\(name): the traced start failed: \(traced.failure ?? "no trace")")
                continue
            }
            var heading = "\(name): traced start ready in \(formatMilliseconds(.seconds(trace.ready)))"
            if let cost = traced.tracingCost, let median = traced.untracedReadyMedian, median > 0 {
                heading +=
                    "; tracing cost \(cost < 0 ? "-" : "+")\(formatMilliseconds(.seconds(abs(cost)))) (\(formatDecimal(cost / median * 100, places: 0)) %) against the untraced median"
            }
            lines.append(heading)
            lines += trace.summary(steps: 5).split(separator: "\n").map { "  " + $0 }
        }
        return lines
    }
}
