import MVMCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Removes one domain: closes mvm's end of its console, destroys it, removes
/// its console log and the embedded driver's QEMU log. The same steps on failure, on stop and on an interrupt,
/// whichever comes first; the domain is created through it, so that a
/// teardown that comes while libvirt creates the domain waits for the domain
/// and destroys it, and one that came before stops the creation.
final class DomainTeardown: Sendable {
    let connection: Connection
    let name: String
    let console = GuestConsole()
    let logPath: String?
    private let state = Mutex<(domain: Domain?, tornDown: Bool)>((nil, false))

    init(connection: Connection, name: String, logPath: String?) {
        self.connection = connection
        self.name = name
        self.logPath = logPath
    }

    /// Starts the domain (`virDomainCreateXML`), unless the teardown came first.
    func createDomain(xml: String, flags: DomainStartFlags) throws(VMMError) -> Domain {
        try state.withLock { (state) throws(VMMError) -> Domain in
            guard !state.tornDown else {
                throw .system(SystemFailure("\(name) was torn down before libvirt started it (mvm is being stopped)"))
            }
            do throws(LibvirtError) {
                let domain = try connection.createDomain(xml: xml, flags: flags, name: name)
                state.domain = domain
                return domain
            } catch {
                throw .libvirt(error)
            }
        }
    }

    /// The domain once libvirt has started it.
    var domain: Domain? { state.withLock { $0.domain } }

    /// Blocking. Closes and removes mvm's side even when destroying fails.
    func run() throws(VMMError) {
        // First: it wakes a boot thread that waits on the console.
        console.close()
        defer { if let logPath { unlink(logPath) } }
        let domain = state.withLock { state in
            state.tornDown = true
            return state.domain
        }
        var destroyed = false
        do {
            try domain?.destroy()
            destroyed = domain != nil
        } catch {
            guard !connection.isAlive, connection.uri.isLocal else { throw .libvirt(error) }
        }
        // libvirtd went away (a restart) with the domain's connection, before
        // it could destroy the domain or while it created it: QEMU dies by
        // mvm's hand, and libvirt, restarted, forgets the domain rather than
        // adopt it as a running one.
        if !destroyed, !connection.isAlive, connection.uri.isLocal {
            DomainBoot.killQEMU(uri: connection.uri, name: name)
        }
        // Also when libvirt never started the domain: its error carries what
        // QEMU wrote.
        if let qemuLog = connection.uri.embeddedQEMULogPath(domain: name) { unlink(qemuLog) }
    }
}
