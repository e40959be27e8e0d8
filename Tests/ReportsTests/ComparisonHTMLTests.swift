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
                acceleratorReason: "because", versions: ["qemu": "7.2.0"], images: [:], mvmVersion: "0.1.0", gitCommit: "deadbeef",
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
                ScalingSample(side: "vm", level: 1, run: 0, allReadySeconds: 1, totalPSSBytes: 80 << 20, started: 1, failures: []),
                ScalingSample(side: "vm", level: 2, run: 0, allReadySeconds: nil, totalPSSBytes: nil, started: 1, failures: ["panic"]),
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
