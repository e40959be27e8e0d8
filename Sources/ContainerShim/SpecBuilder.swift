import Foundation
import MVMCore

/// Turns a configuration into the OCI spec of one container.
public enum SpecBuilder {
    /// The host IDs the container's root and users map to in a user
    /// namespace: outside, the container's root is an unprivileged ID.
    public static let userNamespaceHostID: UInt32 = 100_000
    public static let userNamespaceSize: UInt32 = 65_536

    /// Kernel paths runtimes mask or make read-only by default (what
    /// `runc spec` writes): kernel memory, keys, timers, firmware, sysctl.
    public static let maskedPaths = [
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
    ]
    public static let readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

    public static func spec(
        for configuration: ContainerConfiguration, id: String, host: ContainerHost, userNamespace: Bool
    ) -> OCISpec {
        let limit = Int64(configuration.limits.memoryMiB) * 1_048_576
        let period: UInt64 = 100_000
        var namespaces = ["pid", "mount", "ipc", "uts", "network", "cgroup"].map(OCISpec.Namespace.init(type:))
        if userNamespace { namespaces.append(OCISpec.Namespace(type: "user")) }
        // Rootless, the user itself is the container's root: the only ID a
        // user may map without setuid helpers (newuidmap) and subuid ranges.
        let rootless = host.rootlessUser
        func mapping(rootlessID: UInt32?) -> [OCISpec.IDMapping] {
            [
                rootlessID.map { OCISpec.IDMapping(containerID: 0, hostID: $0, size: 1) }
                    ?? OCISpec.IDMapping(containerID: 0, hostID: userNamespaceHostID, size: userNamespaceSize)
            ]
        }
        // Root puts every container under /mvm; a rootless runc can make
        // cgroups only under the user's own, delegated ones (a relative path
        // is relative to them), and without them no limit at all: runc
        // refuses limits it cannot apply.
        let cgroupsPath: String? =
            if let rootless { rootless.cgroupsDelegated ? id : nil } else { "/mvm/" + id }
        let noCapabilities = OCISpec.Capabilities(bounding: [], effective: [], permitted: [], ambient: [])
        return OCISpec(
            process: OCISpec.Process(
                terminal: configuration.terminal,
                user: OCISpec.User(uid: 0, gid: 0),
                args: configuration.command,
                env: ["PATH=/bin:/sbin"] + configuration.environment,
                // The workload needs no privilege: it reads /proc and sleeps.
                capabilities: noCapabilities,
                rlimits: [OCISpec.Rlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)]),
            root: OCISpec.Root(path: configuration.rootfsPath, readonly: true),
            hostname: id,
            mounts: [
                OCISpec.Mount(
                    destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"]),
                OCISpec.Mount(
                    destination: "/dev", type: "tmpfs", source: "tmpfs",
                    options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
                OCISpec.Mount(
                    destination: "/dev/pts", type: "devpts", source: "devpts",
                    options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]),
                OCISpec.Mount(
                    destination: "/dev/shm", type: "tmpfs", source: "shm",
                    options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
                OCISpec.Mount(
                    destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]),
                // The container's own cgroup, read-only, so its processes can
                // see their limits (cgroup namespace: they see only theirs).
                OCISpec.Mount(
                    destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup",
                    options: ["nosuid", "noexec", "nodev", "relatime", "ro"]),
                OCISpec.Mount(
                    destination: "/tmp", type: "tmpfs", source: "tmpfs",
                    options: ["nosuid", "nodev", "mode=1777", "size=16m"]),
            ],
            linux: OCISpec.Linux(
                namespaces: namespaces,
                uidMappings: userNamespace ? mapping(rootlessID: rootless?.uid) : nil,
                gidMappings: userNamespace ? mapping(rootlessID: rootless?.gid) : nil,
                resources: cgroupsPath == nil
                    ? nil
                    : OCISpec.Resources(
                        devices: [OCISpec.DeviceRule(allow: false, access: "rwm")],
                        memory: OCISpec.Memory(limit: limit, swap: host.swapAccounting ? limit : nil),
                        // Both a quota (CPU time) and a cpuset (what nproc sees),
                        // so the container gets as many CPUs as the VM has vCPUs.
                        cpu: OCISpec.CPU(
                            quota: Int64(configuration.limits.vcpus) * Int64(period), period: period,
                            cpus: configuration.limits.vcpus == 1 ? "0" : "0-\(configuration.limits.vcpus - 1)"),
                        pids: OCISpec.Pids(limit: Int64(configuration.pidsLimitOnTheHost))),
                cgroupsPath: cgroupsPath,
                maskedPaths: maskedPaths,
                readonlyPaths: readonlyPaths))
    }
}
