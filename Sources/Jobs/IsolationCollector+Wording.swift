import Compare
import Foundation
import MVMCore

/// How the isolation section words what it observed.
extension IsolationCollector {
    /// "8× virtio-mmio, isa-serial, ...": repeated models counted.
    static func counted(_ names: [String]) -> String {
        var order: [String] = []
        var counts: [String: Int] = [:]
        for name in names {
            if counts[name] == nil { order.append(name) }
            counts[name, default: 0] += 1
        }
        return order.map { counts[$0, default: 1] > 1 ? "\(counts[$0, default: 1])× \($0)" : $0 }.joined(
            separator: ", ")
    }

    static func nodes(_ reported: [String: String]) -> String {
        guard let list = reported["dev.nodes"] else { return "not reported" }
        let names = list.split(separator: ",").map(String.init)
        let shown = names.prefix(8).joined(separator: ", ")
        return "\(names.count): " + shown + (names.count > 8 ? ", ..." : "")
    }

    /// Namespace links (`ns.pid=pid:[4026531836]`) compared with mvm's own.
    static func namespaceSummary(inside: [String: String], host: [String: String]) -> String {
        let kinds = inside.keys.filter { $0.hasPrefix("ns.") && !$0.hasSuffix("_for_children") }.map {
            String($0.dropFirst(3))
        }.sorted()
        guard !kinds.isEmpty else { return "not reported" }
        let own = kinds.filter { host[$0] != nil && inside["ns." + $0] != host[$0] }
        let shared = kinds.filter { !own.contains($0) }
        return (own.isEmpty ? "none" : own.joined(separator: ", "))
            + (shared.isEmpty ? "" : "; shares " + shared.joined(separator: ", ") + " with the host")
    }

    /// The namespaces of a process as link targets, by kind.
    static func namespaces(of process: String) -> [String: String] {
        let directory = "/proc/\(process)/ns"
        guard let kinds = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [:] }
        var links: [String: String] = [:]
        for kind in kinds {
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/" + kind) {
                links[kind] = target
            }
        }
        return links
    }

    static func capabilities(_ hex: String?) -> String {
        guard let hex, let mask = UInt64(hex, radix: 16) else { return "not reported" }
        return mask == 0 ? "none" : "\(mask.nonzeroBitCount) (0x\(hex))"
    }

    static func seccomp(_ exposure: SyscallExposure?) -> String {
        guard let exposure else { return "-" }
        switch exposure.mode {
        case .disabled: return "off"
        case .strict: return "strict"
        case .filter: return "filter (\(exposure.filterCount))"
        }
    }

    static func syscallCount(_ exposure: SyscallExposure?) -> String {
        guard let exposure else { return "-" }
        return "\(exposure.allowedSyscallCount) of \(exposure.hostSyscallCount)"
    }

    static func memoryLimit(_ reported: [String: String]) -> String {
        let value = reported["cgroup.memory.max"] ?? reported["cgroup.memory/memory.limit_in_bytes"]
        guard let value else { return "none seen" }
        guard let bytes = UInt64(value), bytes < (1 << 62) else { return "none (\(value))" }
        return "\(bytes / 1_048_576) MiB (cgroup)"
    }

    static func cpuLimit(_ reported: [String: String]) -> String {
        if let max = reported["cgroup.cpu.max"] {
            let parts = max.split(separator: " ")
            if parts.count == 2, let quota = Double(parts[0]), let period = Double(parts[1]), period > 0 {
                return "\(formatDecimal(quota / period, places: 2)) CPU (cgroup quota)"
            }
            return max
        }
        if let quota = reported["cgroup.cpu/cpu.cfs_quota_us"] {
            guard quota != "-1" else { return "none" }
            if let microseconds = Double(quota),
                let period = reported["cgroup.cpu/cpu.cfs_period_us"].flatMap(Double.init), period > 0
            {
                return "\(formatDecimal(microseconds / period, places: 2)) CPU (cgroup quota)"
            }
            return "quota \(quota) µs per period"
        }
        return "none seen"
    }
}
