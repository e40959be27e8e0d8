import Foundation
import MVMCore

/// A container's cgroup, found from its init process (/proc/<pid>/cgroup):
/// the memory controller's directory on cgroup v1 (also on hybrid hosts),
/// the unified directory on cgroup v2.
public struct ContainerCgroup: Sendable {
    public enum Version: String, Sendable { case v1, v2 }

    public let version: Version
    /// The directory whose cgroup.procs and memory files mvm reads.
    public let directory: String

    public init(initPID: Int32) throws(ContainerError) {
        guard let text = readSmallFile("/proc/\(initPID)/cgroup") else {
            throw .system(SystemFailure("cannot read /proc/\(initPID)/cgroup: the container's init is gone"))
        }
        guard let located = Self.locate(procCgroup: text, v2Root: Self.v2Root()) else {
            throw .system(SystemFailure("/proc/\(initPID)/cgroup names no memory cgroup"))
        }
        (version, directory) = located
    }

    /// How many times the kernel's OOM killer has killed a process in the
    /// cgroup at `cgroupsPath` (the spec's, e.g. /mvm/<id>, or a rootless
    /// container's path relative to mvm's own cgroup): memory.events
    /// on v2, memory.oom_control on v1 and hybrid hosts; nil when the cgroup
    /// or the counter is not there. Read before the runtime removes it.
    public static func outOfMemoryKills(cgroupsPath: String) -> Int? {
        var candidates = [
            "/sys/fs/cgroup/memory" + cgroupsPath + "/memory.oom_control", v2Root() + cgroupsPath + "/memory.events",
        ]
        if !cgroupsPath.hasPrefix("/") {
            // Relative: under mvm's own cgroups, where a rootless runc made it.
            candidates = CgroupMembership.of(pid: getpid()).compactMap { membership in
                guard let directory = membership.directory else { return nil }
                if membership.controllers.isEmpty { return directory + "/" + cgroupsPath + "/memory.events" }
                let controllers = membership.controllers.split(separator: ",")
                return controllers.contains("memory") ? directory + "/" + cgroupsPath + "/memory.oom_control" : nil
            }
        }
        for file in candidates {
            guard let text = readSmallFile(file) else { continue }
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: " ")
                if fields.count == 2, fields[0] == "oom_kill", let kills = Int(fields[1]) { return kills }
            }
        }
        return nil
    }

    /// Where the cgroup2 hierarchy is mounted: /sys/fs/cgroup on v2 hosts,
    /// /sys/fs/cgroup/unified on hybrid ones.
    static func v2Root() -> String {
        FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")
            ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified"
    }

    /// Parses /proc/<pid>/cgroup: the v1 memory controller wins when present
    /// (it holds the memory limit on v1 and hybrid hosts), else the v2 path.
    static func locate(procCgroup text: String, v2Root: String) -> (Version, String)? {
        var v2Path: String?
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            let controllers = fields[1].split(separator: ",")
            if controllers.contains("memory") {
                return (.v1, "/sys/fs/cgroup/memory" + fields[2])
            }
            if fields[0] == "0" && fields[1].isEmpty { v2Path = String(fields[2]) }
        }
        return v2Path.map { (.v2, v2Root + $0) }
    }

    public func processIDs() throws(ContainerError) -> [Int32] {
        guard let text = readSmallFile(directory + "/cgroup.procs") else {
            throw .system(SystemFailure("cannot read \(directory)/cgroup.procs"))
        }
        return text.split(separator: "\n").compactMap { Int32($0) }
    }

    /// memory.usage_in_bytes (v1) or memory.current (v2): what the cgroup is
    /// charged, page cache included.
    public func memoryUsage() throws(ContainerError) -> UInt64 {
        let file = directory + (version == .v1 ? "/memory.usage_in_bytes" : "/memory.current")
        guard let text = readSmallFile(file), let bytes = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            throw .system(SystemFailure("cannot read \(file)"))
        }
        return bytes
    }

    /// The memory limit in bytes (memory.limit_in_bytes or memory.max).
    public func memoryLimit() -> UInt64? {
        let file = directory + (version == .v1 ? "/memory.limit_in_bytes" : "/memory.max")
        return readSmallFile(file).flatMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}
