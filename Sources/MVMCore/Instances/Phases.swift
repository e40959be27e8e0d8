import Foundation

/// A named moment in an instance's start-up. Phases that mean the same thing
/// for a micro-VM and a container carry the same name, so reports can put
/// them side by side.
public struct Phase: Hashable, Sendable, Codable, CustomStringConvertible {
    public let name: String

    public init(_ name: String) {
        self.name = name
    }

    public init(from decoder: any Decoder) throws {
        name = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }

    public var description: String { name }
}

extension Phase {
    /// Time zero: the caller asked for the instance.
    public static let request = Phase("request")
    /// The runtime has set the instance up but not started its workload
    /// (a container after `create`; a VM has no such separate step).
    public static let created = Phase("created")
    /// The workload runs: QEMU is up and its vCPUs run, or the container's
    /// init was started.
    public static let started = Phase("started")
    /// The reference rows only: the plain QEMU or `runc run` process was
    /// started (it has no separate created/started steps mvm can see).
    public static let spawned = Phase("spawned")
    /// A VM started paused (to attach a libvirt console stream first) was
    /// resumed: its vCPUs run from here.
    public static let resumed = Phase("resumed")
    /// The first byte the workload wrote to its console or stdout.
    public static let firstOutput = Phase("first-output")
    /// The workload printed its readiness line.
    public static let ready = Phase("ready")
}

/// When a phase was reached, as an offset from the request.
public struct PhaseMark: Sendable, Codable, Hashable {
    public var phase: Phase
    public var offset: Duration

    public init(phase: Phase, offset: Duration) {
        self.phase = phase
        self.offset = offset
    }

    enum CodingKeys: String, CodingKey {
        case phase
        case seconds
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        phase = try container.decode(Phase.self, forKey: .phase)
        offset = .seconds(try container.decode(Double.self, forKey: .seconds))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(phase, forKey: .phase)
        try container.encode(offset.seconds, forKey: .seconds)
    }
}

/// The phases one start went through, in the order they were reached, all
/// measured on one monotonic clock from the request.
public struct BootTimeline: Sendable, Codable, Hashable {
    public private(set) var marks: [PhaseMark]

    public init(marks: [PhaseMark] = [PhaseMark(phase: .request, offset: .zero)]) {
        self.marks = marks
    }

    public func offset(of phase: Phase) -> Duration? {
        marks.first { $0.phase == phase }?.offset
    }

    /// True when every phase was reached no earlier than the one before it.
    public var isOrdered: Bool {
        zip(marks, marks.dropFirst()).allSatisfy { $0.offset <= $1.offset }
    }

    public mutating func append(_ phase: Phase, at offset: Duration) {
        marks.append(PhaseMark(phase: phase, offset: offset))
    }

    /// Adds a phase seen apart from the others (by a watcher) where its
    /// offset puts it, after any phase of the same offset.
    public mutating func insert(_ phase: Phase, at offset: Duration) {
        let index = marks.firstIndex { $0.offset > offset } ?? marks.endIndex
        marks.insert(PhaseMark(phase: phase, offset: offset), at: index)
    }
}

/// Measures phase offsets on the monotonic clock, from the moment it was made.
public struct PhaseStopwatch: Sendable {
    private let clock = ContinuousClock()
    public let origin: ContinuousClock.Instant
    /// The wall-clock time at the origin, for reports.
    public let wallClockOrigin: Date

    public init() {
        origin = clock.now
        wallClockOrigin = Date()
    }

    public func elapsed() -> Duration {
        clock.now - origin
    }

    public func offset(of instant: ContinuousClock.Instant) -> Duration {
        instant - origin
    }
}

extension Duration {
    /// The duration as floating-point seconds (reports and JSON use seconds).
    public var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    /// The duration as floating-point milliseconds.
    public var milliseconds: Double { seconds * 1000 }
}

/// "8 s", "2.5 s": a timeout as messages name it.
package func formatSeconds(_ duration: Duration) -> String {
    let seconds = duration.seconds
    return seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
}
