/// A setting of an instance or of a comparison, named by what it is: a
/// library error names the setting, and a front end (the CLI) says how its
/// user spells it.
public enum Setting: String, Sendable, CaseIterable {
    case memory
    case vcpus
    case timeout
    case runs
    case warmup
    case concurrency
    case dimensions
    case workloadRuns = "workload runs"
    case workloadSizes = "workload sizes"
    case sweep
    case sweepRuns = "sweep runs"
    case sweepMemoryCap = "sweep memory cap"
    case teardownRuns = "teardown runs"
}

/// A limit that was asked for and cannot be given, in one line that names
/// the setting and its value, what is wrong, and what would do.
public struct LimitViolation: Error, CustomStringConvertible, Equatable {
    /// What was asked for: one setting and its value, or several that only
    /// together do not fit (memory times concurrency).
    public var given: [Given]
    /// What is wrong and what would do ("is invalid: use 1 to 10000").
    public var problem: String

    public struct Given: Sendable, Equatable {
        public var setting: Setting
        public var value: String
    }

    public init(_ setting: Setting, _ value: some CustomStringConvertible, _ problem: String) {
        given = [Given(setting: setting, value: value.description)]
        self.problem = problem
    }

    public init(_ given: [(Setting, String)], _ problem: String) {
        self.given = given.map { Given(setting: $0.0, value: $0.1) }
        self.problem = problem
    }

    /// The line, with each setting named as `name` spells it.
    public func description(naming name: (Setting) -> String) -> String {
        given.map { "\(name($0.setting)) \($0.value)" }.joined(separator: " times ") + " " + problem
    }

    public var description: String { description { $0.rawValue } }
}

/// What a VM and its equivalent container are given alike: memory (the
/// guest's RAM, the container's limit), CPUs (vCPUs, the container's quota
/// and cpuset) and how long the workload may take to become ready. Made only
/// by `checked`, against the host the instances run on, so that whoever
/// holds one can trust it.
public struct InstanceLimits: Sendable, Hashable {
    public let memoryMiB: Int
    public let vcpus: Int
    public let timeout: Duration

    /// 128 MiB, one vCPU, a minute: what mvm asks for unless told
    /// otherwise, and what fits any host that can run a guest at all.
    public static let standard = InstanceLimits(memoryMiB: 128, vcpus: 1, timeout: .seconds(60))

    /// The least memory mvm's guest kernel boots its initramfs in; the
    /// container gets the same, so that both sides are asked for alike.
    public static let minimumMemoryMiB = 16
    /// The longest wait for readiness mvm accepts: a day.
    public static let maximumTimeoutSeconds = 86_400.0

    /// Limits checked against `host` for `instancesAtOnce` instances that
    /// run together (`concurrency`).
    public static func checked(
        memoryMiB: Int, vcpus: Int, timeoutSeconds: Double, host: HostFacts, instancesAtOnce: Int = 1
    ) throws(LimitViolation) -> InstanceLimits {
        guard timeoutSeconds > 0, timeoutSeconds <= maximumTimeoutSeconds else {
            throw LimitViolation(
                .timeout, timeoutSeconds,
                "is invalid: give a positive number of seconds, at most \(Int(maximumTimeoutSeconds))")
        }
        guard memoryMiB > 0 else {
            throw LimitViolation(.memory, memoryMiB, "is invalid: give a size in MiB, at least \(minimumMemoryMiB)")
        }
        guard memoryMiB >= minimumMemoryMiB else {
            throw LimitViolation(.memory, memoryMiB, "is too small: a guest needs at least \(minimumMemoryMiB) MiB")
        }
        let limits = InstanceLimits(
            memoryMiB: memoryMiB, vcpus: vcpus, timeout: .milliseconds(Int64((timeoutSeconds * 1000).rounded())))
        try limits.checkFits(host, instancesAtOnce: instancesAtOnce)
        return limits
    }

    /// Checks that `instancesAtOnce` instances of these limits fit `host`:
    /// for a remote host, whose size is known only once connected.
    public func checkFits(_ host: HostFacts, instancesAtOnce: Int = 1) throws(LimitViolation) {
        if max(1, instancesAtOnce) > instancesThatFit(host) {
            let hostMiB = Int(host.memoryBytes / 1_048_576)
            var given: [(Setting, String)] = [(.memory, "\(memoryMiB)")]
            if instancesAtOnce > 1 { given.append((.concurrency, "\(instancesAtOnce)")) }
            throw LimitViolation(
                given,
                "is more than this host's memory (\(hostMiB) MiB): ask for at most \(hostMiB / max(1, instancesAtOnce)) MiB"
            )
        }
        let cores = max(1, host.cores)
        guard vcpus >= 1 else {
            throw LimitViolation(.vcpus, vcpus, "is invalid: use 1 to \(cores)")
        }
        guard vcpus <= cores else {
            throw LimitViolation(.vcpus, vcpus, "is more than this host's \(cores) CPUs: use 1 to \(cores)")
        }
    }

    /// How many instances of these limits fit `host`'s memory together.
    public func instancesThatFit(_ host: HostFacts) -> Int {
        host.memoryBytes == 0 ? Int.max : Int(host.memoryBytes / 1_048_576) / max(1, memoryMiB)
    }
}
