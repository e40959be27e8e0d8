import Foundation
import MVMCore

/// The non-root user whose containers mvm starts: runc then runs rootless,
/// in a user namespace that maps the user to the container's root, and can
/// apply cgroup limits only where the user may make cgroups.
public struct RootlessUser: Sendable, Hashable {
    public var uid: UInt32
    public var gid: UInt32
    /// The cgroup directories, one per hierarchy, where runc would make the
    /// container's cgroup (under the user's own cgroups) and the user cannot
    /// write; empty when they are delegated to the user (pam_cgfs, an
    /// administrator's chown, systemd's Delegate=).
    public var undelegatedCgroups: [String]

    public init(uid: UInt32, gid: UInt32, undelegatedCgroups: [String]) {
        self.uid = uid
        self.gid = gid
        self.undelegatedCgroups = undelegatedCgroups
    }

    /// True when runc can make the container's cgroups and apply its limits.
    public var cgroupsDelegated: Bool { undelegatedCgroups.isEmpty }

    /// The user mvm runs as, nil for root.
    public static func probe() -> RootlessUser? {
        guard geteuid() != 0 else { return nil }
        let directories = cgroupDirectories(of: CgroupMembership.of(pid: getpid()))
        // No hierarchy found at all is no delegation either.
        let undelegated =
            directories.isEmpty
            ? ["/sys/fs/cgroup"]
            : directories.filter { !isDelegated($0.directory, unified: $0.unified) }.map(\.directory)
        return RootlessUser(uid: geteuid(), gid: getegid(), undelegatedCgroups: undelegated)
    }

    /// The limits a container of this user goes without, for a report:
    /// empty when its cgroups are delegated.
    public var unappliedLimits: [String] {
        cgroupsDelegated ? [] : ["memory", "CPU", "pids"]
    }

    /// Why the limits are missing, for a caveat.
    public var limitsCaveat: String? {
        guard !cgroupsDelegated else { return nil }
        let shown = undelegatedCgroups.prefix(2).joined(separator: ", ")
        let more = undelegatedCgroups.count > 2 ? " and \(undelegatedCgroups.count - 2) more" : ""
        return
            "the containers ran rootless (uid \(uid)) without their memory, CPU and pids limits: uid \(uid) may not make cgroups under \(shown)\(more); "
            + "their figures are not bounded like the VMs' (delegate those cgroups to the user, or run mvm as root)"
    }

    /// Where runc, run by this process, makes a container's cgroups given a
    /// relative cgroupsPath: the process's own cgroup in every v1 hierarchy
    /// (hybrid hosts included: runc uses their v1 controllers), or in the
    /// cgroup2 hierarchy on a v2-only host.
    static func cgroupDirectories(of memberships: [CgroupMembership]) -> [(directory: String, unified: Bool)] {
        let v1 = memberships.filter { !$0.controllers.isEmpty }
        let chosen = v1.isEmpty ? memberships : v1
        return chosen.compactMap { membership in membership.directory.map { ($0, membership.controllers.isEmpty) } }
    }

    /// The user can make a child cgroup there and move processes into it.
    /// On cgroup2 the memory controller must also reach children, and a
    /// cgroup with processes cannot pass controllers down, so runc's own
    /// cgroup is delegated only when its subtree_control names memory.
    private static func isDelegated(_ directory: String, unified: Bool) -> Bool {
        guard access(directory, W_OK) == 0, access(directory + "/cgroup.procs", W_OK) == 0 else { return false }
        guard unified else { return true }
        let enabled = readSmallFile(directory + "/cgroup.subtree_control") ?? ""
        return enabled.split(whereSeparator: { $0 == " " || $0 == "\n" }).contains("memory")
    }
}
