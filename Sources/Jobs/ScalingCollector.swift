import Compare
import MVMCore

/// Starts 1, 2, 4... instances of each side at once, both sides interleaved
/// at every level, and stops raising a side once a level fails, would not fit
/// the host's memory, or passes the memory cap.
struct ScalingCollector {
    let settings: DimensionSettings
    /// The micro-VM and the container, as in the boot comparison.
    let contenders: [Contender]
    let limits: InstanceLimits
    let host: HostFacts
    let seed: UInt64

    func collect() async -> ScalingResult {
        var active = contenders
        var stopped: [String: String] = [:]
        var samples: [ScalingSample] = []
        let cap = settings.sweepMemoryCapMiB.map { UInt64($0) * 1_048_576 }
        for level in settings.sweep {
            guard level <= limits.instancesThatFit(host) else {
                let hostMiB = host.memoryBytes / 1_048_576
                for contender in active {
                    stopped[contender.name] =
                        "\(level) at once do not fit this host: \(level) × \(limits.memoryMiB) MiB is more than its \(hostMiB) MiB"
                }
                break
            }
            guard !active.isEmpty else { break }
            let plan = ComparisonPlan(
                runs: settings.sweepRuns, warmup: 0, concurrency: level, seed: seed &+ UInt64(level))
            let batch = await ComparisonRunner(plan: plan, contenders: active).run()
            for contender in active {
                for run in 0..<settings.sweepRuns {
                    let instances = batch.filter { $0.contender == contender.name && $0.run == run }
                    guard !instances.isEmpty else { continue }
                    let succeeded = instances.filter(\.ok)
                    let failures = instances.filter { !$0.ok }.map { $0.failure ?? "unknown" }
                    // The runner gives all-ready only for several at once; alone, it is the ready time.
                    let allReady =
                        failures.isEmpty
                        ? (level == 1 ? instances.first?.phases[Phase.ready.name] : instances.first?.allReadySeconds)
                        : nil
                    let pss = succeeded.compactMap { $0.footprint[Metric.pss.name] }
                    samples.append(
                        ScalingSample(
                            side: contender.name, level: level, run: run, allReadySeconds: allReady,
                            totalPSSBytes: pss.isEmpty ? nil : pss.reduce(0, +), started: succeeded.count,
                            failures: failures))
                }
            }
            active = active.filter { contender in
                let own = samples.filter { $0.side == contender.name && $0.level == level }
                if let failure = own.flatMap(\.failures).first {
                    stopped[contender.name] = "\(level) at once failed: \(failure)"
                    return false
                }
                if let cap, let largest = own.compactMap(\.totalPSSBytes).max(), largest > cap {
                    stopped[contender.name] =
                        "\(level) at once took \(formatMeasurement(Double(largest), .bytes)) of PSS, past the cap of \(formatMeasurement(Double(cap), .bytes))"
                    return false
                }
                return true
            }
        }
        return ScalingResult(
            sides: contenders.map(\.name), sweep: settings.sweep, runsPerLevel: settings.sweepRuns, memoryCapBytes: cap,
            samples: samples, stopped: stopped)
    }
}
