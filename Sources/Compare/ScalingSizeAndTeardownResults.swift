import MVMCore

// MARK: Scaling

/// One batch of a sweep: `level` instances of one side started at once.
public struct ScalingSample: Sendable, Codable, Equatable {
    public var side: String
    public var level: Int
    public var run: Int
    /// From the start of the batch until all were ready; nil when one failed.
    public var allReadySeconds: Double?
    /// PSS summed over the batch's instances that started.
    public var totalPSSBytes: UInt64?
    public var started: Int
    public var failures: [String]

    public init(
        side: String, level: Int, run: Int, allReadySeconds: Double?, totalPSSBytes: UInt64?, started: Int,
        failures: [String]
    ) {
        self.side = side
        self.level = level
        self.run = run
        self.allReadySeconds = allReadySeconds
        self.totalPSSBytes = totalPSSBytes
        self.started = started
        self.failures = failures
    }
}

/// One side at one concurrency level.
public struct ScalingLevel: Sendable, Codable, Equatable {
    public var side: String
    public var level: Int
    public var allReady: MeasuredFigure
    /// Instances per second: the level over the median time until all ready.
    public var launchRate: Double?
    public var totalPSS: MeasuredFigure
    public var pssPerInstance: MeasuredFigure
    public var failedInstances: Int
    public var instances: Int
}

public struct ScalingResult: Sendable, Codable, Equatable {
    public var sides: [String]
    /// The levels asked for (`--sweep`).
    public var sweep: [Int]
    public var runsPerLevel: Int
    /// The sweep stops raising a side's level once its summed PSS passes this.
    public var memoryCapBytes: UInt64?
    public var samples: [ScalingSample]
    public var levels: [ScalingLevel]
    /// Why a side did not reach the last level, by side.
    public var stopped: [String: String]

    public init(
        sides: [String], sweep: [Int], runsPerLevel: Int, memoryCapBytes: UInt64?, samples: [ScalingSample],
        stopped: [String: String], bootstrap: BootstrapSettings = .default
    ) {
        self.sides = sides
        self.sweep = sweep
        self.runsPerLevel = runsPerLevel
        self.memoryCapBytes = memoryCapBytes
        self.samples = samples
        self.stopped = stopped
        levels = sides.flatMap { side in
            sweep.compactMap { level -> ScalingLevel? in
                let own = samples.filter { $0.side == side && $0.level == level }
                guard !own.isEmpty else { return nil }
                let allReady = MeasuredFigure(
                    unit: .seconds, values: own.compactMap(\.allReadySeconds), bootstrap: bootstrap)
                let complete = own.filter { $0.failures.isEmpty }
                let totals = complete.compactMap(\.totalPSSBytes).map { Double($0) }
                return ScalingLevel(
                    side: side, level: level, allReady: allReady,
                    launchRate: allReady.summary.map { Double(level) / $0.median },
                    totalPSS: MeasuredFigure(unit: .bytes, values: totals, bootstrap: bootstrap),
                    pssPerInstance: MeasuredFigure(
                        unit: .bytes, values: totals.map { $0 / Double(level) }, bootstrap: bootstrap),
                    failedInstances: own.map(\.failures.count).reduce(0, +), instances: own.count * level)
            }
        }
    }
}

// MARK: Size

/// One file or tree of an artifact, with its bytes as shipped and gzipped.
public struct ArtifactPart: Sendable, Codable, Equatable {
    public var name: String
    public var path: String
    public var bytes: UInt64
    public var gzipBytes: UInt64

    public init(name: String, path: String, bytes: UInt64, gzipBytes: UInt64) {
        self.name = name
        self.path = path
        self.bytes = bytes
        self.gzipBytes = gzipBytes
    }
}

/// What one side ships: the VM's kernel and initramfs, the container's rootfs.
public struct Artifact: Sendable, Codable, Equatable {
    public var side: String
    public var parts: [ArtifactPart]

    public init(side: String, parts: [ArtifactPart]) {
        self.side = side
        self.parts = parts
    }

    public var bytes: UInt64 { parts.map(\.bytes).reduce(0, +) }
    public var gzipBytes: UInt64 { parts.map(\.gzipBytes).reduce(0, +) }
}

/// Something a host must provide to run one side, and whether this host does.
public struct HostRequirement: Sendable, Codable, Equatable {
    public var side: String
    public var requirement: String
    public var presentHere: Bool
    /// What mvm found on this host.
    public var found: String

    public init(side: String, requirement: String, presentHere: Bool, found: String) {
        self.side = side
        self.requirement = requirement
        self.presentHere = presentHere
        self.found = found
    }
}

public struct SizeResult: Sendable, Codable, Equatable {
    public var artifacts: [Artifact]
    public var requirements: [HostRequirement]

    public init(artifacts: [Artifact], requirements: [HostRequirement]) {
        self.artifacts = artifacts
        self.requirements = requirements
    }
}

// MARK: Teardown

/// One instance's teardown: from the stop request until `stop()` returned,
/// and until every host resource it held was gone.
public struct TeardownRunSample: Sendable, Codable, Equatable {
    public var side: String
    public var run: Int
    public var warmup: Bool
    public var stopReturnedSeconds: Double?
    /// Until the last resource was released; nil when one outlived the limit.
    public var releasedSeconds: Double?
    /// When each kind of resource (process, cgroup, domain, socket...) was
    /// seen released, in seconds from the stop request.
    public var releasedByKind: [String: Double]
    /// What was still held when mvm stopped looking.
    public var lingering: [String]
    public var failure: String?

    /// The `releasedByKind` key of the moment the last process died (became
    /// a zombie), as opposed to `process`: when its parent reaped it.
    public static let processDeadKind = "process-dead"

    public init(
        side: String, run: Int, warmup: Bool, stopReturnedSeconds: Double?, releasedSeconds: Double?,
        releasedByKind: [String: Double], lingering: [String], failure: String?
    ) {
        self.side = side
        self.run = run
        self.warmup = warmup
        self.stopReturnedSeconds = stopReturnedSeconds
        self.releasedSeconds = releasedSeconds
        self.releasedByKind = releasedByKind
        self.lingering = lingering
        self.failure = failure
    }
}

/// One side's teardown over its runs.
public struct TeardownFigure: Sendable, Codable, Equatable {
    public var side: String
    public var stopReturned: MeasuredFigure
    public var released: MeasuredFigure
    /// Per resource kind, when it was released.
    public var releasedByKind: [String: MeasuredFigure]
    public var failures: [String]
}

public struct TeardownResult: Sendable, Codable, Equatable {
    public var sides: [String]
    public var runs: Int
    public var samples: [TeardownRunSample]
    public var figures: [TeardownFigure]

    public init(sides: [String], runs: Int, samples: [TeardownRunSample], bootstrap: BootstrapSettings = .default) {
        self.sides = sides
        self.runs = runs
        self.samples = samples
        let measured = samples.filter { !$0.warmup }
        figures = sides.map { side in
            let own = measured.filter { $0.side == side }
            let good = own.filter { $0.failure == nil }
            let kinds = Set(good.flatMap(\.releasedByKind.keys)).sorted()
            return TeardownFigure(
                side: side,
                stopReturned: MeasuredFigure(
                    unit: .seconds, values: good.compactMap(\.stopReturnedSeconds), bootstrap: bootstrap),
                released: MeasuredFigure(
                    unit: .seconds, values: good.compactMap(\.releasedSeconds), bootstrap: bootstrap),
                releasedByKind: Dictionary(
                    uniqueKeysWithValues: kinds.map { kind in
                        (
                            kind,
                            MeasuredFigure(
                                unit: .seconds, values: good.compactMap { $0.releasedByKind[kind] },
                                bootstrap: bootstrap)
                        )
                    }),
                failures: own.compactMap { sample in
                    sample.failure
                        ?? (sample.releasedSeconds == nil
                            ? "still held: " + sample.lingering.joined(separator: ", ") : nil)
                })
        }
    }
}
