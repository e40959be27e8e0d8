import Foundation

/// Every process of the machine with its parent and name, read once from
/// /proc/<pid>/stat.
package struct ProcessTable: Sendable {
    package private(set) var parents: [Int32: Int32] = [:]
    package private(set) var names: [Int32: String] = [:]

    package init() {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry), let stat = readSmallFile("/proc/\(pid)/stat") else { continue }
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
            guard let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { continue }
            names[pid] = String(stat[stat.index(after: open)..<close])
            let rest = stat[stat.index(after: close)...].split(separator: " ")
            if rest.count > 1, let parent = Int32(rest[1]) { parents[pid] = parent }
        }
    }

    /// True when `pid` is `ancestor` or runs under it.
    package func descends(_ pid: Int32, from ancestor: Int32) -> Bool {
        var current = pid
        for _ in 0..<64 {
            if current == ancestor { return true }
            guard let parent = parents[current], parent > 0 else { return false }
            current = parent
        }
        return false
    }

    /// `root` and every process under it, sorted; empty when `root` is gone.
    package func tree(from root: Int32) -> [Int32] {
        guard names[root] != nil else { return [] }
        return names.keys.filter { descends($0, from: root) }.sorted()
    }
}
