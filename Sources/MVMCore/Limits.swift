/// A limit that was asked for and cannot be given, in one line that names
/// the option, what is wrong, and what would do.
public struct LimitViolation: Error, CustomStringConvertible, Equatable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// What a VM and its equivalent container are given alike: memory (the
/// guest's RAM, the container's limit), CPUs (vCPUs, the container's quota
/// and cpuset) and how long the workload may take to become ready. Checked
/// here, once, for `mvm boot`, `mvm run` and `mvm compare` alike.
public struct InstanceLimits: Sendable, Hashable {
    public var memoryMiB: Int
    public var vcpus: Int
    public var timeout: Duration

    public init(memoryMiB: Int = 128, vcpus: Int = 1, timeout: Duration = .seconds(60)) {
        self.memoryMiB = memoryMiB
        self.vcpus = vcpus
        self.timeout = timeout
    }

    /// The least memory mvm's guest kernel boots its initramfs in; the
    /// container gets the same, so that both sides are asked for alike.
    public static let minimumMemoryMiB = 16
    /// The longest wait for readiness mvm accepts: a day.
    public static let maximumTimeoutSeconds = 86_400.0

    /// Limits from command-line values, checked.
    public static func checked(
        memoryMiB: Int, vcpus: Int, timeoutSeconds: Double, host: HostFacts = .probe(), instancesAtOnce: Int = 1
    ) throws(LimitViolation) -> InstanceLimits {
        guard timeoutSeconds > 0, timeoutSeconds <= maximumTimeoutSeconds else {
            throw LimitViolation(
                "--timeout \(timeoutSeconds) is invalid: give a positive number of seconds, at most \(Int(maximumTimeoutSeconds))")
        }
        let limits = InstanceLimits(
            memoryMiB: memoryMiB, vcpus: vcpus, timeout: .milliseconds(Int64((timeoutSeconds * 1000).rounded())))
        try limits.check(host: host, instancesAtOnce: instancesAtOnce)
        return limits
    }

    /// Checks the limits against this host, for `instancesAtOnce` instances
    /// that run together (`--concurrency`).
    public func check(host: HostFacts = .probe(), instancesAtOnce: Int = 1) throws(LimitViolation) {
        guard memoryMiB > 0 else {
            throw LimitViolation("--memory \(memoryMiB) is invalid: give a size in MiB, at least \(Self.minimumMemoryMiB)")
        }
        guard memoryMiB >= Self.minimumMemoryMiB else {
            throw LimitViolation("--memory \(memoryMiB) is too small: a guest needs at least \(Self.minimumMemoryMiB) MiB")
        }
        let hostMiB = Int(host.memoryBytes / 1_048_576)
        let (total, overflow) = memoryMiB.multipliedReportingOverflow(by: max(1, instancesAtOnce))
        if host.memoryBytes > 0 && (overflow || total > hostMiB) {
            let asked = instancesAtOnce > 1 ? "--memory \(memoryMiB) times --concurrency \(instancesAtOnce)" : "--memory \(memoryMiB)"
            throw LimitViolation(
                "\(asked) is more than this host's memory (\(hostMiB) MiB): ask for at most \(hostMiB / max(1, instancesAtOnce)) MiB")
        }
        let cores = max(1, host.cores)
        guard vcpus >= 1 else {
            throw LimitViolation("--vcpus \(vcpus) is invalid: use 1 to \(cores)")
        }
        guard vcpus <= cores else {
            throw LimitViolation("--vcpus \(vcpus) is more than this host's \(cores) CPUs: use 1 to \(cores)")
        }
        guard timeout > .zero else {
            throw LimitViolation("--timeout must be a positive number of seconds")
        }
    }
}
