import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The cgroup directories a process is in, one per hierarchy, as paths under
/// the host's cgroup mounts. Works on cgroup v1, v2 and hybrid hosts (v1
/// controllers with a cgroup2 hierarchy beside them, as on these machines):
/// each line of /proc/PID/cgroup is matched to its mount in
/// /proc/self/mountinfo, never to a guessed /sys/fs/cgroup/<name>, since v1
/// controllers may be co-mounted (`cpu,cpuacct`) and mounts may have a root
/// other than `/`.
public struct CgroupMembership: Sendable, Equatable {
    /// A cgroup hierarchy as /proc/PID/cgroup names it: its controllers
    /// (`cpu`, `cpu,cpuacct`, `name=systemd`), empty for cgroup2.
    public var controllers: String
    /// The path inside the hierarchy (`/mvm/mvm-1a2b`).
    public var path: String
    /// The directory on the host, when the hierarchy is mounted here.
    public var directory: String?

    public init(controllers: String, path: String, directory: String?) {
        self.controllers = controllers
        self.path = path
        self.directory = directory
    }

    /// A cgroup file system mounted here.
    public struct Mount: Sendable, Equatable {
        /// The super options of a v1 hierarchy, its controllers among them
        /// (`rw,cpu,cpuacct`, `rw,name=systemd`); empty for cgroup2.
        public var controllers: Set<String>
        public var isVersion2: Bool
        /// The directory of the hierarchy that is mounted (`/` unless the
        /// mount is of a sub-tree, as inside some containers).
        public var root: String
        public var mountPoint: String
    }

    /// The cgroups of `pid` now; empty when it is gone.
    public static func of(pid: Int32) -> [CgroupMembership] {
        guard let text = readSmallFile("/proc/\(pid)/cgroup"), let mountinfo = readSmallFile("/proc/self/mountinfo")
        else {
            return []
        }
        return parse(procCgroup: text, mounts: mounts(mountinfo: mountinfo))
    }

    /// The directories `pid` is in that the process `reference` (mvm
    /// itself) is not in, and whose path names `name` (a domain's or a
    /// container's name, also in systemd's escaped form): the cgroups a
    /// runtime made for this one instance, which it removes at teardown. The
    /// hierarchies where the instance simply stayed in mvm's (or a daemon's)
    /// cgroup are left out, since nothing removes those. A thread group a
    /// runtime made inside the instance's cgroup (libvirt's `emulator`,
    /// `vcpu0`) is reported as the cgroup that holds it, the one removed last.
    public static func instanceDirectories(of pid: Int32, named name: String, reference: Int32 = getpid()) -> [String] {
        instanceDirectories(instance: of(pid: pid), reference: of(pid: reference), named: name)
    }

    static func instanceDirectories(
        instance: [CgroupMembership], reference: [CgroupMembership], named name: String
    ) -> [String] {
        let shared = Dictionary(reference.map { ($0.controllers, $0.path) }, uniquingKeysWith: { first, _ in first })
        var directories: [String] = []
        for membership in instance {
            guard let directory = membership.directory, shared[membership.controllers] != membership.path else {
                continue
            }
            guard let named = trimmed(directory: directory, path: membership.path, toComponentNaming: name) else {
                continue
            }
            if !directories.contains(named) { directories.append(named) }
        }
        return directories
    }

    /// Walks up from `directory` to the deepest one whose last component
    /// names `name`; nil when no component of `path` does.
    private static func trimmed(directory: String, path: String, toComponentNaming name: String) -> String? {
        let escaped = name.replacingOccurrences(of: "-", with: "\\x2d")
        var directory = Substring(directory)
        var components = path.split(separator: "/")
        while let last = components.last {
            if last.contains(name) || last.contains(escaped) { return String(directory) }
            components.removeLast()
            guard let slash = directory.lastIndex(of: "/") else { return nil }
            directory = directory[..<slash]
        }
        return nil
    }

    /// The directories of the cgroup at `path` (a runtime's `cgroupsPath`
    /// such as `/mvm/mvm-1a2b`) in every cgroup hierarchy mounted here, one
    /// per mount, whether or not they exist.
    public static func directories(forPath path: String, mounts: [Mount]) -> [String] {
        var directories: [String] = []
        for mount in mounts {
            guard let directory = directory(of: path, in: mount), !directories.contains(directory) else { continue }
            directories.append(directory)
        }
        return directories
    }

    /// The cgroup mounts of this process's mount namespace.
    public static func currentMounts() -> [Mount] {
        readSmallFile("/proc/self/mountinfo").map(mounts(mountinfo:)) ?? []
    }

    /// Parses /proc/PID/mountinfo: `id parent dev root mountpoint options
    /// [optional fields] - fstype source superoptions`.
    public static func mounts(mountinfo text: String) -> [Mount] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard let separator = fields.firstIndex(of: "-"), separator >= 5, fields.count > separator + 3 else {
                return nil
            }
            let type = fields[separator + 1]
            guard type == "cgroup" || type == "cgroup2" else { return nil }
            // A v1 hierarchy's super options name its controllers among
            // other options (`rw`, `xattr`, ...); matching asks only whether
            // every controller of a /proc/PID/cgroup line is among them.
            let superOptions = Set(fields[separator + 3].split(separator: ",").map(String.init))
            return Mount(
                controllers: type == "cgroup2" ? [] : superOptions, isVersion2: type == "cgroup2",
                root: unescape(fields[3]), mountPoint: unescape(fields[4]))
        }
    }

    /// Parses /proc/PID/cgroup (`id:controllers:path` per hierarchy).
    public static func parse(procCgroup text: String, mounts: [Mount]) -> [CgroupMembership] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { return nil }
            let controllers = String(fields[1])
            let path = String(fields[2])
            let wanted = Set(controllers.split(separator: ",").map(String.init))
            let mount = mounts.first { mount in
                controllers.isEmpty ? mount.isVersion2 : !mount.isVersion2 && wanted.isSubset(of: mount.controllers)
            }
            return CgroupMembership(
                controllers: controllers, path: path, directory: mount.flatMap { directory(of: path, in: $0) })
        }
    }

    /// Where the cgroup at `path` of a hierarchy is under `mount`; nil when
    /// the mount shows another part of the hierarchy.
    static func directory(of path: String, in mount: Mount) -> String? {
        let root = mount.root == "/" ? "" : mount.root
        guard path == root || path.hasPrefix(root + "/") || root.isEmpty else { return nil }
        let inside = path.dropFirst(root.count)
        return inside.isEmpty || inside == "/" ? mount.mountPoint : mount.mountPoint + inside
    }

    /// mountinfo writes spaces, tabs, newlines and backslashes as octal (`\040`).
    private static func unescape(_ field: Substring) -> String {
        guard field.contains("\\") else { return String(field) }
        var bytes: [UInt8] = []
        var utf8 = Array(field.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "\\"), utf8.count >= 3,
                let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8)
            {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
