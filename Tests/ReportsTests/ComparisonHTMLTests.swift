import Compare
import Foundation
import MVMCore
import Testing

@testable import History
@testable import Reports

/// `mvm compare --report` without a history: one page, a section per
/// dimension, failures named at the top, every outside text escaped.
struct ComparisonHTMLTests {
    static func report(dimensions: DimensionResults) -> ComparisonReport {
        var report = ComparisonReport(
            environment: EnvironmentFingerprint(
                hostKernel: "6.1.0", cpuModel: "Test <CPU>", cores: 2, memoryBytes: 1 << 30, accelerator: "tcg",
                acceleratorReason: "because", versions: ["qemu": "7.2.0"], images: [:], mvmVersion: "0.1.0",
                gitCommit: "deadbeef",
                startedAt: Date(timeIntervalSince1970: 0), finishedAt: Date(timeIntervalSince1970: 60)),
            plan: ComparisonPlan(runs: 2, warmup: 0), contenders: ["vm", "container"],
            roles: ["vm": .microVM, "container": .container], caveats: [], samples: [])
        report.measuredDimensions = [.workload, .scaling]
        report.dimensions = dimensions
        return report
    }

    @Test func sectionsChartsAndFailuresAreOnThePage() {
        let workload = WorkloadResult(
            workloads: ["cpu"], descriptions: ["cpu": "hashing <zeros>"], sides: ["vm", "host"], runs: 2,
            samples: [
                WorkloadSample(side: "vm", run: 0, warmup: false, seconds: ["cpu": 2], failure: nil),
                WorkloadSample(side: "vm", run: 1, warmup: false, seconds: ["cpu": 3], failure: nil),
                WorkloadSample(side: "host", run: 0, warmup: false, seconds: ["cpu": 1], failure: nil),
                WorkloadSample(side: "host", run: 1, warmup: false, seconds: ["cpu": 1], failure: nil),
            ], caveats: [])
        let scaling = ScalingResult(
            sides: ["vm"], sweep: [1, 2], runsPerLevel: 1, memoryCapBytes: nil,
            samples: [
                ScalingSample(
                    side: "vm", level: 1, run: 0, allReadySeconds: 1, totalPSSBytes: 80 << 20, started: 1, failures: []),
                ScalingSample(
                    side: "vm", level: 2, run: 0, allReadySeconds: nil, totalPSSBytes: nil, started: 1,
                    failures: ["panic"]),
            ], stopped: ["vm": "2 at once failed: panic"])
        let html = renderComparisonHTML(Self.report(dimensions: DimensionResults(workload: workload, scaling: scaling)))
        #expect(html.contains("<section class=\"dimension\" id=\"workload\">"))
        #expect(html.contains("<section class=\"dimension\" id=\"scaling\">"))
        #expect(!html.contains("id=\"boot\""))
        #expect(html.contains("Some runs failed"))
        #expect(html.contains("Failures in: <a href=\"#scaling\">scaling</a>."))
        // The workload's ratio chart and the scaling chart are drawn.
        #expect(html.contains("How many times the host"))
        #expect(html.contains("Time until all instances are ready"))
        #expect(html.contains("hashing &lt;zeros&gt;") && html.contains("Test &lt;CPU&gt;"))
        #expect(!html.contains("<script"))
    }
}

extension ComparisonHTMLTests {
    /// A side takes its contender's role colour, whatever the contender is
    /// called: here "vm" plays the container and "container" the micro-VM.
    @Test func sidesAreColouredByTheirRole() throws {
        var report = Self.report(dimensions: Self.measuredDimensions())
        report.roles = ["vm": .container, "container": .microVM]
        let html = renderComparisonHTML(report)
        let bar = { (side: String) in
            html.range(of: "<rect [^>]*><title>cpu · \(side):", options: .regularExpression).map { String(html[$0]) }
                ?? ""
        }
        #expect(bar("vm").contains("fill=\"\(Palette.colour(of: .container))\""))
        #expect(bar("container").contains("fill=\"\(Palette.colour(of: .microVM))\""))
        #expect(bar("host").isEmpty)
        let scalingLine = try #require(
            html.range(of: "<text [^>]*>vm</text>", options: .regularExpression).map { String(html[$0]) })
        #expect(scalingLine.contains("fill=\"\(Palette.colour(of: .container))\""))
    }

    /// Workload, scaling and host sides with every figure present: the page a
    /// successful `mvm compare --dimensions workload,scaling --report` writes.
    static func measuredDimensions() -> DimensionResults {
        let sides = ["vm", "container", WorkloadResult.hostSide]
        var workloadSamples: [WorkloadSample] = []
        for side in sides {
            let cpu = side == "vm" ? 2.1 : side == "container" ? 1.2 : 1.0
            let memory = side == "vm" ? 1.6 : 1.1
            for run in 0..<3 {
                let wobble = Double(run) * 0.05
                workloadSamples.append(
                    WorkloadSample(
                        side: side, run: run, warmup: false, seconds: ["cpu": cpu + wobble, "memory": memory + wobble],
                        failure: nil))
            }
        }
        let workload = WorkloadResult(
            workloads: ["cpu", "memory"], descriptions: ["cpu": "hashing", "memory": "touching pages"], sides: sides,
            runs: 3,
            samples: workloadSamples, caveats: [])
        var scalingSamples: [ScalingSample] = []
        for side in ["vm", "container"] {
            let ready = side == "vm" ? 0.9 : 0.2
            let pss: UInt64 = side == "vm" ? 70 << 20 : 4 << 20
            for level in [1, 2, 4, 8] {
                for run in 0..<2 {
                    scalingSamples.append(
                        ScalingSample(
                            side: side, level: level, run: run,
                            allReadySeconds: ready * Double(level).squareRoot() + Double(run) * 0.02,
                            totalPSSBytes: pss * UInt64(level), started: level, failures: []))
                }
            }
        }
        let scaling = ScalingResult(
            sides: ["vm", "container"], sweep: [1, 2, 4, 8], runsPerLevel: 2, memoryCapBytes: nil,
            samples: scalingSamples, stopped: [:])
        return DimensionResults(workload: workload, scaling: scaling)
    }

    /// Writes that page where MVM_COMPARISON_PREVIEW says, to look at it in
    /// a browser; does nothing otherwise.
    @Test func writesAPreviewWhenAsked() throws {
        guard let path = ProcessInfo.processInfo.environment["MVM_COMPARISON_PREVIEW"], !path.isEmpty else { return }
        try renderComparisonHTML(Self.report(dimensions: Self.measuredDimensions())).write(
            toFile: path, atomically: true, encoding: .utf8)
    }
}
