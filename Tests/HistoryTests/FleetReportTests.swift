import Compare
import Foundation
import SQLiteHistory
import Testing

@testable import History

#if canImport(FoundationXML)
import FoundationXML
#endif

/// A synthetic fleet in a SQLite store: three hosts (one with a hostile
/// hostname), a stack change and a partial last run on one, and two plans
/// on another.
enum FleetFixtures {
    typealias F = VerdictFixtures

    static let hostile = "<img src=x onerror=alert(1)>]]>&\"'"
    static let alpha = HostIdentity(cpuModel: "AMD EPYC 7763", cores: 8, memoryGiB: 32, hostname: "alpha", machineID: "a1")
    static let bravo = HostIdentity(cpuModel: "Intel Xeon Gold 6338", cores: 16, memoryGiB: 64, hostname: "bravo", machineID: "b2")
    static let evil = HostIdentity(cpuModel: "Test CPU</td>", cores: 2, memoryGiB: 4, hostname: hostile, machineID: "c3")
    static let upgraded: StackFacts = {
        var stack = F.stack
        stack.versions["qemu"] = "8.0.0"
        return stack
    }()

    static func run(
        _ index: Int, host: HostIdentity, vmReady: Double, containerReady: Double, plan: PlanIdentity = F.plan,
        stack: StackFacts = F.stack, partial: Bool = false
    ) -> RecordedRun {
        var run = F.recorded(index, vmReady: vmReady, stack: stack, partial: partial)
        run.host = host
        run.plan = plan
        run.header.hostKey = host.key
        run.header.planKey = plan.key
        run.header.id += "-\(host.machineID)-\(plan.runs)"
        run.report = F.report(vmReady: vmReady, containerReady: containerReady, seed: UInt64(index + 7))
        return run
    }

    static var otherPlan: PlanIdentity {
        var plan = F.plan
        plan.runs = 20
        return plan
    }

    /// vm ready: bravo 0.8 s < alpha 1.2 s < evil 1.5 s; ratio: evil 5× < alpha 10× < bravo 16×.
    static func runs() -> [RecordedRun] {
        var runs: [RecordedRun] = []
        for index in 0..<12 {
            runs.append(run(index, host: alpha, vmReady: index < 6 ? 1.1 : 1.2, containerReady: 0.12, stack: index < 6 ? F.stack : upgraded))
            runs.append(run(index, host: bravo, vmReady: 0.8, containerReady: 0.05))
            runs.append(run(index, host: evil, vmReady: 1.5, containerReady: 0.3))
        }
        runs.append(run(12, host: alpha, vmReady: 3.0, containerReady: 0.12, stack: upgraded, partial: true))
        for index in 3..<6 { runs.append(run(index, host: bravo, vmReady: 0.9, containerReady: 0.06, plan: otherPlan)) }
        return runs
    }

    static func store() async throws -> (SQLiteHistoryStore, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mvm-fleet-\(UUID().uuidString)")
        let path = directory.appendingPathComponent("history.sqlite").path
        let store = try SQLiteHistoryStore(path: path)
        for run in runs() { try await store.record(run) }
        return (store, directory.path)
    }

    static func report() async throws -> FleetReport {
        let (store, directory) = try await store()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try await FleetReport.load(from: store)
    }
}

@Suite struct FleetReportTests {
    typealias X = FleetFixtures

    @Test func groupsEveryHostByPlanAndSkipsThePartialRunAsLatest() async throws {
        let report = try await X.report()
        #expect(report.hostCount == 3)
        #expect(report.groups.count == 4)
        let alpha = try #require(report.groups.first { $0.hostKey == X.alpha.key })
        #expect(alpha.points.count == 13)
        #expect(alpha.points.last?.isGood == false)
        #expect(alpha.latest?.header.startedAt == alpha.points[11].header.startedAt)
        #expect(alpha.stackChanges.map(\.changes) == [["qemu 7.2.0 → 8.0.0"]])
        #expect(report.groups.filter { $0.hostKey == X.bravo.key }.map(\.points.count).sorted() == [3, 12])
        let limited = try await {
            let (store, directory) = try await X.store()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            return try await FleetReport.load(from: store, runsPerHost: 5)
        }()
        #expect(limited.groups.first { $0.hostKey == X.alpha.key }?.points.count == 5)
    }

    @Test func ranksByReadyTimeAndByRatio() async throws {
        let report = try await X.report()
        let byReady = report.ranked(by: \.vmReady).map { $0.group.host.identity.hostname }
        #expect(byReady == ["bravo", "bravo", "alpha", X.hostile])
        let byRatio = report.ranked(by: \.readyRatio).map { $0.group.host.identity.hostname }
        #expect(byRatio == [X.hostile, "alpha", "bravo", "bravo"])
        // The charts list them in that order.
        let html = renderFleetHTML(report)
        let charts = Self.charts(html)
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
        #expect(html.contains(">8.0.0</td>") && html.contains(">runc 1.1.5</td>"))
        #expect(html.contains("20 runs") && html.contains("8 runs"))
        #expect(html.contains("newest run partial: 2026-01-13 00:00 UTC"))
    }

    @Test func loadsNothingRunsNoScriptAndEscapesHostileNames() async throws {
        let html = renderFleetHTML(try await X.report())
        let lower = html.lowercased()
        for banned in ["<script", "http://", "https://", "<link", "url(", "@import", "<img", "]]>", "src=\"", "test cpu</td>"] {
            #expect(!lower.contains(banned), "\(banned)")
        }
        #expect(html.contains("&lt;img src=x onerror=alert(1)&gt;]]&gt;&amp;&quot;&#39;"))
        #expect(html.contains("Test CPU&lt;/td&gt;"))
    }

    @Test func everyChartIsWellFormedXML() async throws {
        let charts = Self.charts(renderFleetHTML(try await X.report()))
        #expect(charts.count == 6)
        #if canImport(FoundationXML) || canImport(Darwin)
        for chart in charts {
            let parser = XMLParser(data: Data(chart.utf8))
            #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        }
        #endif
    }

    @Test func anEmptyStoreStillRenders() {
        let html = renderFleetHTML(FleetReport(groups: []))
        #expect(html.contains("0 hosts") && html.contains("No runs recorded."))
        #expect(html.range(of: #"\b-?(inf|nan)\b"#, options: [.regularExpression, .caseInsensitive]) == nil)
    }

    /// A run that measured no container (or nothing at all) leaves gaps, not a crash.
    @Test func aLaneWithoutValuesStillRenders() async throws {
        let group = try #require(try await X.report().groups.first)
        let lanes = [FleetTrendChart.Lane(name: "container ready", colour: Palette.orange, unit: .seconds, values: group.points.map { _ in nil })]
        let svg = FleetTrendChart(title: "gaps", points: group.points, lanes: lanes, changes: group.stackChanges).render()
        #expect(svg.contains("container ready") && !svg.contains("<circle"))
    }

    /// Writes the synthetic fleet report where MVM_FLEET_PREVIEW says, to
    /// look at it in a browser; does nothing otherwise.
    @Test func writesAPreviewWhenAsked() async throws {
        guard let path = ProcessInfo.processInfo.environment["MVM_FLEET_PREVIEW"], !path.isEmpty else { return }
        try renderFleetHTML(try await X.report()).write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func charts(_ html: String) -> [String] {
        html.components(separatedBy: "<svg ").dropFirst().map { "<svg " + ($0.components(separatedBy: "</svg>").first ?? "") + "</svg>" }
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
