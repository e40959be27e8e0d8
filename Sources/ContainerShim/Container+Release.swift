import MVMCore

extension Container {
    /// The container's processes (its init and everything in its cgroup),
    /// its cgroup in every hierarchy, the runtime's state for its id, its
    /// bundle and the owner record.
    public func releaseProbe() -> ReleaseProbe {
        let cgroups = CgroupMembership.instanceDirectories(of: initPID, named: name)
        // The init is first in the list, whatever order cgroup.procs has.
        let pids = [initPID] + ((try? processIDs()) ?? []).filter { $0 != initPID }
        return containerReleaseProbe(
            id: name, runtime: runtime, bundle: bundle,
            processes: pids.map { ($0, $0 == initPID ? "init" : "process") },
            cgroups: cgroups, teardown: teardown)
    }
}

extension DirectRuncInstance {
    /// `runc run` (mvm's child), the container's processes, its cgroups
    /// (where the spec's cgroupsPath puts them), the runtime's state, the
    /// bundle and the owner record.
    public func releaseProbe() -> ReleaseProbe {
        let cgroups =
            cgroupsPath.map { CgroupMembership.directories(forPath: $0, mounts: CgroupMembership.currentMounts()) }
            ?? []
        let existing = cgroups.filter(pathExists)
        var pids: [Int32] = []
        for directory in existing {
            let listed =
                readSmallFile(directory + "/cgroup.procs")?.split(separator: "\n").compactMap { Int32($0) } ?? []
            for pid in listed where !pids.contains(pid) { pids.append(pid) }
        }
        return containerReleaseProbe(
            id: name, runtime: runtime, bundle: bundle,
            processes: [(runPID, "runc run")] + pids.map { ($0, "process") },
            cgroups: existing, teardown: teardown)
    }
}

/// What a container holds, from what its instance knows.
func containerReleaseProbe(
    id: String, runtime: OCIRuntime, bundle: ContainerBundle, processes: [(pid: Int32, role: String)],
    cgroups: [String],
    teardown: InstanceTeardown
) -> ReleaseProbe {
    var resources: [HostResource] = processes.compactMap { pid, role in
        HostResource.process(pid: pid, description: "container \(role) pid \(pid)")
    }
    resources += cgroups.map { HostResource.path($0, kind: .cgroup, description: $0) }
    for state in runtime.stateFiles(of: id) {
        if let runtimeState = HostResource.existingPath(
            state, kind: .runtimeState, description: "\(runtime.name) state \(state)")
        {
            resources.append(runtimeState)
        }
    }
    if let directory = HostResource.existingPath(bundle.path, kind: .directory, description: "bundle \(bundle.path)") {
        resources.append(directory)
    }
    if let owner = teardown.ownerRecordResource() { resources.append(owner) }
    return ReleaseProbe(resources)
}
