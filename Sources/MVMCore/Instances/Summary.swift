import Foundation

/// What `mvm boot` and `mvm run` report about one instance, for people and
/// for JSON: the same phases, facts and memory for every kind of instance.
public protocol InstanceReport: Encodable, Sendable {
    var requestedAt: Date { get }
    var phases: [PhaseMark] { get }
    var guest: GuestFacts? { get }
    var footprint: [String: UInt64] { get }
}

extension InstanceReport {
    public func jsonText() throws -> String {
        String(decoding: try mvmJSONData(self), as: UTF8.self)
    }

    /// The report for people: `title`, `details`, then phases, guest facts
    /// and memory.
    package func render(title: String, details: [(label: String, value: String)]) -> String {
        InstanceSummary(
            title: title, details: details,
            boot: BootRecord(timeline: BootTimeline(marks: phases), facts: guest, requestedAt: requestedAt),
            footprint: Footprint(orderedFrom: footprint)
        ).render()
    }
}

/// Renders one instance's boot for people: phases with their offsets, what
/// the workload reported, and the memory readings. Same shape for every kind
/// of instance, so `mvm boot` and `mvm run` read alike.
package struct InstanceSummary: Sendable {
    package var title: String
    /// Extra lines under the title ("accelerator  tcg: /dev/kvm ...").
    package var details: [(label: String, value: String)]
    package var boot: BootRecord
    package var footprint: Footprint

    package init(title: String, details: [(label: String, value: String)], boot: BootRecord, footprint: Footprint) {
        self.title = title
        self.details = details
        self.boot = boot
        self.footprint = footprint
    }

    package func render() -> String {
        var rows: [(String, String)] = details.map { ($0.label, $0.value) }
        for mark in boot.timeline.marks where mark.phase != .request {
            rows.append((mark.phase.name, formatMilliseconds(mark.offset)))
        }
        if let facts = boot.facts {
            rows.append(
                (
                    "guest",
                    "kernel \(facts.kernelRelease), uptime \(facts.uptimeSeconds) s, \(facts.cpus) CPU\(facts.cpus == 1 ? "" : "s"), "
                        + "MemTotal \(formatBytes(facts.memTotalKiB * 1024)), MemAvailable \(formatBytes(facts.memAvailableKiB * 1024))"
                ))
        } else {
            rows.append(("guest", "not reported: the readiness line was not mvm's (--ready-line)"))
        }
        rows.append(
            ("memory", footprint.readings.map { "\($0.metric.name) \(formatBytes($0.bytes))" }.joined(separator: ", ")))
        let width = rows.map(\.0.count).max() ?? 0
        let body = rows.map { "  " + $0.0.paddedRight(to: width) + "  " + $0.1 }
        return ([title] + body).joined(separator: "\n")
    }
}

/// "1043.2 ms"
package func formatMilliseconds(_ duration: Duration) -> String {
    formatDecimal(duration.milliseconds, places: 1) + " ms"
}

/// "85.1 MiB"
package func formatBytes(_ bytes: UInt64) -> String {
    let mebibytes = Double(bytes) / 1_048_576
    if mebibytes >= 1 { return formatDecimal(mebibytes, places: 1) + " MiB" }
    return formatDecimal(Double(bytes) / 1024, places: 1) + " KiB"
}

/// A fixed-point decimal without Foundation's locale-dependent formatting.
package func formatDecimal(_ value: Double, places: Int) -> String {
    guard value.isFinite else { return String(value) }
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    let whole = Int64(scaled / scale)
    let fraction = Int64(scaled - Double(whole) * scale)
    let sign = value < 0 && scaled != 0 ? "-" : ""
    guard places > 0 else { return sign + String(whole) }
    let digits = String(fraction)
    return sign + String(whole) + "." + String(repeating: "0", count: places - digits.count) + digits
}

extension String {
    /// The string followed by spaces up to `length` characters.
    package func paddedRight(to length: Int) -> String {
        count >= length ? self : self + String(repeating: " ", count: length - count)
    }
}
