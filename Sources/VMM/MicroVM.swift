import MVMCore

/// A booted micro-VM whose guest printed its readiness line.
public final class MicroVM: DetachableInstance, ConsoleInstance {
    public let description: DomainDescription
    public let boot: BootRecord
    public let uri: LibvirtURI
    public let acceleratorChoice: AcceleratorChoice
    /// The domain's QEMU process, when it runs on this machine.
    public let qemuPID: Int32?
    // Internal, not private: the release probe (MicroVM+Release.swift)
    // reads the owner record's path and the libvirt connection from them;
    // isolationFacts() (MicroVM+Isolation.swift) reads the domain.
    let teardown: InstanceTeardown
    let domainTeardown: DomainTeardown
    /// The guest's serial console, after its readiness line: closed with
    /// the domain, or when mvm detaches.
    package let consoleConnection: SharedDescriptor?

    /// Next to the console socket QEMU connected to: a local domain's only.
    package var consoleRelaySocket: String? {
        guard case .unixSocket(let path) = description.console else { return nil }
        let consoles = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        return ConsoleRelay.socketPath(consoles: consoles, name: name)
    }

    init(
        description: DomainDescription, uri: LibvirtURI, acceleratorChoice: AcceleratorChoice, boot: BootRecord,
        qemuPID: Int32?, teardown: InstanceTeardown, domainTeardown: DomainTeardown, console: SharedDescriptor? = nil
    ) {
        consoleConnection = console
        self.description = description
        self.uri = uri
        self.acceleratorChoice = acceleratorChoice
        self.boot = boot
        self.qemuPID = qemuPID
        self.teardown = teardown
        self.domainTeardown = domainTeardown
    }

    /// The domain's name.
    public var name: String { description.name }

    /// The domain XML mvm asked for.
    public var xml: String { description.xml() }

    /// PSS and RSS of the QEMU process, plus the memory the guest's kernel
    /// counts as used (from its readiness line).
    public func footprint() async throws -> Footprint {
        let guestUsed = boot.facts.map { [MemoryReading(.guestUsed, bytes: $0.usedBytes)] } ?? []
        guard let qemuPID else {
            // QEMU runs on another machine: libvirt reports its RSS; PSS
            // needs /proc of that machine.
            let domain = domainTeardown.domain
            let rss = try await onDedicatedThreadTyped { () throws(LibvirtError) in
                try domain?.residentBytes()
            }
            guard let rss else {
                throw VMMError.system(SystemFailure("libvirt reports no memory figure for \(name) on \(uri)"))
            }
            return Footprint(readings: [MemoryReading(.rss, bytes: rss)] + guestUsed)
        }
        return Footprint(process: try ProcessMemory.read(pid: qemuPID), guestUsedBytes: boot.facts?.usedBytes)
    }

    /// Destroys the domain and removes its console socket. Safe to call again.
    public func stop() async throws {
        try await teardown.run()
    }

    /// Lets the domain run on after this process exits (`--keep`): closes
    /// mvm's end of the console without destroying the domain.
    public func detach() {
        teardown.detach()
        domainTeardown.console.close()
    }
}
