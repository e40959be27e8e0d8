import Foundation
import MVMCore
import Testing

@testable import Compare

/// The dimension results are pure arithmetic over samples: tested here with
/// made-up samples (the collectors run against real instances in
/// IntegrationTests).
struct DimensionTests {
    @Test func dimensionListsParseInReportOrder() throws {
        #expect(try ComparisonDimension.parseList("all") == ComparisonDimension.allCases)
        #expect(try ComparisonDimension.parseList("teardown,boot") == [.boot, .teardown])
        #expect(try ComparisonDimension.parseList("size,size") == [.size])
        #expect(throws: LimitViolation.self) { try ComparisonDimension.parseList("boot,speed") }
        #expect(throws: LimitViolation.self) { try ComparisonDimension.parseList("") }
        #expect(throws: LimitViolation.self) { try ComparisonDimension.parseList("all,boot") }
        do {
            _ = try ComparisonDimension.parseList("boot,speed")
        } catch {
            #expect(
                error.description
                    == "dimensions \"boot,speed\" is invalid: \"speed\" is not one of boot, isolation, workload, scaling, size, teardown or all"
            )
        }
    }

    static func workloadSample(_ side: String, run: Int, cpu: Double?, warmup: Bool = false, failure: String? = nil)
        -> WorkloadSample
    {
        WorkloadSample(side: side, run: run, warmup: warmup, seconds: cpu.map { ["cpu": $0] } ?? [:], failure: failure)
    }

    @Test func workloadRatiosAreToTheHostsMedianAndLeaveOutWarmupAndFailures() throws {
        var samples: [WorkloadSample] = []
        for run in 0..<3 {
            samples.append(Self.workloadSample("vm", run: run, cpu: 2.0 + Double(run)))  // median 3
            samples.append(Self.workloadSample("container", run: run, cpu: 0.55))
            samples.append(Self.workloadSample("host", run: run, cpu: 0.5))
        }
        samples.append(Self.workloadSample("vm", run: -1, cpu: 100, warmup: true))
        samples.append(Self.workloadSample("vm", run: 3, cpu: nil, failure: "timed out"))
        let result = WorkloadResult(
            workloads: ["cpu"], descriptions: ["cpu": "hashing"], sides: ["vm", "container", "host"], runs: 3,
            samples: samples,
            caveats: [])
        let vm = try #require(result.figure(side: "vm", workload: "cpu"))
        #expect(vm.duration.values == [2, 3, 4])
        #expect(vm.ratioToHost?.ratio == 6)
        #expect(result.figure(side: "container", workload: "cpu")?.ratioToHost?.ratio == 1.1)
        #expect(result.figure(side: "host", workload: "cpu")?.ratioToHost == nil)
        #expect(result.failures(of: "vm") == ["timed out"])

        let results = DimensionResults(workload: result)
        #expect(results.hasFailures)
        let section = try #require(results.sections.first)
        #expect(section.tables[0][0] == ["workload", "vm", "container", "host"])
        #expect(section.tables[0].contains { $0.first == "cpu ÷ host" && $0[1].hasPrefix("6.00x [") })
        #expect(section.notes.contains("vm: 1 failed run: timed out"))
        #expect(
            section.csvRows.contains { $0.subject == "vm" && $0.metric == "workload.cpu/host" && $0.ratio?.ratio == 6 })
    }

    @Test func scalingLevelsSumMemoryPerBatchAndDivideByTheLevel() throws {
        let samples = [
            ScalingSample(
                side: "vm", level: 1, run: 0, allReadySeconds: 1.0, totalPSSBytes: 80 << 20, started: 1, failures: []),
            ScalingSample(
                side: "vm", level: 4, run: 0, allReadySeconds: 2.0, totalPSSBytes: 320 << 20, started: 4, failures: []),
            ScalingSample(
                side: "vm", level: 4, run: 1, allReadySeconds: nil, totalPSSBytes: 240 << 20, started: 3,
                failures: ["timed out"]),
        ]
        let result = ScalingResult(
            sides: ["vm", "container"], sweep: [1, 4], runsPerLevel: 2, memoryCapBytes: nil, samples: samples,
            stopped: ["vm": "4 at once failed: timed out"])
        #expect(result.levels.count == 2)
        let four = try #require(result.levels.first { $0.level == 4 })
        #expect(four.allReady.values == [2.0])
        #expect(four.launchRate == 2.0)
        // The failed batch's memory is left out: it was not the memory of 4.
        #expect(four.totalPSS.values == [Double(320 << 20)])
        #expect(four.pssPerInstance.values == [Double(80 << 20)])
        #expect(four.failedInstances == 1 && four.instances == 8)
        let section = DimensionResults(scaling: result).sections[0]
        #expect(section.notes.contains("vm: stopped raising: 4 at once failed: timed out"))
        #expect(section.csvRows.contains { $0.metric == "scaling.4.launch-rate" && $0.value == "2.0" })
    }

    @Test func teardownFiguresCountALingeringResourceAsAFailure() throws {
        let samples = [
            TeardownRunSample(
                side: "vm", run: 0, warmup: false, stopReturnedSeconds: 0.2, releasedSeconds: 0.3,
                releasedByKind: ["process": 0.25, "domain": 0.3], lingering: [], failure: nil),
            TeardownRunSample(
                side: "vm", run: 1, warmup: false, stopReturnedSeconds: 0.2, releasedSeconds: nil,
                releasedByKind: ["process": 0.25], lingering: ["domain mvm-1"], failure: nil),
            TeardownRunSample(
                side: "container", run: 0, warmup: false, stopReturnedSeconds: 0.05, releasedSeconds: 0.06,
                releasedByKind: ["cgroup": 0.06], lingering: [], failure: nil),
        ]
        let result = TeardownResult(sides: ["vm", "container"], runs: 2, samples: samples)
        let vm = try #require(result.figures.first)
        #expect(vm.released.values == [0.3])
        #expect(vm.failures == ["still held: domain mvm-1"])
        #expect(vm.releasedByKind["process"]?.values == [0.25, 0.25])
        let table = DimensionResults(teardown: result).sections[0].tables[0]
        #expect(table.contains { $0.first == "ok runs" && $0[1] == "1/2" && $0[2] == "1/1" })
    }

    static let environment = EnvironmentFingerprint(
        hostKernel: "6.1.0", cpuModel: "Test CPU", cores: 2, memoryBytes: 1 << 30, accelerator: "tcg",
        acceleratorReason: "because",
        versions: ["qemu": "7.2.0"], images: [:], mvmVersion: "0.1.0", gitCommit: "deadbeef",
        startedAt: Date(timeIntervalSince1970: 0), finishedAt: Date(timeIntervalSince1970: 60))

    @Test func aReportWithoutBootRendersOnlyItsSectionsInEveryFormat() throws {
        var report = ComparisonReport(
            environment: Self.environment, plan: ComparisonPlan(runs: 3, warmup: 0), contenders: ["vm", "container"],
            roles: ["vm": .microVM, "container": .container], caveats: [], samples: [])
        report.measuredDimensions = [.size, .isolation]
        report.dimensions = DimensionResults(
            isolation: IsolationResult(
                sides: ["vm", "container"],
                aspects: [
                    IsolationAspect(
                        name: "kernel", values: ["vm": "6.1.1 (its own)", "container": "6.18 | the host's"])
                ],
                observations: [:], failures: [:]),
            size: SizeResult(
                artifacts: [
                    Artifact(
                        side: "vm",
                        parts: [ArtifactPart(name: "kernel", path: "/k", bytes: 2 << 20, gzipBytes: 1 << 20)])
                ],
                requirements: [
                    HostRequirement(side: "vm", requirement: "a hypervisor", presentHere: true, found: "tcg")
                ]))
        let rendering = ComparisonRendering(report)
        let table = rendering.table()
        #expect(!table.contains("mvm compare:"))
        #expect(table.contains("== Isolation =="))
        #expect(table.contains("== Portability and size =="))
        #expect(
            table.range(of: "Isolation")?.lowerBound ?? table.endIndex < table.range(of: "Portability")?.lowerBound
                ?? table.startIndex)
        let markdown = rendering.markdown()
        #expect(markdown.contains("## Isolation"))
        #expect(markdown.contains("6.18 \\| the host's"))
        let csv = rendering.csv().split(separator: "\n").map(String.init)
        #expect(csv.count == 1 + 2 + 5)  // header, isolation, size (part, gzip, total, gzip total, requirement)
        #expect(csv.contains("vm,size.kernel,bytes,,,,,,,,,,,,,2097152"))
        #expect(csv.contains("container,isolation.kernel,text,,,,,,,,,,,,,6.18 | the host's"))
        let decoded = try ComparisonReport.decode(report.jsonData())
        #expect(decoded == report)
    }
}
