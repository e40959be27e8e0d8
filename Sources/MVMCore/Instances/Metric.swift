/// What a metric measures in.
public enum MetricUnit: String, Sendable, Codable {
    case seconds
    case bytes
}

/// A named figure that reports show, with its unit: a phase offset, a
/// whole-run time, or a memory reading. Like `Phase`, a metric that means
/// the same thing for every kind of instance carries the same name, so that
/// reports can put instances side by side.
public struct Metric: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public let unit: MetricUnit

    public init(_ name: String, unit: MetricUnit) {
        self.name = name
        self.unit = unit
    }

    /// The offset of a phase from the request.
    public init(_ phase: Phase) {
        self.init(phase.name, unit: .seconds)
    }

    public var description: String { name }
}

extension Metric {
    public static let created = Metric(.created)
    public static let started = Metric(.started)
    public static let spawned = Metric(.spawned)
    public static let firstOutput = Metric(.firstOutput)
    public static let ready = Metric(.ready)
    /// With several instances started at once: from the start of the batch
    /// until every instance of it was ready.
    public static let allReady = Metric("all-ready", unit: .seconds)
    /// Proportional set size of the processes that make the instance.
    public static let pss = Metric("pss", unit: .bytes)
    /// Resident set size of those processes.
    public static let rss = Metric("rss", unit: .bytes)
    /// MemTotal - MemAvailable as the workload's kernel sees it.
    public static let guestUsed = Metric("guest-used", unit: .bytes)
    /// What the instance's cgroup is charged (containers).
    public static let cgroupUsage = Metric("cgroup-usage", unit: .bytes)
    /// PSS of the process an engine keeps beside one container to watch it
    /// (Podman's conmon, Docker's containerd-shim; already within `pss`).
    public static let monitorPSS = Metric("monitor-pss", unit: .bytes)
    /// PSS of the daemons an engine shares among all its containers
    /// (dockerd and containerd): never added to an instance's `pss`.
    public static let daemonPSS = Metric("daemon-pss", unit: .bytes)
}
