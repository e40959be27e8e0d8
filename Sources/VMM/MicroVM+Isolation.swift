import MVMCore

extension MicroVM {
    /// Reads what isolates this micro-VM from its host, from libvirt and
    /// QEMU as they run now: the live domain XML, QEMU's device tree (HMP
    /// `info qtree`, which libvirt logs as a custom monitor command), and,
    /// when QEMU runs on this machine, its seccomp filters (which needs
    /// root, see `SyscallExposure.read(pid:)`). Stops QEMU's main thread
    /// for the moment its filters are read.
    public func isolationFacts() async throws -> VMIsolationFacts {
        guard let domain = domainTeardown.domain else {
            throw VMMError.system(SystemFailure("\(name) has no running domain to read (libvirt never started it)"))
        }
        let qemuPID = qemuPID
        let name = name
        // libvirt calls and ptrace block; ptrace also needs every request
        // on the thread that attached, which a dedicated thread guarantees.
        return try await onDedicatedThreadTyped { () throws(VMMError) -> VMIsolationFacts in
            let xml: String
            let qtree: String
            do throws(LibvirtError) {
                xml = try domain.liveXML()
                qtree = try domain.humanMonitorCommand("info qtree")
            } catch {
                throw .libvirt(error)
            }
            var facts: VMIsolationFacts
            do {
                facts = try VMIsolationFacts(liveXML: xml, qtree: qtree)
            } catch {
                throw .system(SystemFailure("reading the isolation facts of \(name)", underlying: error))
            }
            if let qemuPID {
                do {
                    facts.qemuSyscalls = try SyscallExposure.read(pid: qemuPID)
                } catch {
                    throw .system(SystemFailure("reading the system calls QEMU of \(name) may make", underlying: error))
                }
            }
            return facts
        }
    }
}
