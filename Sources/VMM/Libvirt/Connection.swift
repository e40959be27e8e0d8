import CLibvirt
import MVMCore

#if canImport(Glibc)
    import Glibc
#endif

/// A connection to a libvirt hypervisor driver (`virConnectPtr`), closed when
/// the last reference goes away. libvirt connections may be used from several
/// threads at once.
final class Connection: @unchecked Sendable {
    let uri: LibvirtURI
    private let pointer: virConnectPtr

    /// Opens `uri` (`qemu:///embed?root=/var/lib/mvm/libvirt`,
    /// `qemu:///system`, `qemu+ssh://host/system`, ...). Remote URIs may ask
    /// for credentials through libvirt's default console prompts. libvirt's
    /// log messages go to `logFile`.
    init(uri: LibvirtURI, logFile: String) throws(LibvirtError) {
        try LibvirtRuntime.ensureReady(logFile: logFile)
        guard let pointer = virConnectOpenAuth(uri.text, mvm_default_auth(), 0) else {
            throw .takeLast(context: "opening libvirt connection \(uri)")
        }
        self.uri = uri
        self.pointer = pointer
    }

    deinit {
        virConnectClose(pointer)
    }

    /// False once the connection is known to be closed: a libvirtd that
    /// restarted, a remote host that went away (libvirt's event loop sees
    /// the socket close).
    var isAlive: Bool {
        virConnectIsAlive(pointer) == 1
    }

    /// Starts a transient domain from its XML (`virDomainCreateXML`);
    /// `name` only says which domain in an error.
    func createDomain(xml: String, flags: DomainStartFlags, name: String) throws(LibvirtError) -> Domain {
        guard let domain = virDomainCreateXML(pointer, xml, flags.rawValue) else {
            throw .takeLast(context: "starting domain \(name) on \(uri)")
        }
        return Domain(owning: domain)
    }

    func lookupDomain(name: String) throws(LibvirtError) -> Domain {
        guard let domain = virDomainLookupByName(pointer, name) else {
            throw .takeLast(context: "looking up domain \(name)")
        }
        return Domain(owning: domain)
    }

    /// Names of the running domains.
    func activeDomainNames() throws(LibvirtError) -> [String] {
        var list: UnsafeMutablePointer<virDomainPtr?>?
        let count = virConnectListAllDomains(pointer, &list, UInt32(VIR_CONNECT_LIST_DOMAINS_ACTIVE.rawValue))
        guard count >= 0, let list else {
            throw .takeLast(context: "listing domains of \(uri)")
        }
        defer { free(list) }
        var names: [String] = []
        for index in 0..<Int(count) {
            guard let raw = list[index] else { continue }
            let domain = Domain(owning: raw)
            if let name = try? domain.name() { names.append(name) }
        }
        return names
    }

    /// The hypervisor's version ("7.2.0" for QEMU 7.2).
    func hypervisorVersion() throws(LibvirtError) -> String {
        var version: UInt = 0
        guard virConnectGetVersion(pointer, &version) == 0 else {
            throw .takeLast(context: "reading hypervisor version of \(uri)")
        }
        return LibvirtRuntime.formatVersion(version)
    }

    /// The version of libvirt that serves this connection (the daemon's for
    /// remote URIs).
    func libvirtVersion() throws(LibvirtError) -> String {
        var version: UInt = 0
        guard virConnectGetLibVersion(pointer, &version) == 0 else {
            throw .takeLast(context: "reading libvirt version of \(uri)")
        }
        return LibvirtRuntime.formatVersion(version)
    }

    /// A new non-blocking stream on this connection.
    func makeStream() throws(LibvirtError) -> Stream {
        guard let raw = virStreamNew(pointer, UInt32(VIR_STREAM_NONBLOCK.rawValue)) else {
            throw .takeLast(context: "creating a stream on \(uri)")
        }
        return Stream(owning: raw)
    }

    /// The size of the connection's host (`virNodeGetInfo`): its memory and
    /// CPUs, for checking that what a domain asks for fits there.
    func nodeFacts() throws(LibvirtError) -> HostFacts {
        var info = virNodeInfo()
        guard virNodeGetInfo(pointer, &info) == 0 else {
            throw .takeLast(context: "reading the host's memory and CPUs on \(uri)")
        }
        let model = withUnsafeBytes(of: info.model) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return HostFacts(
            kernelRelease: "unknown", cpuModel: model, cores: Int(info.cpus), memoryBytes: UInt64(info.memory) * 1024)
    }

    /// The host capabilities XML (`virConnectGetCapabilities`).
    func capabilitiesXML() throws(LibvirtError) -> String {
        guard let raw = virConnectGetCapabilities(pointer) else {
            throw .takeLast(context: "reading capabilities of \(uri)")
        }
        defer { free(raw) }
        return String(cString: raw)
    }
}

/// Flags of `virDomainCreateXML` (`virDomainCreateFlags`).
struct DomainStartFlags: OptionSet, Sendable {
    let rawValue: UInt32

    /// `VIR_DOMAIN_START_PAUSED`: QEMU starts with its vCPUs stopped.
    static let paused = DomainStartFlags(rawValue: UInt32(VIR_DOMAIN_START_PAUSED.rawValue))
    /// `VIR_DOMAIN_START_AUTODESTROY`: libvirt destroys the domain when this
    /// connection closes, so a crashed mvm leaves no guest behind.
    static let autoDestroy = DomainStartFlags(rawValue: UInt32(VIR_DOMAIN_START_AUTODESTROY.rawValue))
}
