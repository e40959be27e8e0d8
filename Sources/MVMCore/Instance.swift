import Foundation

/// One memory figure of a running instance, under a stable name
/// (see `MemoryReading.Name`), in bytes.
public struct MemoryReading: Sendable, Codable, Hashable {
    public var name: String
    public var bytes: UInt64

    public init(name: String, bytes: UInt64) {
        self.name = name
        self.bytes = bytes
    }

    public enum Name {
        /// Proportional set size of the processes that make the instance.
        public static let pss = "pss"
        /// Resident set size of those processes.
        public static let rss = "rss"
        /// MemTotal - MemAvailable as the workload's kernel sees it.
        public static let guestUsed = "guest-used"
        /// What the instance's cgroup charges (containers).
        public static let cgroupUsage = "cgroup-usage"
    }
}

/// What an instance costs in memory, read once while it is idle and ready.
public struct Footprint: Sendable, Codable, Hashable {
    public var readings: [MemoryReading]

    public init(readings: [MemoryReading]) {
        self.readings = readings
    }

    public subscript(name: String) -> UInt64? {
        readings.first { $0.name == name }?.bytes
    }
}

/// What one start of an instance went through and what its workload reported.
public struct BootRecord: Sendable, Codable, Hashable {
    public var timeline: BootTimeline
    public var facts: GuestFacts
    /// Wall-clock time of the request; the timeline's offsets count from it.
    public var requestedAt: Date

    public init(timeline: BootTimeline, facts: GuestFacts, requestedAt: Date) {
        self.timeline = timeline
        self.facts = facts
        self.requestedAt = requestedAt
    }
}

/// An instance whose workload has printed its readiness line.
///
/// Every implementation guarantees: `boot` is complete (its timeline starts at
/// `.request` and ends at `.ready`, in order); `footprint()` reads live
/// figures of this instance only (found through the runtime's own state, never
/// by a process-name search); `stop()` removes everything the instance made
/// (processes, runtime state, files) and may be called more than once.
public protocol RunningInstance: AnyObject, Sendable {
    /// "vm", "container", ...: what kind of instance this is.
    var kind: String { get }
    /// The runtime's name for this instance (domain name, container id).
    var name: String { get }
    var boot: BootRecord { get }
    func footprint() async throws -> Footprint
    func stop() async throws
}

/// Starts instances of one configuration.
///
/// Every implementation guarantees: when `launch()` throws, nothing it made
/// is left behind.
public protocol InstanceLauncher: Sendable {
    var kind: String { get }
    func launch() async throws -> any RunningInstance
}

extension Footprint {
    /// The readings by name, as reports write them (the first of a name wins).
    public var bytesByName: [String: UInt64] {
        Dictionary(readings.map { ($0.name, $0.bytes) }, uniquingKeysWith: { first, _ in first })
    }

    /// The readings of a name-to-bytes dictionary (JSON has no order) in
    /// mvm's usual order: pss, rss, then the kind-specific ones by name.
    public init(orderedFrom readings: [String: UInt64]) {
        let order = [MemoryReading.Name.pss, MemoryReading.Name.rss]
        let rank = { (name: String) in order.firstIndex(of: name) ?? order.count }
        self.init(readings: readings.sorted { (rank($0.key), $0.key) < (rank($1.key), $1.key) }.map {
            MemoryReading(name: $0.key, bytes: $0.value)
        })
    }
}

/// JSON as mvm writes it everywhere: pretty, keys sorted, ISO 8601 dates.
public func mvmJSONData<Value: Encodable>(_ value: Value) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    return try encoder.encode(value)
}
