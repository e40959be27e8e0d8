import Compare
import Foundation
import History
import MVMTesting
import Testing

@testable import Reports

/// The fleet page drawn from HistoryTests' synthetic fleet.
@Suite struct FleetHTMLTests {
    typealias X = FleetFixtures

    @Test func chartsListHostsInRankOrder() async throws {
        let html = renderFleetHTML(try await X.report())
        let charts = chartDocuments(in: html)
        let readyChart = try #require(charts.first { $0.contains("ranked by micro-VM time to ready") })
        let ratioChart = try #require(charts.first { $0.contains("ranked by vm/container ready ratio") })
        #expect(Self.order(of: ["1. bravo", "3. alpha", "4. &lt;img"], in: readyChart))
        #expect(Self.order(of: ["1. &lt;img", "2. alpha", "3. bravo"], in: ratioChart))
    }

    @Test func showsEveryHostItsStackAndItsChanges() async throws {
        let html = renderFleetHTML(try await X.report())
        for host in [X.alpha, X.bravo, X.evil] { #expect(html.contains(host.key)) }
        #expect(html.contains("<b>alpha</b>") && html.contains("<b>bravo</b>"))
        #expect(html.contains("AMD EPYC 7763") && html.contains("64\u{A0}GiB"))
        #expect(html.contains("<p class=\"status\">3 hosts · 4 host and plan rows</p>"))
        #expect(html.contains("qemu 7.2.0 → 8.0.0"))
        #expect(html.contains(">8.0.0</td>") && html.contains(">runc 1.1.5+ds1</td>"))
        #expect(html.contains("20 runs") && html.contains("8 runs"))
        #expect(html.contains("newest run partial: 2026-01-13 00:00 UTC"))
    }

    /// The runtime column names the runtime and its version, whole.
    @Test func runtimesReadAsNameAndVersion() {
        #expect(FleetPage.runtimeName("runc version 1.1.5+ds1") == "runc 1.1.5+ds1")
        #expect(FleetPage.runtimeName("crun version 1.8.1") == "crun 1.8.1")
        #expect(FleetPage.runtimeName("youki 0.3.3") == "youki 0.3.3")
    }

    @Test func loadsNothingRunsNoScriptAndEscapesHostileNames() async throws {
        let html = renderFleetHTML(try await X.report())
        let lower = html.lowercased()
        for banned in [
            "<script", "http://", "https://", "<link", "url(", "@import", "<img", "]]>", "src=\"", "test cpu</td>",
        ] {
            #expect(!lower.contains(banned), "\(banned)")
        }
        #expect(html.contains("&lt;img src=x onerror=alert(1)&gt;]]&gt;&amp;&quot;&#39;"))
        #expect(html.contains("Test CPU&lt;/td&gt;"))
    }

    @Test func everyChartIsWellFormedXML() async throws {
        let charts = chartDocuments(in: renderFleetHTML(try await X.report()))
        #expect(charts.count == 6)
        expectWellFormedXML(charts)
    }

    @Test func anEmptyStoreStillRenders() {
        let html = renderFleetHTML(FleetReport(groups: []))
        #expect(html.contains("0 hosts") && html.contains("No runs recorded."))
        #expect(html.range(of: #"\b-?(inf|nan)\b"#, options: [.regularExpression, .caseInsensitive]) == nil)
    }

    /// A run that measured no container (or nothing at all) leaves gaps, not a crash.
    @Test func aLaneWithoutValuesStillRenders() async throws {
        let group = try #require(try await X.report().groups.first)
        let lanes = [
            FleetTrendChart.Lane(
                name: "container ready", colour: Palette.colour(of: .container), unit: .seconds,
                values: group.points.map { _ in nil })
        ]
        let svg = FleetTrendChart(title: "gaps", points: group.points, lanes: lanes, changes: group.stackChanges)
            .render()
        #expect(svg.contains("container ready") && !svg.contains("<circle"))
    }

    /// Writes the synthetic fleet report where MVM_FLEET_PREVIEW says, to
    /// look at it in a browser; does nothing otherwise.
    @Test func writesAPreviewWhenAsked() async throws {
        guard let path = ProcessInfo.processInfo.environment["MVM_FLEET_PREVIEW"], !path.isEmpty else { return }
        try renderFleetHTML(try await X.report()).write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Whether `needles` occur in `text` in this order.
    static func order(of needles: [String], in text: String) -> Bool {
        var rest = text[...]
        for needle in needles {
            guard let range = rest.range(of: needle) else { return false }
            rest = rest[range.upperBound...]
        }
        return true
    }
}
