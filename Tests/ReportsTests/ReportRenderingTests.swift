import Compare
import Foundation
import Testing

@testable import History
@testable import Reports

@Suite struct HTMLReportTests {
    static let outcome = SyntheticOutcome().make()

    @Test func loadsNothingAndRunsNoScript() {
        let html = renderHTMLReport(Self.outcome).lowercased()
        #expect(!html.contains("<script"))
        #expect(!html.contains("http://"))
        #expect(!html.contains("https://"))
        #expect(!html.contains("<link"))
        #expect(!html.contains("url("))
        #expect(!html.contains("@import"))
        #expect(html.contains("<svg"))
    }

    @Test func leadsWithTheAnswerAndListsRegressionsFirst() throws {
        let html = renderHTMLReport(Self.outcome)
        #expect(html.contains("<p class=\"status\">1 regression</p>"))
        #expect(html.contains("ci-runner-02"))
        #expect(html.contains(Self.outcome.run.id))
        #expect(html.contains("qemu 7.2.0 → 8.0.0"))
        let rows = html.components(separatedBy: "<tr class=\"").dropFirst()
        #expect(rows.count == Self.outcome.verdicts.count)
        let decisions = rows.compactMap { $0.split(separator: "\"").first.map(String.init) }
        #expect(Array(decisions.prefix(2)) == ["regression", "changed"])
        #expect(decisions.dropFirst(2).allSatisfy { $0 == "ok" })
        for verdict in Self.outcome.verdicts {
            #expect(html.contains("<td><b>\(verdict.series.name)</b></td>"))
        }
        // The contender's own series leads; the ratio that follows from it comes next.
        let firstRow = try #require(rows.first)
        #expect(firstRow.contains("<b>vm ready</b>") && firstRow.contains("+29."))
    }

    @Test func saysNoRegressionWhenNothingMoved() {
        let html = renderHTMLReport(SyntheticOutcome(readyRegression: 1).make())
        #expect(html.contains("<p class=\"status\">No regression</p>"))
        #expect(html.contains("class=\"headline good\""))
    }

    @Test func warnsOfAFailedPartialRunOnABusyHost() {
        var outcome = Self.outcome
        outcome.failures = ["vm: 3 of 10 boots timed out"]
        outcome.run.partial = true
        outcome.conditions.loadAverageAtStart = 3.1
        outcome.conditions.stealFraction = 0.07
        let html = renderHTMLReport(outcome)
        #expect(html.contains("Job failed · 1 regression"))
        #expect(html.contains("vm: 3 of 10 boots timed out"))
        #expect(html.contains("Partial run"))
        #expect(html.contains("Host not quiet"))
    }

    @Test func escapesHostileNames() {
        let hostile = SyntheticOutcome(
            vm: "vm<script>alert(\"x\")</script>", container: "c']]>&amp;", hostname: "<img src=x onerror=alert(1)>",
            label: "]]><!-- \"quoted\" & 'single'", caveat: "</style><b>bold</b>"
        ).make()
        let html = renderHTMLReport(hostile)
        #expect(!html.contains("<script"))
        #expect(!html.contains("<img"))
        #expect(!html.contains("]]>"))
        #expect(!html.contains("<!--"))
        #expect(!html.contains("<b>bold</b>"))
        #expect(html.components(separatedBy: "</style>").count == 2)
        #expect(html.contains("vm&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"))
        #expect(html.contains("c&#39;]]&gt;&amp;amp;"))
        #expect(html.contains("&lt;img src=x onerror=alert(1)&gt;"))
    }

    /// Each chart must be well-formed XML even with hostile names: a broken
    /// SVG blanks the chart in browsers that parse it strictly.
    @Test func everyChartIsWellFormedXML() throws {
        let hostile = SyntheticOutcome(vm: "vm\"<&>']]>", label: "\u{1}bell").make()
        let html = renderHTMLReport(hostile)
        let charts = chartDocuments(in: html)
        #expect(charts.count >= 6)
        expectWellFormedXML(charts)
    }

    @Test func escapeXMLCoversEveryMarkupCharacter() {
        #expect(escapeXML("<a href=\"x\">&'</a>]]>") == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;]]&gt;")
        #expect(escapeXML("a\u{0}b\u{1B}c") == "a\u{FFFD}b\u{FFFD}c")
    }

    @Test func niceTicksCoverTheDataWithRoundSteps() {
        let scale = LinearScale(covering: 1163, 1612, range: (0, 100))
        #expect(scale.step == 100)
        #expect(scale.ticks.first == 1100 && scale.ticks.last == 1700)
        let small = LinearScale(covering: 0.113, 0.131, range: (0, 100))
        #expect(small.tickDecimals == 3)
        #expect(LinearScale(covering: 5, 5, range: (0, 100)).ticks.count >= 2)
    }

    /// Forty runs with a stack change every other run from the tenth: at
    /// most three rows of labels, every change still named in a tooltip.
    @Test func crowdedStackChangesStayReadable() throws {
        var trend = try #require(Self.outcome.trends.first)
        let start = Date(timeIntervalSince1970: 1_795_312_800)
        trend.points = (0..<40).map { index in
            TrendPoint(
                runID: "run-\(index)", startedAt: start.addingTimeInterval(Double(index) * 86_400), median: 1.2,
                low: 1.18, high: 1.22,
                isNew: index == 39, inBaseline: index >= 29, good: true)
        }
        trend.stackChanges = stride(from: 10, to: 40, by: 2).map {
            StackChangeMarker(runID: "run-\($0)", changes: ["qemu change number \($0)"])
        }
        let svg = TrendChart(trend: trend, decision: .ok, colour: Palette.colour(of: .microVM)).render()
        for index in stride(from: 10, to: 40, by: 2) {
            #expect(svg.contains("<title>qemu change number \(index)</title>"))
        }
        let labelled = svg.components(separatedBy: "font-size=\"11.0\" fill=\"#222222\">").count - 1
        #expect(labelled >= 3 && labelled < 15)
        expectWellFormedXML([svg])
    }

    /// A first night: no baseline, no band, one point. The page still renders
    /// and says the series is warming.
    @Test func rendersAWarmingSeriesWithoutABaseline() {
        var outcome = Self.outcome
        for index in outcome.verdicts.indices {
            outcome.verdicts[index].decision = .warming
            outcome.verdicts[index].baselineMedian = nil
            outcome.verdicts[index].relativeChange = nil
            outcome.verdicts[index].reason = "0 of 5 baseline runs"
            outcome.trends[index].points = outcome.trends[index].points.suffix(1)
            outcome.trends[index].band = nil
            outcome.trends[index].baselineSamples = []
            outcome.trends[index].stackChanges = []
        }
        outcome.exitStatus = 0
        let html = renderHTMLReport(outcome)
        #expect(html.contains("<p class=\"status\">No regression</p>"))
        #expect(html.contains("\(outcome.verdicts.count) warming"))
        #expect(html.contains("<svg"))
        #expect(html.range(of: #"\b-?(inf|nan)\b"#, options: [.regularExpression, .caseInsensitive]) == nil)
    }

    /// Writes the synthetic report (and its textfile) where
    /// MVM_REPORT_PREVIEW says, to look at it in a browser; does nothing
    /// otherwise.
    @Test func writesAPreviewWhenAsked() throws {
        guard let path = ProcessInfo.processInfo.environment["MVM_REPORT_PREVIEW"], !path.isEmpty else { return }
        try renderHTMLReport(Self.outcome).write(toFile: path, atomically: true, encoding: .utf8)
        try renderPrometheusTextfile(Self.outcome).write(toFile: path + ".prom", atomically: true, encoding: .utf8)
    }
}

@Suite struct PrometheusTextfileTests {
    @Test func followsTheExpositionGrammar() throws {
        let outcome = HTMLReportTests.outcome
        let samples = try ExpositionParser.parse(renderPrometheusTextfile(outcome))
        let names = Set(samples.map(\.name))
        #expect(
            names == [
                "mvm_boot_seconds", "mvm_footprint_bytes", "mvm_ratio", "mvm_regression", "mvm_verdict_change_ratio",
                "mvm_last_run_timestamp_seconds", "mvm_last_run_success", "mvm_unexplained_step", "mvm_verdict",
            ])
        #expect(samples.allSatisfy { $0.value.isFinite })
        #expect(
            samples.allSatisfy { $0.labels["host"] == "ci-runner-02" && $0.labels["host_key"] == outcome.run.hostKey })
        let regressions = samples.filter { $0.name == "mvm_regression" && $0.value == 1 }.map {
            $0.labels["subject"] ?? ""
        }
        // The ratio moved with the VM: changed, not a regression of its own.
        #expect(regressions.sorted() == ["vm"])
        let rules = samples.filter { $0.name == "mvm_verdict" }
        #expect(rules.count == outcome.verdicts.count)
        #expect(
            rules.contains {
                $0.labels["subject"] == "vm/container" && $0.labels["decision"] == "changed"
                    && $0.labels["rule"] == "night"
            })
        #expect(samples.filter { $0.name == "mvm_regression" }.count == outcome.verdicts.count)
        let ready = samples.first {
            $0.name == "mvm_boot_seconds"
                && $0.labels == [
                    "host": "ci-runner-02", "host_key": outcome.run.hostKey, "contender": "container", "phase": "ready",
                    "stat": "median",
                ]
        }
        #expect(ready.map { (0.1...0.14).contains($0.value) } == true)
        #expect(samples.first { $0.name == "mvm_last_run_success" }?.value == 1)
        #expect(
            samples.first { $0.name == "mvm_last_run_timestamp_seconds" }?.value
                == outcome.run.startedAt.timeIntervalSince1970)
        let stats = Set(samples.filter { $0.name == "mvm_footprint_bytes" }.compactMap { $0.labels["stat"] })
        #expect(stats == ["median", "p5", "p95", "ci_low", "ci_high"])
    }

    @Test func escapesLabelValues() throws {
        let hostname = "ci\"runner\\2\nrack 4"
        let outcome = SyntheticOutcome(vm: "v\\m", hostname: hostname).make()
        let text = renderPrometheusTextfile(outcome)
        #expect(text.contains("host=\"ci\\\"runner\\\\2\\nrack 4\""))
        let samples = try ExpositionParser.parse(text)
        #expect(samples.allSatisfy { $0.labels["host"] == hostname })
        #expect(samples.contains { $0.labels["contender"] == "v\\m" })
    }

    @Test func leavesOutWhatIsNotANumberAndReportsFailure() throws {
        var outcome = HTMLReportTests.outcome
        outcome.verdicts[0].relativeChange = .nan
        outcome.verdicts[1].relativeChange = nil
        outcome.run.partial = true
        let text = renderPrometheusTextfile(outcome)
        #expect(!text.contains(" NaN\n") && !text.contains("Inf\n") && !text.contains(" nan\n"))
        let samples = try ExpositionParser.parse(text)
        #expect(samples.filter { $0.name == "mvm_verdict_change_ratio" }.count == outcome.verdicts.count - 2)
        #expect(samples.first { $0.name == "mvm_last_run_success" }?.value == 0)
    }

    @Test func theParserRejectsWhatPrometheusRejects() {
        #expect(throws: ExpositionError.self) { try ExpositionParser.parse("a 1\n# TYPE a gauge\n") }
        #expect(throws: ExpositionError.self) { try ExpositionParser.parse("a{x=\"1\"} 1\nb 2\na{x=\"2\"} 3\n") }
        #expect(throws: ExpositionError.self) { try ExpositionParser.parse("a{x=\"1\"} 1\na{x=\"1\"} 2\n") }
        #expect(throws: ExpositionError.self) { try ExpositionParser.parse("a{x=\"\\t\"} 1\n") }
        #expect(throws: ExpositionError.self) { try ExpositionParser.parse("a 1") }
    }
}
