import MVMCore
import Synchronization

/// How many runs, in which order.
public struct ComparisonPlan: Sendable, Codable, Equatable {
    /// Measured runs per contender.
    public var runs: Int
    /// Runs per contender before the measured ones, kept in the raw samples
    /// but left out of the statistics.
    public var warmup: Int
    /// Instances of a contender started at once in each run.
    public var concurrency: Int
    /// Seeds the run order (contenders are shuffled anew for every run).
    public var seed: UInt64

    public init(runs: Int = 10, warmup: Int = 1, concurrency: Int = 1, seed: UInt64 = 0x6D_766D) {
        self.runs = runs
        self.warmup = warmup
        self.concurrency = concurrency
        self.seed = seed
    }

    public var totalBatches: Int { (runs + warmup) }

    public static let maximumRuns = 10_000
    public static let maximumConcurrency = 16

    /// Checks the plan's own numbers; the limits of each instance are
    /// `InstanceLimits`'.
    public func check() throws(LimitViolation) {
        guard (1...Self.maximumRuns).contains(runs) else {
            throw LimitViolation(.runs, runs, "is invalid: use 1 to \(Self.maximumRuns)")
        }
        guard (0...Self.maximumRuns).contains(warmup) else {
            throw LimitViolation(.warmup, warmup, "is invalid: use 0 to \(Self.maximumRuns)")
        }
        guard (1...Self.maximumConcurrency).contains(concurrency) else {
            throw LimitViolation(.concurrency, concurrency, "is invalid: use 1 to \(Self.maximumConcurrency)")
        }
    }
}

/// What one instance of one run showed: its phases (seconds from its
/// request), its memory, what its workload reported, or why it failed.
public struct InstanceSample: Sendable, Codable, Equatable {
    public var contender: String
    /// 0-based; warm-up runs count from -warmup to -1.
    public var run: Int
    /// Which of the run's `concurrency` instances (0-based).
    public var instance: Int
    public var warmup: Bool
    public var ok: Bool
    public var failure: String?
    public var phases: [String: Double]
    public var footprint: [String: UInt64]
    public var guest: GuestFacts?
    /// With concurrency > 1: seconds from the start of the run until every
    /// instance of the run was ready (nil when one of them failed); the same
    /// for all of them.
    public var allReadySeconds: Double?

    public init(
        contender: String, run: Int, instance: Int, warmup: Bool, ok: Bool, failure: String?, phases: [String: Double],
        footprint: [String: UInt64], guest: GuestFacts?, allReadySeconds: Double?
    ) {
        self.contender = contender
        self.run = run
        self.instance = instance
        self.warmup = warmup
        self.ok = ok
        self.failure = failure
        self.phases = phases
        self.footprint = footprint
        self.guest = guest
        self.allReadySeconds = allReadySeconds
    }
}

/// Where a comparison is, for a progress display.
public struct ComparisonProgress: Sendable {
    public var completedBatches: Int
    public var totalBatches: Int
    public var elapsed: Duration
    public var failures: Int

    /// A linear estimate of the time left.
    public var remaining: Duration? {
        guard completedBatches > 0 else { return nil }
        return elapsed * Double(totalBatches - completedBatches) / Double(completedBatches)
    }
}

/// The samples of a comparison as its batches complete, readable from
/// another thread: what an interrupted comparison still reports.
public final class SampleLog: Sendable {
    private let samples = Mutex<[InstanceSample]>([])

    public init() {}

    /// A batch that ends once the process is being stopped ended because
    /// of that: it did not complete, and is left out.
    func append(_ batch: [InstanceSample]) {
        guard !TeardownRegistry.shared.isClosing else { return }
        samples.withLock { $0 += batch }
    }

    public var snapshot: [InstanceSample] { samples.withLock { $0 } }
}

/// Runs every contender `warmup + runs` times, interleaved: each run starts
/// every contender once, in an order shuffled anew per run, so drift on the
/// machine (other load, thermal, caches) hits all contenders alike.
public struct ComparisonRunner: Sendable {
    public let plan: ComparisonPlan
    public let contenders: [Contender]

    public init(plan: ComparisonPlan, contenders: [Contender]) {
        self.plan = plan
        self.contenders = contenders
    }

    public func run(log: SampleLog? = nil, progress: (ComparisonProgress) -> Void = { _ in }) async -> [InstanceSample]
    {
        var generator = Xoshiro256StarStar(seed: plan.seed)
        var samples: [InstanceSample] = []
        let clock = ContinuousClock()
        let start = clock.now
        let total = plan.totalBatches * contenders.count
        var completed = 0
        for run in -plan.warmup..<plan.runs {
            var order = contenders
            generator.shuffle(&order)
            for contender in order {
                let batch = await measureBatch(contender, run: run)
                samples += batch
                log?.append(batch)
                completed += 1
                progress(
                    ComparisonProgress(
                        completedBatches: completed, totalBatches: total, elapsed: clock.now - start,
                        failures: samples.filter { !$0.ok && !$0.warmup }.count))
            }
        }
        return samples
    }

    /// Starts `concurrency` instances at once, reads their memory while all
    /// of them run, then stops them all.
    private func measureBatch(_ contender: Contender, run: Int) async -> [InstanceSample] {
        let launcher = contender.launcher
        // A warm pool fills before the clock starts; a launch that finds no
        // prepared instance prepares one itself, still outside its timing.
        if let preparable = launcher as? any PreparedLaunching {
            try? await preparable.prepare(count: plan.concurrency)
        }
        let clock = ContinuousClock()
        let batchStart = clock.now
        let launched = await withTaskGroup(of: (Int, Result<any RunningInstance, any Error>, Duration).self) { group in
            for index in 0..<plan.concurrency {
                group.addTask {
                    do {
                        let instance: any RunningInstance = try await launcher.launch()
                        return (index, .success(instance), clock.now - batchStart)
                    } catch {
                        return (index, .failure(error), clock.now - batchStart)
                    }
                }
            }
            var results: [(Int, Result<any RunningInstance, any Error>, Duration)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }
        }
        // Only meaningful when several instances start at once.
        let allReady: Double? =
            plan.concurrency > 1 && launched.allSatisfy { if case .success = $0.1 { true } else { false } }
            ? launched.map(\.2.seconds).max() : nil

        var samples: [InstanceSample] = []
        for (index, result, _) in launched {
            var sample = InstanceSample(
                contender: contender.name, run: run, instance: index, warmup: run < 0, ok: false, failure: nil,
                phases: [:], footprint: [:], guest: nil, allReadySeconds: allReady)
            switch result {
            case .success(let instance):
                sample.guest = instance.boot.facts
                for mark in instance.boot.timeline.marks where mark.phase != .request {
                    sample.phases[mark.phase.name] = mark.offset.seconds
                }
                do {
                    let footprint = try await instance.footprint()
                    sample.footprint = footprint.bytesByName
                    sample.ok = true
                } catch {
                    sample.failure = "reading memory: " + firstLine(of: error)
                }
            case .failure(let error):
                sample.failure = firstLine(of: error)
            }
            samples.append(sample)
        }
        // A run that cannot clean up after itself did not complete: it counts
        // as failed, with the reason.
        for (position, (_, result, _)) in launched.enumerated() {
            guard case .success(let instance) = result else { continue }
            do {
                try await instance.stop()
            } catch {
                samples[position].ok = false
                samples[position].failure = "stopping: " + firstLine(of: error)
            }
        }
        return samples
    }
}

/// The first line of an error's description: the part that says what
/// went wrong (the rest is console excerpts).
package func firstLine(of error: any Error) -> String {
    String(describing: error).split(separator: "\n", maxSplits: 1).first.map(String.init) ?? "\(error)"
}
