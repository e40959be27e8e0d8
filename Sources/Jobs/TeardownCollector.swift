import Compare
import ContainerShim
import MVMCore
import VMM

/// Starts and stops the micro-VM and the container `teardownRuns` times
/// each (after a warm-up), in a shuffled order per run, and times each stop
/// until every host resource the instance held is gone.
struct TeardownCollector {
    let settings: DimensionSettings
    let contenders: [Contender]
    let seed: UInt64

    func collect() async -> TeardownResult {
        var generator = Xoshiro256StarStar(seed: seed)
        var samples: [TeardownRunSample] = []
        for run in -1..<settings.teardownRuns {
            var order = contenders
            generator.shuffle(&order)
            for contender in order {
                samples.append(await measure(contender, run: run))
            }
        }
        return TeardownResult(sides: contenders.map(\.name), runs: settings.teardownRuns, samples: samples)
    }

    private func measure(_ contender: Contender, run: Int) async -> TeardownRunSample {
        let instance: any RunningInstance
        do {
            instance = try await contender.launcher.launch()
        } catch {
            return TeardownRunSample(
                side: contender.name, run: run, warmup: run < 0, stopReturnedSeconds: nil, releasedSeconds: nil,
                releasedByKind: [:], lingering: [], failure: "starting: " + firstLine(of: error))
        }
        let sample = await measureTeardown(of: instance)
        var byKind: [String: Double] = [:]
        for kind in sample.kinds {
            if let seconds = kind.releasedSeconds { byKind[kind.kind.rawValue] = seconds }
        }
        // A process is dead once it is a zombie; it is gone once its parent
        // reaps it. Both are shown: on a host whose init reaps slowly, the
        // gap is the init's, not the instance's.
        let processes = sample.resources.filter { $0.kind == .process }
        let deaths = processes.map { $0.zombieSeconds ?? $0.releasedSeconds }
        if !processes.isEmpty, deaths.allSatisfy({ $0 != nil }) {
            byKind[TeardownRunSample.processDeadKind] = deaths.compactMap { $0 }.max()
        }
        return TeardownRunSample(
            side: contender.name, run: run, warmup: run < 0, stopReturnedSeconds: sample.stopReturnedSeconds,
            releasedSeconds: sample.allReleasedSeconds, releasedByKind: byKind, lingering: sample.heldAtLimit,
            failure: sample.failure.map { "stopping: " + $0 })
    }
}
