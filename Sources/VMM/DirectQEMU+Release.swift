import MVMCore

extension DirectQEMUInstance {
    /// The QEMU process (mvm's own child, reaped by mvm) and the owner
    /// record; a plain QEMU makes nothing else on the host.
    public func releaseProbe() -> ReleaseProbe {
        let pid = process.pid
        return ReleaseProbe(
            [HostResource.process(pid: pid, description: "QEMU pid \(pid)"), teardown.ownerRecordResource()].compactMap
            { $0 })
    }
}
