import Compare
import Foundation
import MVMCore
import Testing

@testable import Reports

/// The isolation trade-off: a bubble per contender with a time to ready, a
/// PSS and a host syscall count, ready on a log x axis, PSS as area.
struct TradeOffChartTests {
    /// Five contenders as a `--dimensions boot,isolation` run measures them:
    /// (median ready seconds, PSS MiB, host syscalls allowed).
    static let figures: [(name: String, role: ContenderRole, ready: Double, pss: Double, syscalls: Int)] = [
        ("vm", .microVM, 1.4, 80, 300), ("container", .container, 0.048, 1.8, 373),
        ("gvisor", .sandboxedContainer, 0.34, 30, 70), ("podman", .containerEngine, 0.18, 2.7, 373),
        ("docker", .containerEngine, 0.29, 13.7, 373),
    ]

    static func report(isolation: Bool = true) -> ComparisonReport {
        let samples = figures.flatMap { figure in
            (0..<3).map { run in
                InstanceSample(
                    contender: figure.name, run: run, instance: 0, warmup: false, ok: true, failure: nil,
                    phases: ["ready": figure.ready], footprint: ["pss": UInt64(figure.pss * 1_048_576)], guest: nil,
                    allReadySeconds: nil)
            }
        }
        var report = ComparisonReport(
            environment: EnvironmentFingerprint(
                hostKernel: "6.1.0", cpuModel: "Test CPU", cores: 2, memoryBytes: 1 << 30, accelerator: "kvm",
                acceleratorReason: "because", versions: [:], images: [:], mvmVersion: "0.1.0", gitCommit: "deadbeef",
                startedAt: Date(timeIntervalSince1970: 0), finishedAt: Date(timeIntervalSince1970: 60)),
            plan: ComparisonPlan(runs: 3, warmup: 0), bootstrap: BootstrapSettings(resamples: 200) ?? .default,
            contenders: figures.map(\.name),
            roles: Dictionary(uniqueKeysWithValues: figures.map { ($0.name, $0.role) }),
            caveats: [], samples: samples)
        let observations = Dictionary(
            uniqueKeysWithValues: figures.map { ($0.name, [TradeOffChart.syscallKey: "\($0.syscalls)"]) })
        report.measuredDimensions = [.boot, .isolation]
        report.dimensions = DimensionResults(
            isolation: IsolationResult(
                sides: figures.map(\.name), aspects: [], observations: isolation ? observations : [:], failures: [:]))
        return report
    }

    /// The trade-off section of a page, up to its end.
    static func section(_ html: String) -> String? {
        guard let start = html.range(of: "<section id=\"trade-off\">") else { return nil }
        let rest = html[start.lowerBound...]
        return rest.range(of: "</section>").map { String(rest[..<$0.upperBound]) }
    }

    /// A bubble's centre and radius, by contender, from its tooltip.
    static func circles(_ section: String) -> [String: (x: Double, radius: Double)] {
        let pattern = #/<circle cx="([0-9.]+)" cy="[0-9.]+" r="([0-9.]+)"[^>]*><title>([a-z-]+):/#
        var result: [String: (x: Double, radius: Double)] = [:]
        for match in section.matches(of: pattern) {
            if let x = Double(match.1), let radius = Double(match.2) { result[String(match.3)] = (x, radius) }
        }
        return result
    }

    @Test func tradeOffChartDrawsABubblePerContender() throws {
        let html = renderComparisonHTML(Self.report())
        if let path = ProcessInfo.processInfo.environment["MVM_WRITE_TRADEOFF"] {
            try html.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let section = try #require(Self.section(html))
        #expect(section.contains("<h2>The isolation trade-off</h2>"))
        #expect(section.components(separatedBy: "<circle").count - 1 == 5)
        #expect(section.contains("gvisor · 30.0\u{A0}MiB"))
        for tick in ["30\u{A0}ms", "100\u{A0}ms", "300\u{A0}ms", "1\u{A0}s", "3\u{A0}s"] {
            #expect(section.contains(">\(tick)</text>"))
        }
        #expect(section.contains("time to ready (log scale)"))
        #expect(section.contains("host system calls its host-side process may make"))
        // Right after the isolation section, before whatever follows it.
        let tradeOff = try #require(html.range(of: "<section id=\"trade-off\">"))
        let before = html[..<tradeOff.lowerBound]
        let previous = try #require(before.range(of: "<section", options: .backwards))
        #expect(before[previous.lowerBound...].hasPrefix("<section class=\"dimension\" id=\"isolation\">"))
        expectWellFormedXML(chartDocuments(in: section))
    }

    /// x grows with the time to ready, and by its logarithm: the gaps
    /// between bubbles are in the ratio of the logs of the time ratios.
    @Test func bubblesStandOnALogScaleOfReadyTime() throws {
        let circles = try #require(Self.section(renderComparisonHTML(Self.report())).map(Self.circles))
        let byReady = Self.figures.sorted { $0.ready < $1.ready }.map(\.name)
        let xs = byReady.compactMap { circles[$0]?.x }
        #expect(xs.count == 5 && xs == xs.sorted() && Set(xs).count == 5)
        let (container, docker, vm) = try (
            #require(circles["container"]?.x), #require(circles["docker"]?.x), #require(circles["vm"]?.x)
        )
        let expected = log(1.4 / 0.29) / log(0.29 / 0.048)
        #expect(abs((vm - docker) / (docker - container) - expected) < 0.01)
    }

    /// Area, not radius, follows PSS; a tiny PSS keeps a visible bubble.
    @Test func largerPSSGivesALargerBubble() throws {
        let circles = try #require(Self.section(renderComparisonHTML(Self.report())).map(Self.circles))
        let byPSS = Self.figures.sorted { $0.pss < $1.pss }.map(\.name)
        let radii = byPSS.compactMap { circles[$0]?.radius }
        #expect(radii.count == 5 && radii == radii.sorted())
        let (vm, gvisor) = try (#require(circles["vm"]?.radius), #require(circles["gvisor"]?.radius))
        #expect(abs((vm * vm) / (gvisor * gvisor) - 80.0 / 30.0) < 0.05)
        #expect(radii.allSatisfy { $0 >= TradeOffChart.minimumRadius })
    }

    /// Labels are placed where no other label is, so that names stay legible
    /// where bubbles crowd (podman and docker share y = 373).
    @Test func labelsDoNotOverlap() throws {
        let bubbles = try #require(TradeOffChart(Self.report())).bubbles()
        for (index, bubble) in bubbles.enumerated() {
            for other in bubbles[(index + 1)...] { #expect(!bubble.label.overlaps(other.label)) }
        }
    }

    @Test func noTradeOffChartWithoutIsolationObservations() {
        let html = renderComparisonHTML(Self.report(isolation: false))
        #expect(!html.contains("id=\"trade-off\""))
        #expect(TradeOffChart(Self.report(isolation: false)) == nil)
    }

    /// One contender with all three figures is no trade-off.
    @Test func noTradeOffChartForASingleContender() {
        var report = Self.report()
        report.dimensions?.isolation?.observations = ["vm": [TradeOffChart.syscallKey: "300"]]
        #expect(!renderComparisonHTML(report).contains("id=\"trade-off\""))
    }
}
