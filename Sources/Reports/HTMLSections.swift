import Compare
import Foundation
import History
import MVMCore

extension ReportPage {
    // MARK: Series charts

    /// Charts for what needs a look (any decision but ok and warming) and
    /// for the figures everyone asks about (each contender's ready and pss,
    /// and the ratios); the rest folded into a `<details>`, which opens
    /// without JavaScript.
    func seriesSection() -> String {
        let trends = Dictionary(outcome.trends.map { ($0.series, $0) }, uniquingKeysWith: { first, _ in first })
        let pairs = sortedVerdicts.compactMap { verdict in trends[verdict.series].map { (verdict, $0) } }
        guard !pairs.isEmpty else { return "" }
        let featured = pairs.filter { Self.isFeatured($0.0) }
        let others = pairs.filter { !Self.isFeatured($0.0) }
        var html = "<h2>Series</h2>\n"
        html += featured.map { seriesBlock($0.0, $0.1) }.joined()
        if !others.isEmpty {
            html +=
                "<details>\n<summary>\(others.count) more series, all ok or warming: "
                + escapeXML(others.map(\.0.series.name).joined(separator: ", ")) + "</summary>\n"
                + others.map { seriesBlock($0.0, $0.1) }.joined() + "</details>\n"
        }
        return html
    }

    static func isFeatured(_ verdict: SeriesVerdict) -> Bool {
        if verdict.decision != .ok && verdict.decision != .warming { return true }
        return verdict.series.subject.contains("/") || verdict.series.metric == Metric.ready.name
            || verdict.series.metric == Metric.pss.name
    }

    private func seriesBlock(_ verdict: SeriesVerdict, _ trend: SeriesTrend) -> String {
        let unit = verdict.series.unit
        var summary = formatValue(verdict.newMedian, unit)
        if let baseline = verdict.baselineMedian {
            summary = "\(formatValue(baseline, unit)) → \(summary) (\(formatChange(verdict.relativeChange)))"
        }
        let colour = outcome.colour(of: verdict.series)
        let name = escapeXML(verdict.series.name)
        let trendChart = TrendChart(trend: trend, decision: verdict.decision, colour: colour).render()
        let distribution = DistributionChart(trend: trend, colour: colour).render()
        let trendLegend = Self.trendLegend(trend, colour: colour)
        var distributionLegend: [String] = []
        if !trend.baselineSamples.isEmpty {
            distributionLegend.append(
                "<span><span class=\"key dot\" style=\"background:#666\"></span>baseline runs' samples</span>")
        }
        distributionLegend += [
            "<span><span class=\"key dot\" style=\"background:\(colour)\"></span>new run's samples</span>",
            "<span>box: quartiles, bar: median, whiskers: p5–p95</span>",
        ]
        if trend.band != nil {
            distributionLegend.append("<span><span class=\"key band\"></span>baseline level ± noise floor</span>")
        }
        return """
            <section class="series">
            <h3>\(name) \(Self.badge(verdict.decision))<span class="series-summary">\(escapeXML(summary))</span></h3>
            <div class="chart-row">
            <figure><figcaption>Did \(name) move? Run medians, oldest to newest</figcaption>
            \(trendChart)
            <p class="legend">\(trendLegend.joined())</p></figure>
            <figure><figcaption>Where do the new run's samples fall against the baseline's?</figcaption>
            \(distribution)
            <p class="legend">\(distributionLegend.joined())</p></figure>
            </div>
            </section>

            """
    }

    /// A key for what this chart shows and nothing else: a first night has
    /// no band, most series have no change point.
    private static func trendLegend(_ trend: SeriesTrend, colour: String) -> [String] {
        let points = trend.points
        var legend: [String] = []
        if points.contains(where: \.inBaseline) {
            legend.append(
                "<span><span class=\"key dot\" style=\"background:\(colour)\"></span>baseline run: median, 95 % CI</span>"
            )
        }
        if points.contains(where: { $0.good && !$0.inBaseline && !$0.isNew }) {
            legend.append(
                "<span><span class=\"key dot\" style=\"background:\(colour);opacity:.45\"></span>other run</span>")
        }
        if points.contains(where: { !$0.good }) {
            legend.append(
                "<span><span class=\"key dot\" style=\"border:2px solid \(colour)\"></span>partial or failed run</span>"
            )
        }
        legend.append(
            "<span><span class=\"key ring\" style=\"background:radial-gradient(circle, \(colour) 0 40%, #fff 45%)\"></span>new run, 95 % CI</span>"
        )
        if trend.band != nil {
            legend.append("<span><span class=\"key band\"></span>baseline level ± noise floor</span>")
        }
        if !trend.stackChanges.isEmpty { legend.append("<span><span class=\"key dash\"></span>stack change</span>") }
        if !trend.changePointRunIDs.isEmpty {
            legend.append("<span><span class=\"key tri\"></span>change point</span>")
        }
        return legend
    }

    // MARK: Phases

    func phasesSection() -> String {
        let breakdowns = PhaseBreakdown.of(outcome.comparison)
        guard !breakdowns.isEmpty else { return "" }
        let names = PhaseBreakdown.phaseNames(breakdowns)
        let legend = names.map { name in
            "<span><span class=\"key\" style=\"background:\(PhaseBreakdown.colour(ofPhase: name, among: names))\"></span>"
                + "\(escapeXML(name))</span>"
        }
        let unit = DisplayUnit.fitting(breakdowns.map(\.total), unit: .seconds)
        var table =
            "<div class=\"scroll\"><table>\n<thead><tr><th>contender</th>"
            + names.map { "<th class=\"num\">→ \(escapeXML($0))</th>" }.joined()
            + "<th class=\"num\">total</th></tr></thead>\n<tbody>\n"
        for breakdown in breakdowns {
            table += "<tr><td><b>\(escapeXML(breakdown.contender))</b></td>"
            for name in names {
                let segment = breakdown.segments.first { $0.phase == name }
                table += "<td class=\"num\">\(segment.map { "+" + unit.format($0.duration) } ?? "–")</td>"
            }
            table += "<td class=\"num\"><b>\(unit.format(breakdown.total))</b></td></tr>\n"
        }
        table += "</tbody></table></div>\n"
        return
            "<h2>Where the start-up time goes</h2>\n<figure class=\"wide\"><figcaption>Time from the request to each phase "
            + "(each segment: from the previous phase's median to this one's)</figcaption>\n"
            + PhaseChart(breakdowns: breakdowns).render() + "\n<p class=\"legend\">\(legend.joined())</p></figure>\n"
            + table
    }

    // MARK: The comparison itself

    func comparisonSection() -> String {
        let comparison = outcome.comparison
        var html = comparison.includesBoot ? "<h2>This run's comparison</h2>\n" + bootComparisonHTML(comparison) : ""
        html += dimensionSectionsHTML(comparison)
        return html
    }

    // MARK: Stack, host, conditions

    func environmentSection() -> String {
        let stack = outcome.run.stack
        let environment = outcome.comparison.environment
        var stackRows: [(String, String)] = [("kernel", stack.hostKernel)]
        stackRows += stack.versions.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        stackRows += stack.images.sorted { $0.key < $1.key }.map { ("image \($0.key)", $0.value) }
        stackRows += [
            ("domain XML", stack.domainXML), ("mvm", stack.mvmVersion), ("commit", stack.gitCommit),
            ("accelerator", "\(environment.accelerator) (\(environment.acceleratorReason))"),
        ]
        let host = outcome.host
        let hostRows: [(String, String)] = [
            ("hostname", host.hostname), ("CPU", host.cpuModel), ("cores", "\(host.cores)"),
            ("memory", "\(host.memoryGiB) GiB"),
            ("host key", outcome.run.hostKey), ("plan key", outcome.run.planKey),
        ]
        let conditions = outcome.conditions
        var conditionRows: [(String, String)] = [
            ("quiet", conditions.isQuiet(cores: host.cores) && !outcome.run.underLoad ? "yes" : "no"),
            ("load at start", formatDecimal(conditions.loadAverageAtStart, places: 2)),
            ("load at end", formatDecimal(conditions.loadAverageAtEnd, places: 2)),
            ("steal", formatDecimal(conditions.stealFraction * 100, places: 1) + " %"),
        ]
        if let mhz = conditions.cpuMHz { conditionRows.append(("CPU MHz", formatDecimal(mhz, places: 0))) }
        if let bogomips = conditions.bogomips { conditionRows.append(("bogomips", formatDecimal(bogomips, places: 0))) }
        conditionRows.append(
            ("other processes", conditions.intruders.isEmpty ? "none" : conditions.intruders.joined(separator: ", ")))
        return "<h2>Stack, host and conditions</h2>\n<div class=\"columns\">\n"
            + factTable("Stack", stackRows, monospaced: true) + factTable("Host", hostRows, monospaced: false)
            + factTable("Conditions", conditionRows, monospaced: false) + "</div>\n"
    }

    private func factTable(_ title: String, _ rows: [(String, String)], monospaced: Bool) -> String {
        let body = rows.map { name, value in
            let cell =
                monospaced ? "<code style=\"overflow-wrap:anywhere\">\(escapeXML(value))</code>" : escapeXML(value)
            return "<tr><th scope=\"row\">\(escapeXML(name))</th><td>\(cell)</td></tr>"
        }
        return "<div><h3>\(escapeXML(title))</h3>\n<table>\n\(body.joined(separator: "\n"))\n</table></div>\n"
    }
}
