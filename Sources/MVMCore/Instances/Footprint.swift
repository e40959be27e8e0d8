/// One memory figure of a running instance, in bytes.
public struct MemoryReading: Sendable, Hashable {
    public var metric: Metric
    public var bytes: UInt64

    public init(_ metric: Metric, bytes: UInt64) {
        self.metric = metric
        self.bytes = bytes
    }
}

/// What an instance costs in memory, read once while it is idle and ready.
public struct Footprint: Sendable, Hashable {
    public var readings: [MemoryReading]

    public init(readings: [MemoryReading]) {
        self.readings = readings
    }

    public subscript(metric: Metric) -> UInt64? {
        readings.first { $0.metric == metric }?.bytes
    }

    /// The readings by name, as reports write them (the first of a name wins).
    public var bytesByName: [String: UInt64] {
        Dictionary(readings.map { ($0.metric.name, $0.bytes) }, uniquingKeysWith: { first, _ in first })
    }

    /// The readings of a name-to-bytes dictionary (JSON has no order) in
    /// mvm's usual order: pss, rss, then the kind-specific ones by name.
    public init(orderedFrom readings: [String: UInt64]) {
        let order = [Metric.pss.name, Metric.rss.name]
        let rank = { (name: String) in order.firstIndex(of: name) ?? order.count }
        self.init(
            readings: readings.sorted { (rank($0.key), $0.key) < (rank($1.key), $1.key) }.map {
                MemoryReading(Metric($0.key, unit: .bytes), bytes: $0.value)
            })
    }

    /// PSS and RSS of one process (QEMU), plus what the workload's kernel
    /// counts as used, when its readiness line said.
    package init(process memory: ProcessMemory, guestUsedBytes: UInt64?) {
        self.init(
            readings: [
                MemoryReading(.pss, bytes: memory.pssBytes),
                MemoryReading(.rss, bytes: memory.rssBytes),
            ] + (guestUsedBytes.map { [MemoryReading(.guestUsed, bytes: $0)] } ?? []))
    }
}
