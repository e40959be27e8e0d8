import Compare
import Foundation
import History
import MVMCore

/// Synthetic runs for verdict and store tests: a vm and a container whose
/// ready time and PSS are drawn around given centres.
public enum VerdictFixtures {
    public static let host = HostIdentity(
        cpuModel: "Test CPU", cores: 2, memoryGiB: 24, hostname: "test-host", machineID: "0123")
    public static let plan = PlanIdentity(
        contenders: ["vm", "container"], memoryMiB: 128, vcpus: 1, accelerator: "tcg", runs: 8, warmup: 0,
        concurrency: 1)
    public static let stack = StackFacts(
        hostKernel: "6.1.0", versions: ["qemu": "7.2.0", "libvirt": "9.0.0", "runtime": "runc 1.1.5"],
        images: ["initramfs": "aa"],
        domainXML: "bb", mvmVersion: "0.1.0", gitCommit: "cc")

    /// Deterministic noise in [-1, 1): Knuth's MMIX LCG.
    public static func noise(count: Int, seed: UInt64) -> [Double] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(UInt64(1) << 52) - 1
        }
    }

    public static func report(
        vmReady: Double, containerReady: Double = 0.12, vmPSSMiB: Double = 60, runs: Int = 8, seed: UInt64,
        spread: Double = 0.01
    )
        -> ComparisonReport
    {
        let wobble = noise(count: runs * 4, seed: seed)
        var samples: [InstanceSample] = []
        for run in 0..<runs {
            let vmPSS = UInt64(vmPSSMiB * 1_048_576 * (1 + spread * wobble[run * 4 + 2]))
            samples.append(
                InstanceSample(
                    contender: "vm", run: run, instance: 0, warmup: false, ok: true, failure: nil,
                    phases: ["ready": vmReady * (1 + spread * wobble[run * 4])], footprint: ["pss": vmPSS], guest: nil,
                    allReadySeconds: nil))
            samples.append(
                InstanceSample(
                    contender: "container", run: run, instance: 0, warmup: false, ok: true, failure: nil,
                    phases: ["ready": containerReady * (1 + spread * wobble[run * 4 + 1])],
                    footprint: ["pss": UInt64(3 * 1_048_576 * (1 + spread * wobble[run * 4 + 3]))], guest: nil,
                    allReadySeconds: nil))
        }
        let environment = EnvironmentFingerprint(
            hostKernel: "6.1.0", cpuModel: "Test CPU", cores: 2, memoryBytes: 24 << 30, accelerator: "tcg",
            acceleratorReason: "test",
            versions: [:], images: [:], mvmVersion: "0.1.0", gitCommit: "cc", startedAt: Date(timeIntervalSince1970: 0),
            finishedAt: Date(timeIntervalSince1970: 1))
        return ComparisonReport(
            environment: environment, plan: ComparisonPlan(runs: runs, warmup: 0),
            bootstrap: BootstrapSettings(resamples: 200, seed: 1) ?? .default,
            contenders: ["vm", "container"], roles: ["vm": .microVM, "container": .container], caveats: [],
            samples: samples)
    }

    public static func header(_ index: Int, label: String? = nil, stack: StackFacts = stack, partial: Bool = false)
        -> RunHeader
    {
        RunHeader(
            id: String(format: "20260101T%06dZ-%06x", index, index), label: label,
            startedAt: Date(timeIntervalSince1970: 1_767_225_600 + Double(index) * 86_400), hostKey: host.key,
            planKey: plan.key,
            stack: stack, partial: partial, failed: false, underLoad: false)
    }

    public static func recorded(
        _ index: Int, vmReady: Double, label: String? = nil, stack: StackFacts = stack, partial: Bool = false
    ) -> RecordedRun {
        RecordedRun(
            header: header(index, label: label, stack: stack, partial: partial), host: host, plan: plan,
            conditions: HostConditions(
                loadAverageAtStart: 0.1, loadAverageAtEnd: 0.1, stealFraction: 0, cpuMHz: nil, bogomips: nil,
                intruders: []),
            report: report(vmReady: vmReady, seed: UInt64(index + 1)), failures: [], verdicts: [])
    }

    /// The evidence for every series of `new`, against `history`.
    public static func evidence(
        history: [RecordedRun], new: ComparisonReport, annotations: [Annotation] = [], newStack: StackFacts = stack
    )
        -> [SeriesEvidence]
    {
        new.seriesValues(hostKey: host.key, planKey: plan.key).map { key, values in
            let observations = history.compactMap { run -> SeriesObservation? in
                run.series.first { $0.0 == key }.map {
                    SeriesObservation(run: run.header, values: $0.1, verdict: run.verdicts.first { $0.series == key })
                }
            }
            return SeriesEvidence(
                series: key, history: observations, annotations: annotations, new: values, newStack: newStack)
        }
    }
}
