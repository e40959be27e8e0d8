import Foundation
import History
import MVMCore
import Testing

@testable import Reports

@Suite struct TraceReportTests {
    static var trace: BootTrace {
        var trace = BootTrace(ready: 0.9, notes: ["a note"])
        let parent = trace.add(TraceSpan(layer: .libvirt, name: "virDomainCreateXML", start: 0.01, end: 0.4))
        trace.add(
            TraceSpan(layer: .libvirt, name: "guest CPU", start: 0.1, end: 0.35, parent: parent, detail: "399 QMP"))
        trace.add(TraceSpan(layer: .kernel, name: "kernel boot", start: 0.4, end: 0.85))
        return trace
    }

    /// OTLP's JSON: hex ids of 16 and 8 bytes, parents inside the trace, a
    /// root per start, times in Unix nanoseconds as strings.
    @Test func otlpSpansNestUnderOneRootPerStart() throws {
        let requested = Date(timeIntervalSince1970: 1_796_497_300)
        let data = try renderOTLPTraces([
            TracedStart(contender: "vm", requestedAt: requested, trace: Self.trace),
            TracedStart(contender: "container", requestedAt: requested, trace: Self.trace),
        ])
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let resource = try #require((document["resourceSpans"] as? [[String: Any]])?.first)
        let spans = try #require(((resource["scopeSpans"] as? [[String: Any]])?.first?["spans"]) as? [[String: Any]])
        #expect(spans.count == 8)
        let ids = Set(spans.compactMap { $0["spanId"] as? String })
        #expect(ids.count == 8 && ids.allSatisfy { $0.count == 16 })
        #expect(Set(spans.compactMap { $0["traceId"] as? String }).count == 2)
        let roots = spans.filter { $0["parentSpanId"] == nil }
        #expect(roots.count == 2)
        #expect(spans.allSatisfy { ($0["parentSpanId"] as? String).map(ids.contains) ?? true })
        let child = try #require(spans.first { $0["name"] as? String == "guest CPU" })
        #expect(child["startTimeUnixNano"] as? String == "1796497300100000000")
        let parentID = try #require(spans.first { $0["name"] as? String == "virDomainCreateXML" }?["spanId"] as? String)
        #expect(child["parentSpanId"] as? String == parentID)
    }

    @Test func waterfallHasARowPerTopLevelStepAndTooltipsForTheFinerOnes() {
        let svg = TraceWaterfall(traces: [("vm", Self.trace)]).render()
        #expect(svg.contains("libvirt: virDomainCreateXML"))
        #expect(svg.contains("kernel: kernel boot"))
        #expect(svg.contains("<title>guest CPU (399 QMP): 250"))
        #expect(svg.contains("ready 900"))
    }
}

@Suite struct TraceDifferenceReportTests {
    /// A regressed night: the verdict table and the HTML report name the
    /// layer and the step the time moved to.
    @Test func aFiredVerdictIsTracedToAStepInBothReports() {
        var outcome = SyntheticOutcome().make()
        outcome.traceDifferences = [
            TracedDifference(
                contender: "vm", baselineRunID: "run-7",
                difference: TraceDifference(baseline: TraceReportTests.trace, current: Self.slowerReadback))
        ]
        let table = outcome.verdictTable()
        #expect(
            table.contains(
                "where the time moved: vm: against run run-7's trace, the libvirt layer moved most (250 → 410 ms)"))
        #expect(table.contains("libvirt guest CPU 250 → 410 ms"))
        let html = renderHTMLReport(outcome)
        #expect(html.contains("<h2>Where the time moved</h2>"))
        #expect(html.contains("<td>libvirt</td><td>guest CPU</td>"))
    }

    static var slowerReadback: BootTrace {
        var trace = BootTrace(ready: 1.06)
        let parent = trace.add(TraceSpan(layer: .libvirt, name: "virDomainCreateXML", start: 0.01, end: 0.56))
        trace.add(TraceSpan(layer: .libvirt, name: "guest CPU", start: 0.1, end: 0.51, parent: parent))
        trace.add(TraceSpan(layer: .kernel, name: "kernel boot", start: 0.56, end: 1.01))
        return trace
    }
}
