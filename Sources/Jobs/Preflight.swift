import Foundation
import History
import MVMCore

/// The host's state at one moment, as the pre-flight check reads it from
/// /proc: load, CPU time (for steal), clock and the processes that would
/// disturb a measurement.
struct HostSnapshot: Sendable {
    var loadAverage: Double
    /// From /proc/stat's "cpu" line: all jiffies, and the stolen ones.
    var totalJiffies: UInt64
    var stealJiffies: UInt64
    var cpuMHz: Double?
    var bogomips: Double?
    /// "qemu-system-x86 (pid 1234)": another mvm, QEMU or OCI runtime.
    var intruders: [String]

    static func take() -> HostSnapshot {
        let load = readSmallFile("/proc/loadavg")?.split(separator: " ").first.flatMap { Double($0) } ?? 0
        let cpuLine = readSmallFile("/proc/stat")?.split(separator: "\n").first { $0.hasPrefix("cpu ") }
        let jiffies = cpuLine?.split(separator: " ").dropFirst().compactMap { UInt64($0) } ?? []
        // user nice system idle iowait irq softirq steal [guest guest_nice]:
        // guest time is already counted in user, so only the first eight add up.
        let total = jiffies.prefix(8).reduce(0, +)
        let steal = jiffies.count > 7 ? jiffies[7] : 0
        let cpuinfo = readSmallFile("/proc/cpuinfo") ?? ""
        func field(_ name: String) -> Double? {
            cpuinfo.split(separator: "\n").first { $0.hasPrefix(name) }
                .flatMap { $0.split(separator: ":", maxSplits: 1).last }
                .flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        }
        return HostSnapshot(
            loadAverage: load, totalJiffies: total, stealJiffies: steal, cpuMHz: field("cpu MHz"),
            bogomips: field("bogomips"),
            intruders: findIntruders())
    }

    /// Processes that would share the host with the measurement: another
    /// mvm, a QEMU, an OCI runtime. This process and its descendants are
    /// not intruders.
    static func findIntruders(ownPID: Int32 = getpid()) -> [String] {
        let table = ProcessTable()
        return table.names.keys.sorted().compactMap { pid in
            // mvm's own reaper (OrphanReaper) is this process's parent.
            guard let name = table.names[pid], isMeasurementProcess(name), !table.descends(pid, from: ownPID),
                pid != getppid()
            else {
                return nil
            }
            return "\(name) (pid \(pid))"
        }
    }

    static func isMeasurementProcess(_ name: String) -> Bool {
        name == "mvm" || name.hasPrefix("qemu-system-") || name == "runc" || name == "crun" || name.hasPrefix("runc:[")
    }
}

extension HostConditions {
    init(start: HostSnapshot, end: HostSnapshot) {
        let total = end.totalJiffies &- start.totalJiffies
        let steal = end.stealJiffies &- start.stealJiffies
        var intruders = start.intruders
        for intruder in end.intruders where !intruders.contains(intruder) { intruders.append(intruder) }
        self.init(
            loadAverageAtStart: start.loadAverage, loadAverageAtEnd: end.loadAverage,
            stealFraction: total > 0 && steal <= total ? Double(steal) / Double(total) : 0, cpuMHz: start.cpuMHz,
            bogomips: start.bogomips, intruders: intruders)
    }
}
