import Compare
import MVMCore

/// What `--dimensions` measures beyond boot, and how much of it.
public struct DimensionSettings: Sendable, Equatable {
    /// In report order; `boot` is the usual interleaved comparison.
    public var dimensions: [ComparisonDimension] = [.boot]
    /// Workload runs per side (after one warm-up run each).
    public var workloadRuns = 5
    public var workloads: [WorkloadKind] = WorkloadKind.allCases
    /// Data the cpu workload hashes, and the memory workload clears and copies.
    public var cpuMiB = 16
    public var memoryMiB = 256
    /// Bytes (in KiB) the syscalls workload copies one at a time, and the
    /// files the metadata workload makes.
    public var syscallKiB = 200
    public var metadataFiles = 2000
    /// Concurrency levels of the scaling sweep (`--sweep`), ascending.
    public var sweep = [1, 2, 4, 8, 16]
    public var sweepRuns = 2
    /// A side's sweep stops once a level's summed PSS passes this.
    public var sweepMemoryCapMiB: Int?
    /// Teardown runs per side (after one warm-up run each).
    public var teardownRuns = 5

    public init() {}

    public func includes(_ dimension: ComparisonDimension) -> Bool { dimensions.contains(dimension) }

    /// Every number checked before anything starts, one line per problem.
    public func check() throws(LimitViolation) {
        guard (1...1000).contains(workloadRuns) else {
            throw LimitViolation(.workloadRuns, workloadRuns, "is invalid: use 1 to 1000")
        }
        guard (1...4096).contains(cpuMiB), (4...4096).contains(memoryMiB) else {
            throw LimitViolation(
                .workloadSizes, "\(cpuMiB) and \(memoryMiB) MiB",
                "are invalid: use 1 to 4096 MiB for cpu and 4 to 4096 MiB for memory")
        }
        guard !sweep.isEmpty, sweep.allSatisfy({ (1...ComparisonPlan.maximumConcurrency).contains($0) }),
            sweep == sweep.sorted(), Set(sweep).count == sweep.count
        else {
            throw LimitViolation(
                .sweep, sweep.map(String.init).joined(separator: ","),
                "is invalid: give ascending, distinct levels from 1 to \(ComparisonPlan.maximumConcurrency), e.g. 1,2,4,8,16"
            )
        }
        guard (1...100).contains(sweepRuns) else {
            throw LimitViolation(.sweepRuns, sweepRuns, "is invalid: use 1 to 100")
        }
        if let cap = sweepMemoryCapMiB, cap < 1 {
            throw LimitViolation(.sweepMemoryCap, cap, "is invalid: give a positive number of MiB")
        }
        guard (1...1000).contains(teardownRuns) else {
            throw LimitViolation(.teardownRuns, teardownRuns, "is invalid: use 1 to 1000")
        }
    }

    /// `1,2,4` as levels.
    public static func parseSweep(_ text: String) throws(LimitViolation) -> [Int] {
        var levels: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let level = Int(part) else {
                throw LimitViolation(
                    .sweep, text.debugDescription, "is invalid: give levels separated by commas, e.g. 1,2,4,8,16")
            }
            levels.append(level)
        }
        return levels
    }
}

/// The workloads every side runs: the guest tree's /init runs them when
/// given `mvm_workload=`.
public enum WorkloadKind: String, Sendable, CaseIterable {
    case cpu
    case memory
    /// Bound by system calls: where a sandbox that takes each one in a
    /// kernel of its own pays.
    case syscalls
    case metadata

    func description(_ settings: DimensionSettings) -> String {
        switch self {
        case .cpu: "SHA-256 of \(settings.cpuMiB) MiB of zeros (busybox sha256sum, fed by dd through a pipe)"
        case .memory:
            "\(settings.memoryMiB) MiB cleared into a 4 MiB buffer (dd from /dev/zero to /dev/null), then \(settings.memoryMiB) MiB copied through a pipe"
        case .syscalls:
            "\(settings.syscallKiB) KiB copied one byte at a time (dd bs=1: \(settings.syscallKiB * 2048) reads and writes)"
        case .metadata:
            "\(settings.metadataFiles) files created and checked in a tmpfs by the shell's builtins, then removed"
        }
    }
}
