import MVMCore

// MARK: Isolation

/// One aspect of isolation (kernel, namespaces, capabilities...) as each
/// side showed it at run time.
public struct IsolationAspect: Sendable, Codable, Equatable {
    public var name: String
    /// By side name (`vm`, `container`); a side the aspect does not apply to
    /// has a value that says why.
    public var values: [String: String]

    public init(name: String, values: [String: String]) {
        self.name = name
        self.values = values
    }
}

public struct IsolationResult: Sendable, Codable, Equatable {
    /// Side names in report order.
    public var sides: [String]
    public var aspects: [IsolationAspect]
    /// Every raw observation by side: what the workload printed on
    /// `mvm-fact` lines, and what mvm read from the domain, QEMU and /proc.
    public var observations: [String: [String: String]]
    public var failures: [String: String]

    public init(
        sides: [String], aspects: [IsolationAspect], observations: [String: [String: String]],
        failures: [String: String]
    ) {
        self.sides = sides
        self.aspects = aspects
        self.observations = observations
        self.failures = failures
    }
}

// MARK: Workload

/// One run of one side's workloads.
public struct WorkloadSample: Sendable, Codable, Equatable {
    public var side: String
    public var run: Int
    public var warmup: Bool
    /// Seconds between the workload's begin and end marks, by workload.
    public var seconds: [String: Double]
    public var failure: String?

    public init(side: String, run: Int, warmup: Bool, seconds: [String: Double], failure: String?) {
        self.side = side
        self.run = run
        self.warmup = warmup
        self.seconds = seconds
        self.failure = failure
    }
}

/// One workload on one side: its durations and their ratio to the host's.
public struct WorkloadFigure: Sendable, Codable, Equatable {
    public var side: String
    public var workload: String
    public var duration: MeasuredFigure
    /// Median of this side over median of the host, with its bootstrap
    /// interval; nil for the host itself.
    public var ratioToHost: MedianRatio?

    public init(side: String, workload: String, duration: MeasuredFigure, ratioToHost: MedianRatio?) {
        self.side = side
        self.workload = workload
        self.duration = duration
        self.ratioToHost = ratioToHost
    }
}

public struct WorkloadResult: Sendable, Codable, Equatable {
    public static let hostSide = "host"

    /// Workload names in order, and what each does.
    public var workloads: [String]
    public var descriptions: [String: String]
    /// Sides in report order; the last is `host`.
    public var sides: [String]
    public var runs: Int
    public var samples: [WorkloadSample]
    public var figures: [WorkloadFigure]
    public var caveats: [String]

    public init(
        workloads: [String], descriptions: [String: String], sides: [String], runs: Int, samples: [WorkloadSample],
        caveats: [String], bootstrap: BootstrapSettings = .default
    ) {
        self.workloads = workloads
        self.descriptions = descriptions
        self.sides = sides
        self.runs = runs
        self.samples = samples
        self.caveats = caveats
        let measured = samples.filter { !$0.warmup && $0.failure == nil }
        func values(_ side: String, _ workload: String) -> [Double] {
            measured.filter { $0.side == side }.compactMap { $0.seconds[workload] }
        }
        figures = workloads.flatMap { workload in
            sides.map { side in
                let own = values(side, workload)
                let ratio =
                    side == Self.hostSide
                    ? nil
                    : MedianRatio(numerator: own, denominator: values(Self.hostSide, workload), bootstrap: bootstrap)
                return WorkloadFigure(
                    side: side, workload: workload,
                    duration: MeasuredFigure(unit: .seconds, values: own, bootstrap: bootstrap),
                    ratioToHost: ratio)
            }
        }
    }

    public func figure(side: String, workload: String) -> WorkloadFigure? {
        figures.first { $0.side == side && $0.workload == workload }
    }

    public func failures(of side: String) -> [String] {
        samples.filter { $0.side == side && !$0.warmup }.compactMap(\.failure)
    }
}
