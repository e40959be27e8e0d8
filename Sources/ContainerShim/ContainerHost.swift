import Foundation
import MVMCore

/// Facts about the host that change what a valid config.json holds.
public struct ContainerHost: Sendable, Hashable {
    public enum CgroupLayout: String, Sendable, Codable {
        /// cgroup v1 controllers (possibly with a v2 hierarchy beside them).
        case v1
        /// cgroup v1 controllers plus a cgroup2 hierarchy at /sys/fs/cgroup/unified.
        case hybrid
        /// Only cgroup v2 (/sys/fs/cgroup/cgroup.controllers exists).
        case v2
    }

    public var cgroups: CgroupLayout
    /// The kernel accounts swap per cgroup (memory.memsw.* or memory.swap.max).
    public var swapAccounting: Bool
    /// user.max_user_namespaces > 0.
    public var userNamespacesAllowed: Bool
    /// The non-root user mvm runs as, whose containers are rootless; nil
    /// for root.
    public var rootlessUser: RootlessUser?

    public init(
        cgroups: CgroupLayout, swapAccounting: Bool, userNamespacesAllowed: Bool, rootlessUser: RootlessUser? = nil
    ) {
        self.cgroups = cgroups
        self.swapAccounting = swapAccounting
        self.userNamespacesAllowed = userNamespacesAllowed
        self.rootlessUser = rootlessUser
    }

    public static func probe() -> ContainerHost {
        let cgroups: CgroupLayout
        if exists("/sys/fs/cgroup/cgroup.controllers") {
            cgroups = .v2
        } else if exists("/sys/fs/cgroup/unified/cgroup.controllers") {
            cgroups = .hybrid
        } else {
            cgroups = .v1
        }
        let swap =
            cgroups == .v2
            ? exists("/sys/fs/cgroup/memory.swap.max") || readSmallFile("/sys/fs/cgroup/cgroup.subtree_control") != nil
            : exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")
        let userNamespaces =
            readSmallFile("/proc/sys/user/max_user_namespaces")
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }.map { $0 > 0 } ?? false
        return ContainerHost(
            cgroups: cgroups, swapAccounting: swap, userNamespacesAllowed: userNamespaces,
            rootlessUser: RootlessUser.probe())
    }

    private static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }
}
