import Foundation
import MVMCore
import Testing

@testable import ContainerShim

@Suite struct SpecTests {
    let hybrid = ContainerHost(cgroups: .hybrid, swapAccounting: false, userNamespacesAllowed: true)

    func configuration(memory: Int = 128, vcpus: Int = 1) -> ContainerConfiguration {
        var configuration = ContainerConfiguration(
            stateDirectory: StateDirectory(path: "/state"), rootfsPath: "/images/rootfs")
        // A host large enough for any limits these tests ask for.
        let host = HostFacts(kernelRelease: "6.1", cpuModel: "test", cores: 64, memoryBytes: 1 << 40)
        configuration.limits = try! InstanceLimits.checked(
            memoryMiB: memory, vcpus: vcpus, timeoutSeconds: 60, host: host)
        configuration.environment = ["mvm_mode=exit"]
        return configuration
    }

    func json(_ spec: OCISpec) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: spec.jsonData()) as? [String: Any])
    }

    /// Rootless, the user is the container's root (the one ID it may map),
    /// and the limits go where runc can apply them: under the user's
    /// delegated cgroups (a relative path), or nowhere.
    @Test(arguments: [true, false])
    func rootlessSpecsMapTheUserAndLimitOnlyWhatIsDelegated(delegated: Bool) throws {
        var host = hybrid
        host.rootlessUser = RootlessUser(
            uid: 1001, gid: 1002, undelegatedCgroups: delegated ? [] : ["/sys/fs/cgroup/memory/user"])
        let spec = SpecBuilder.spec(for: configuration(), id: "mvm-00000001", host: host, userNamespace: true)
        #expect(spec.linux.uidMappings == [OCISpec.IDMapping(containerID: 0, hostID: 1001, size: 1)])
        #expect(spec.linux.gidMappings == [OCISpec.IDMapping(containerID: 0, hostID: 1002, size: 1)])
        #expect(spec.linux.cgroupsPath == (delegated ? "mvm-00000001" : nil))
        #expect(spec.linux.resources?.memory?.limit == (delegated ? 134_217_728 : nil))
        #expect(host.rootlessUser?.unappliedLimits == (delegated ? [] : ["memory", "CPU", "pids"]))
        #expect((host.rootlessUser?.limitsCaveat != nil) == !delegated)
    }

    /// Where a rootless runc makes the container's cgroups: the caller's own
    /// cgroup in each v1 hierarchy on a hybrid host (not the cgroup2 one),
    /// the cgroup2 one on a v2-only host.
    @Test func rootlessCgroupDirectoriesFollowTheHierarchies() {
        let hybrid = [
            CgroupMembership(controllers: "memory", path: "/user/1001", directory: "/sys/fs/cgroup/memory/user/1001"),
            CgroupMembership(controllers: "cpu,cpuacct", path: "/", directory: "/sys/fs/cgroup/cpu,cpuacct"),
            CgroupMembership(controllers: "", path: "/", directory: "/sys/fs/cgroup/unified"),
            CgroupMembership(controllers: "pids", path: "/", directory: nil),
        ]
        #expect(
            RootlessUser.cgroupDirectories(of: hybrid).map(\.directory) == [
                "/sys/fs/cgroup/memory/user/1001", "/sys/fs/cgroup/cpu,cpuacct",
            ])
        let v2 = [CgroupMembership(controllers: "", path: "/user.slice", directory: "/sys/fs/cgroup/user.slice")]
        #expect(RootlessUser.cgroupDirectories(of: v2).map(\.directory) == ["/sys/fs/cgroup/user.slice"])
        #expect(RootlessUser.cgroupDirectories(of: v2).map(\.unified) == [true])
    }

    @Test func sameWorkloadAndLimitsAsTheVM() throws {
        let spec = SpecBuilder.spec(
            for: configuration(memory: 256, vcpus: 2), id: "mvm-00000001", host: hybrid, userNamespace: true)
        #expect(spec.process.args == ["/init"])
        #expect(spec.process.env == ["PATH=/bin:/sbin", "mvm_mode=exit"])
        #expect(spec.linux.resources?.memory == OCISpec.Memory(limit: 256 * 1_048_576, swap: nil))
        #expect(spec.linux.resources?.cpu == OCISpec.CPU(quota: 200_000, period: 100_000, cpus: "0-1"))
        #expect(spec.linux.resources?.pids == OCISpec.Pids(limit: 64))
        #expect(spec.linux.cgroupsPath == "/mvm/mvm-00000001")
        #expect(spec.hostname == "mvm-00000001")
    }

    /// A hostile rootfs path or environment value stays one JSON string:
    /// it adds no key to config.json and reads back unchanged.
    @Test func hostileValuesCannotAddKeys() throws {
        var hostile = configuration()
        hostile.rootfsPath = "/images/root\", \"readonly\": false, \"x\": \"]]>&\n"
        hostile.environment = ["mvm_mode=exit\", \"LD_PRELOAD=/evil"]
        let spec = SpecBuilder.spec(for: hostile, id: "mvm-00000001", host: hybrid, userNamespace: true)
        let object = try json(spec)
        let root = try #require(object["root"] as? [String: Any])
        #expect(root["path"] as? String == hostile.rootfsPath)
        #expect(root["readonly"] as? Bool == true)
        #expect(root.keys.sorted() == ["path", "readonly"])
        let process = try #require(object["process"] as? [String: Any])
        #expect(process["env"] as? [String] == ["PATH=/bin:/sbin", "mvm_mode=exit\", \"LD_PRELOAD=/evil"])
    }

    @Test func hardenedByDefault() throws {
        let spec = SpecBuilder.spec(for: configuration(), id: "mvm-00000001", host: hybrid, userNamespace: true)
        #expect(spec.root == OCISpec.Root(path: "/images/rootfs", readonly: true))
        #expect(spec.process.noNewPrivileges)
        #expect(
            spec.process.capabilities == OCISpec.Capabilities(bounding: [], effective: [], permitted: [], ambient: []))
        #expect(Set(spec.linux.namespaces.map(\.type)) == ["pid", "mount", "ipc", "uts", "network", "cgroup", "user"])
        #expect(spec.linux.uidMappings == [OCISpec.IDMapping(containerID: 0, hostID: 100_000, size: 65_536)])
        #expect(spec.linux.maskedPaths.contains("/proc/kcore"))
        #expect(spec.linux.readonlyPaths.contains("/proc/sys"))
        #expect(spec.linux.resources?.devices == [OCISpec.DeviceRule(allow: false, access: "rwm")])
        #expect(spec.mounts.first { $0.destination == "/sys" }?.options?.contains("ro") == true)
    }

    @Test func withoutUserNamespaceThereAreNoMappings() throws {
        let spec = SpecBuilder.spec(for: configuration(), id: "mvm-1", host: hybrid, userNamespace: false)
        #expect(!spec.linux.namespaces.contains { $0.type == "user" })
        let linux = try #require(try json(spec)["linux"] as? [String: Any])
        #expect(linux["uidMappings"] == nil)
        #expect(linux["gidMappings"] == nil)
    }

    @Test func swapIsCappedWhereTheKernelAccountsIt() {
        let host = ContainerHost(cgroups: .v2, swapAccounting: true, userNamespacesAllowed: true)
        let spec = SpecBuilder.spec(for: configuration(), id: "mvm-1", host: host, userNamespace: false)
        #expect(spec.linux.resources?.memory == OCISpec.Memory(limit: 134_217_728, swap: 134_217_728))
    }

    /// The field names are the OCI spec's (config.md, config-linux.md).
    @Test func jsonUsesTheSpecFieldNames() throws {
        let object = try json(SpecBuilder.spec(for: configuration(), id: "mvm-1", host: hybrid, userNamespace: true))
        #expect(object["ociVersion"] as? String == "1.0.2")
        let process = try #require(object["process"] as? [String: Any])
        #expect(process["noNewPrivileges"] as? Bool == true)
        #expect(process["terminal"] as? Bool == false)
        let root = try #require(object["root"] as? [String: Any])
        #expect(root["readonly"] as? Bool == true)
        let linux = try #require(object["linux"] as? [String: Any])
        let mapping = try #require((linux["uidMappings"] as? [[String: Any]])?.first)
        #expect(Set(mapping.keys) == ["containerID", "hostID", "size"])
        let resources = try #require(linux["resources"] as? [String: Any])
        #expect((resources["memory"] as? [String: Any])?["limit"] as? Int == 134_217_728)
        #expect((resources["pids"] as? [String: Any])?["limit"] as? Int == 64)
    }

    @Test func runtimeErrorsLoseRuncsLogWrapping() {
        let stderr =
            #"time="2026-11-30T05:00:00Z" level=error msg="container_linux.go:380: starting container process caused: exec: \"/nope\": stat /nope: no such file or directory""#
        #expect(
            lastLogMessage(stderr, otherwise: "-")
                == #"container_linux.go:380: starting container process caused: exec: "/nope": stat /nope: no such file or directory"#
        )
        #expect(lastLogMessage("", otherwise: "exited with status 2") == "exited with status 2")
    }
}

@Suite struct CgroupTests {
    @Test func hybridHostsUseTheV1MemoryController() {
        let text = "12:memory:/mvm/mvm-1\n11:pids:/mvm/mvm-1\n0::/mvm/mvm-1\n"
        let located = ContainerCgroup.locate(procCgroup: text, v2Root: "/sys/fs/cgroup/unified")
        #expect(located?.0 == .v1)
        #expect(located?.1 == "/sys/fs/cgroup/memory/mvm/mvm-1")
    }

    @Test func v2HostsUseTheUnifiedPath() {
        let located = ContainerCgroup.locate(procCgroup: "0::/mvm/mvm-2\n", v2Root: "/sys/fs/cgroup")
        #expect(located?.0 == .v2)
        #expect(located?.1 == "/sys/fs/cgroup/mvm/mvm-2")
    }

    @Test func combinedControllersAreRecognised() {
        let located = ContainerCgroup.locate(procCgroup: "4:cpu,memory:/a\n", v2Root: "/x")
        #expect(located?.1 == "/sys/fs/cgroup/memory/a")
    }

    @Test func noMemoryCgroupIsNil() {
        #expect(ContainerCgroup.locate(procCgroup: "3:pids:/a\n", v2Root: "/x") == nil)
    }
}

@Suite struct LauncherValidationTests {
    let host = ContainerHost(cgroups: .hybrid, swapAccounting: false, userNamespacesAllowed: false)

    @Test func crunOnHybridCgroupsNamesTheReasonAndTheAlternative() throws {
        let crun = ["/usr/bin/crun", "/usr/sbin/crun"].first { FileManager.default.isExecutableFile(atPath: $0) }
        try #require(crun != nil, "crun is not installed")
        var configuration = ContainerConfiguration(
            stateDirectory: StateDirectory(path: "/tmp/mvm-unit"), rootfsPath: "/")
        configuration.runtime = .crun
        let error = #expect(throws: ContainerError.self) { try ContainerLauncher(configuration, host: host) }
        #expect(error?.description.contains("hybrid mode") == true)
        #expect(error?.description.contains("use runc, or a host with cgroup v2 only") == true)
    }

    @Test func missingRuntimeIsClear() {
        var configuration = ContainerConfiguration(
            stateDirectory: StateDirectory(path: "/tmp/mvm-unit"), rootfsPath: "/")
        configuration.runtime = .path("/nonexistent/runtime")
        let error = #expect(throws: ContainerError.self) { try ContainerLauncher(configuration, host: host) }
        #expect(error?.description.hasPrefix("OCI runtime /nonexistent/runtime does not exist") == true)
    }

    @Test func userNamespaceOnWhereTheHostForbidsItIsRefused() throws {
        var configuration = ContainerConfiguration(
            stateDirectory: StateDirectory(path: "/tmp/mvm-unit"), rootfsPath: "/")
        configuration.userNamespace = .on
        configuration.command = ["/bin/sh"]
        #expect(throws: ContainerError.self) { try ContainerLauncher(configuration, host: host) }
    }
}
