import Dispatch
import MVMCore

#if canImport(Glibc)
    import Glibc
#endif

/// Finds and destroys mvm's domains on a libvirt connection: what `--keep`
/// left running, or what a test must prove is gone.
public final class DomainManager: Sendable {
    private let stateDirectory: StateDirectory
    let connection: Connection

    public init(uri: String?, stateDirectory: StateDirectory) async throws(VMMError) {
        var parsed: LibvirtURI?
        if let uri { parsed = try LibvirtURI(parsing: uri) }
        connection = try await Connection.open(uri: parsed, stateDirectory: stateDirectory)
        self.stateDirectory = stateDirectory
    }

    public var uri: LibvirtURI { connection.uri }

    /// How long a destroy may wait on QEMU before mvm kills it: a healthy
    /// TCG domain goes in well under a second.
    static let destroyGrace: DispatchTimeInterval = .seconds(2)

    /// Names of the running domains whose names start with `mvm-`.
    public func runningMVMDomains() throws(VMMError) -> [String] {
        do {
            return try connection.activeDomainNames().filter { name in
                name.hasPrefix(instanceNamePrefix) && !qemuIsGone(domain: name)
            }.sorted()
        } catch {
            throw .libvirt(error)
        }
    }

    /// True when the domain's QEMU is known to be dead (gone, or a zombie
    /// that its new parent has not reaped yet): a fresh embedded driver
    /// lists a domain whose QEMU died while nobody watched as active until
    /// its reconnect thread has found out, a moment after opening.
    private func qemuIsGone(domain name: String) -> Bool {
        guard let pid = DomainBoot.qemuPID(uri: connection.uri, name: name) else { return false }
        return processStartTime(pid) == nil
    }

    /// Destroys a running domain by name and removes its console files and
    /// the embedded driver's QEMU log.
    public func destroyDomain(named name: String) throws(VMMError) {
        // libvirt's destroy sends QEMU SIGTERM and waits up to 10 s before
        // SIGKILL, and a QEMU that hangs (stopped before its QMP greeting)
        // never takes the SIGTERM: past a grace, mvm kills it, as the
        // teardown of an interrupted mvm does, and libvirt's wait ends.
        let uri = connection.uri
        let watchdog = DispatchWorkItem { DomainBoot.killQEMU(uri: uri, name: name) }
        DispatchQueue.global().asyncAfter(deadline: .now() + Self.destroyGrace, execute: watchdog)
        defer { watchdog.cancel() }
        do {
            try connection.lookupDomain(name: name).destroy()
        } catch {
            throw .libvirt(error)
        }
        let consoles = stateDirectory.subdirectory("consoles")
        unlink(consoles + "/" + name + ".sock")
        unlink(consoles + "/" + name + ".log")
        if let qemuLog = connection.uri.embeddedQEMULogPath(domain: name) { unlink(qemuLog) }
    }

    /// Versions for `mvm doctor`: the libvirt that serves this connection (the
    /// daemon's for remote URIs) and its hypervisor's.
    public func versions() -> (libvirt: String?, hypervisor: String?) {
        (try? connection.libvirtVersion(), try? connection.hypervisorVersion())
    }

    /// What the connection's host offers for KVM, probed as `MicroVMLauncher`
    /// probes it before choosing the accelerator.
    public func hostVirtualization() throws(VMMError) -> HostVirtualization {
        do { return try connection.hostVirtualization() } catch { throw .libvirt(error) }
    }
}
