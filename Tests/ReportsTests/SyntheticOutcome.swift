import Foundation
import MVMCore

@testable import Compare
@testable import History

/// A realistic nightly outcome built without a hypervisor: twelve nights of
/// history on a 2-core TCG host, QEMU 7.2 → 8.0 at the ninth night, and a
/// new run whose micro-VM reaches `ready` 30 % later (an mvm commit changed),
/// which also moves the vm/container ready ratio. Every other series stays
/// within its noise. Names are parameters so that tests can make them hostile.
///
/// The verdict figures are set here rather than computed, so that these
/// rendering tests do not depend on the statistics they display.
struct SyntheticOutcome {
    var vm = "vm"
    var container = "container"
    var hostname = "ci-runner-02"
    var label: String? = "nightly"
    var caveat = "TCG: the guest runs under software emulation; boot times are several times KVM's."
    var historyRuns = 12
    var stackChangeRun = 9
    var readyRegression = 1.30

    func make() -> NightlyOutcome {
        let host = HostIdentity(
            cpuModel: "Intel Xeon Processor (Icelake)", cores: 2, memoryGiB: 24, hostname: hostname, machineID: "4c1f0e"
        )
        let plan = PlanIdentity(
            contenders: [vm, container], memoryMiB: 128, vcpus: 1, accelerator: "tcg", runs: 10, warmup: 1,
            concurrency: 1)
        let first = Date(timeIntervalSince1970: 1_795_312_800)  // 2026-11-22 02:00 UTC
        var history: [(header: RunHeader, report: ComparisonReport)] = []
        for night in 1...historyRuns {
            let stack = stackFacts(qemu: night >= stackChangeRun ? "8.0.0" : "7.2.0", commit: "1a2b3c4d5e6f7a8b")
            let date = first.addingTimeInterval(Double(night - 1) * 86_400)
            // The sixth night was interrupted: drawn hollow, never a baseline.
            let header = RunHeader(
                id: RunHeader.newID(at: date, random: UInt32(night * 7919)), label: label, startedAt: date,
                hostKey: host.key,
                planKey: plan.key, stack: stack, partial: night == 6, failed: false, underLoad: false)
            history.append(
                (header, report(seed: UInt64(night), date: date, qemu8: night >= stackChangeRun, readyFactor: 1)))
        }
        let newDate = first.addingTimeInterval(Double(historyRuns) * 86_400 + 900)
        let newStack = stackFacts(qemu: "8.0.0", commit: "9f8e7d6c5b4a3928")
        let run = RunHeader(
            id: RunHeader.newID(at: newDate, random: 0xC0FFEE), label: label, startedAt: newDate, hostKey: host.key,
            planKey: plan.key,
            stack: newStack, partial: false, failed: false, underLoad: false)
        let comparison = report(seed: 99, date: newDate, qemu8: true, readyFactor: readyRegression)
        let settings = VerdictSettings()
        var verdicts: [SeriesVerdict] = []
        var trends: [SeriesTrend] = []
        for (index, (key, values)) in comparison.seriesValues(hostKey: host.key, planKey: plan.key).enumerated() {
            let observations = history.compactMap { entry in
                entry.report.seriesValues(hostKey: host.key, planKey: plan.key).first { $0.0 == key }.map {
                    SeriesObservation(run: entry.header, values: $0.1)
                }
            }
            let evidence = SeriesEvidence(
                series: key, history: observations, annotations: [], new: values, newStack: newStack)
            let baseline = Array(observations.filter(\.run.isGood).suffix(settings.baselineRuns))
            let verdict = judged(key, values: values, baseline: baseline, newStack: newStack, index: index)
            var trend = evidence.trend(newRun: run, verdict: verdict, settings: settings)
            trend.changePointRunIDs = verdict.decision == .regression ? [run.id] : []
            verdicts.append(verdict)
            trends.append(trend)
        }
        return NightlyOutcome(
            run: run, host: host, plan: plan,
            conditions: HostConditions(
                loadAverageAtStart: 0.42, loadAverageAtEnd: 0.57, stealFraction: 0.004, cpuMHz: 2893.2,
                bogomips: 5786.4, intruders: []),
            baseline: "auto", verdicts: verdicts, trends: trends,
            comparison: comparison, failures: [], exitStatus: nightlyExitStatus(verdicts: verdicts, jobFailed: false))
    }

    /// A verdict as the engine would give it on this data: the ready series
    /// of the micro-VM (and so its ratio) regress, the rest stays within the
    /// noise floor.
    private func judged(
        _ key: SeriesKey, values: SeriesValues, baseline: [SeriesObservation], newStack: StackFacts, index: Int
    ) -> SeriesVerdict {
        let medians = baseline.map(\.values.median).sorted()
        let center = (medians[medians.count / 2 - 1] + medians[medians.count / 2]) / 2
        let deviations = medians.map { abs($0 - center) }.sorted()
        let mad = max((deviations[deviations.count / 2 - 1] + deviations[deviations.count / 2]) / 2, 0.01 * center)
        let change = (values.median - center) / center
        let isStepped = key.metric == "ready" && (key.subject == vm || key.isRatio) && change > 0.1
        var verdict = SeriesVerdict(
            series: key, decision: isStepped ? (key.isRatio ? .changed : .regression) : .ok,
            rule: isStepped ? .night : .noiseFloor,
            baselineRunIDs: baseline.map(\.run.id), baselineMedian: center, newMedian: values.median,
            stackChanges: baseline.last.map { newStack.changes(since: $0.run.stack) } ?? [],
            reason: isStepped
                ? "tonight \(signedPercent(change)), confirmed by a second batch (\(signedPercent(change * 0.995)))"
                : "under the noise floor (5 %)")
        verdict.relativeChange = change
        verdict.score = (values.median - center) / (1.4826 * mad)
        verdict.threshold = 3.5
        verdict.spread = 0.02
        verdict.nights = 1
        verdict.confirmationMedian = isStepped ? values.median * 0.995 : nil
        return verdict
    }

    private func stackFacts(qemu: String, commit: String) -> StackFacts {
        StackFacts(
            hostKernel: "6.1.0-28-cloud-amd64", versions: ["qemu": qemu, "libvirt": "9.0.0", "runc": "1.1.5"],
            images: [
                vm: "3f2a9c1d7e5b48a6c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e0f2a4b6",
                container: "9c1d3e5f7a9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d",
            ],
            domainXML: "d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1", mvmVersion: "0.4.0",
            gitCommit: commit)
    }

    /// Ten measured runs (and one warm-up) per contender with roughly normal
    /// noise: vm ready ≈ 1.2 s, container ready ≈ 0.12 s, PSS ≈ 60 and 3 MiB.
    private func report(seed: UInt64, date: Date, qemu8: Bool, readyFactor: Double) -> ComparisonReport {
        var noise = Noise(seed: seed)
        var samples: [InstanceSample] = []
        for run in -1..<10 {
            let vmStarted = 0.29 * noise.factor(0.04)
            let vmOutput = vmStarted + 0.27 * noise.factor(0.05)
            let vmReady = vmOutput + 0.64 * noise.factor(0.04) + (readyFactor - 1) * 1.2
            samples.append(
                InstanceSample(
                    contender: vm, run: run, instance: 0, warmup: run < 0, ok: true, failure: nil,
                    phases: ["started": vmStarted, "first-output": vmOutput, "ready": vmReady],
                    footprint: [
                        "pss": mebibytes((qemu8 ? 61.0 : 60.0) * noise.factor(0.01)),
                        "rss": mebibytes(74 * noise.factor(0.01)),
                        "guest-used": mebibytes(21 * noise.factor(0.005)),
                    ],
                    guest: nil, allReadySeconds: nil))
            let created = 0.046 * noise.factor(0.06)
            let started = created + 0.034 * noise.factor(0.06)
            let output = started + 0.026 * noise.factor(0.08)
            let ready = output + 0.014 * noise.factor(0.08)
            samples.append(
                InstanceSample(
                    contender: container, run: run, instance: 0, warmup: run < 0, ok: true, failure: nil,
                    phases: ["created": created, "started": started, "first-output": output, "ready": ready],
                    footprint: [
                        "pss": mebibytes(3.1 * noise.factor(0.02)), "rss": mebibytes(5.2 * noise.factor(0.02)),
                        "cgroup-usage": mebibytes(2.4 * noise.factor(0.02)),
                    ],
                    guest: nil, allReadySeconds: nil))
        }
        let environment = EnvironmentFingerprint(
            hostKernel: "6.1.0-28-cloud-amd64", cpuModel: "Intel Xeon Processor (Icelake)", cores: 2,
            memoryBytes: 25_769_803_776,
            accelerator: "tcg", acceleratorReason: "the host's KVM is paravirtual (no vmx or svm)",
            versions: ["qemu": qemu8 ? "8.0.0" : "7.2.0", "libvirt": "9.0.0", "runc": "1.1.5"], images: [:],
            mvmVersion: "0.4.0",
            gitCommit: "9f8e7d6c5b4a3928", startedAt: date, finishedAt: date.addingTimeInterval(95))
        return ComparisonReport(
            environment: environment, plan: ComparisonPlan(runs: 10, warmup: 1),
            bootstrap: BootstrapSettings(resamples: 1_000) ?? .default,
            contenders: [vm, container], roles: [vm: .microVM, container: .container], caveats: [caveat],
            samples: samples)
    }

    private func mebibytes(_ value: Double) -> UInt64 { UInt64(value * 1_048_576) }
}

/// Roughly normal multiplicative noise (sum of four uniforms from an LCG),
/// independent of the library's generators.
struct Noise {
    var state: UInt64

    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1 }

    mutating func uniform() -> Double {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(state >> 11) / Double(UInt64(1) << 53)
    }

    /// 1 ± about `spread` (one standard deviation is spread / 1.7).
    mutating func factor(_ spread: Double) -> Double {
        1 + spread * (uniform() + uniform() + uniform() + uniform() - 2)
    }
}
