import Foundation
import Logging
import MVMCore
import Synchronization

/// Boots micro-VMs of one configuration through one libvirt connection.
public final class MicroVMLauncher: InstanceLauncher {
    /// The configuration as checked, with images staged where QEMU's user
    /// can read them.
    public let configuration: MicroVMConfiguration
    public let uri: LibvirtURI
    public let acceleratorChoice: AcceleratorChoice
    public let machine: MachineType
    /// The console transport `auto` resolved to.
    public let consoleTransport: ConsoleTransport
    private let connectionState: Mutex<Connection>
    /// The URI as given (nil: the embedded driver), to open it again.
    private let requestedURI: LibvirtURI?
    private let logger: Logger

    /// The libvirt connection, as last opened.
    var connection: Connection { connectionState.withLock { $0 } }

    /// Checks the images, picks the accelerator, and opens the libvirt
    /// connection (the first connection to a new embedded root probes QEMU,
    /// which takes seconds; later launches reuse it). Starts nothing. The
    /// limits were checked against this host when they were made; a remote
    /// host's size is checked here, once connected.
    public init(_ configuration: MicroVMConfiguration, logger: Logger = Logger(label: "mvm.vmm")) async throws(VMMError)
    {
        var uri: LibvirtURI?
        if let text = configuration.connectURI { uri = try LibvirtURI(parsing: text) }
        try configuration.checkForInjection()
        let local = uri?.isLocal ?? true
        var effective = configuration
        // A remote domain's images live on its host: check them here only
        // when they are here too.
        if !local && !FileManager.default.fileExists(atPath: configuration.kernelPath) {
            let name = URL(fileURLWithPath: configuration.kernelPath).lastPathComponent
            machine = configuration.machine ?? (name.hasPrefix("vmlinux") ? .microvm : .pc)
        } else {
            let kernelHeader = try Self.checkImage(role: "kernel", path: configuration.kernelPath)
            _ = try Self.checkImage(role: "initrd", path: configuration.initrdPath)
            // An ELF kernel has a PVH entry that microvm boots; a bzImage needs a PC's firmware.
            machine = configuration.machine ?? (kernelHeader.starts(with: [0x7F, 0x45, 0x4C, 0x46]) ? .microvm : .pc)
            try Self.checkMemoryHolds(configuration)
        }
        // libvirt runs QEMU as its own user (libvirt-qemu), the embedded
        // driver as much as the daemon, and that user must reach the images.
        if local {
            let staging = ImageStaging(stateDirectory: configuration.stateDirectory)
            do throws(SystemFailure) {
                effective.kernelPath = try staging.reachablePath(for: configuration.kernelPath)
                effective.initrdPath = try staging.reachablePath(for: configuration.initrdPath)
            } catch {
                throw .system(error)
            }
        }
        self.configuration = effective
        self.logger = logger
        let connection = try await Connection.open(uri: uri, stateDirectory: configuration.stateDirectory)
        connectionState = Mutex(connection)
        requestedURI = uri
        self.uri = connection.uri
        switch (configuration.consoleTransport, local) {
        case (.auto, true): consoleTransport = .socket
        case (.auto, false): consoleTransport = .stream
        case (.socket, false):
            throw .invalidConfiguration(
                "a socket console needs a domain on this machine; \(connection.uri) is remote: use the stream console or auto"
            )
        case (.socket, true), (.stream, _): consoleTransport = configuration.consoleTransport
        }
        let virtualization: HostVirtualization
        let remoteHost: HostFacts?
        do throws(LibvirtError) {
            virtualization = try connection.hostVirtualization()
            remoteHost = local ? nil : try connection.nodeFacts()
        } catch {
            throw .libvirt(error)
        }
        if let remoteHost {
            do { try configuration.limits.checkFits(remoteHost) } catch {
                throw .invalidConfiguration(error.description)
            }
        }
        do {
            acceleratorChoice = try AcceleratorChoice.choose(configuration.accelerator, host: virtualization)
        } catch {
            throw .accelerator(error)
        }
    }

    /// Reads the first bytes of an image, failing with a clear message when
    /// it is missing, unreadable or empty.
    private static func checkImage(role: String, path: String) throws(VMMError) -> [UInt8] {
        guard path.hasPrefix("/") else {
            throw .image(role: role, path: path, problem: "is not an absolute path")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let problem = FileManager.default.fileExists(atPath: path) ? "is not readable" : "does not exist"
            throw .image(role: role, path: path, problem: problem)
        }
        defer { try? handle.close() }
        let header = ((try? handle.read(upToCount: 4)) ?? nil).map { Array($0) } ?? []
        guard !header.isEmpty else { throw .image(role: role, path: path, problem: "is empty") }
        return header
    }

    /// Refuses a memory size the kernel and the initramfs cannot fit in:
    /// such a guest never boots and never says why.
    private static func checkMemoryHolds(_ configuration: MicroVMConfiguration) throws(VMMError) {
        guard let layout = KernelLayout.read(path: configuration.kernelPath) else { return }
        let attributes = try? FileManager.default.attributesOfItem(atPath: configuration.initrdPath)
        let initrd = (attributes?[.size] as? NSNumber)?.uint64Value ?? 0
        let mebibyte: UInt64 = 1 << 20
        let needed = layout.end + initrd
        let memory = UInt64(configuration.limits.memoryMiB) * mebibyte
        guard memory < needed else { return }
        func mib(_ bytes: UInt64) -> String { formatDecimal(Double(bytes) / Double(mebibyte), places: 1) }
        throw .invalidConfiguration(
            "\(configuration.limits.memoryMiB) MiB of guest memory cannot hold the kernel \(configuration.kernelPath): it is loaded at \(mib(layout.start)) MiB and reaches \(mib(layout.end)) MiB, and the initrd takes \(mib(initrd)) MiB more; give the VM at least \((needed + mebibyte - 1) / mebibyte) MiB"
        )
    }

    /// The domain XML a launch would use (for `--dry-run`), with a fresh name.
    public func describeDomain() -> DomainDescription {
        describeDomain(name: newInstanceName())
    }

    public func describeDomain(name: String) -> DomainDescription {
        let consoles = configuration.stateDirectory.subdirectory("consoles")
        var description = DomainDescription(
            name: name, accelerator: acceleratorChoice.accelerator, machine: machine,
            memoryMiB: configuration.limits.memoryMiB, vcpus: configuration.limits.vcpus,
            kernelPath: configuration.kernelPath, initrdPath: configuration.initrdPath,
            kernelArguments: DomainDescription.baseKernelArguments + configuration.extraKernelArguments,
            console: consoleTransport == .socket ? .unixSocket(path: consoles + "/" + name + ".sock") : .libvirtStream,
            consoleLogPath: configuration.keep ? consoles + "/" + name + ".log" : nil)
        description.translationCacheMiB = configuration.translationCacheMiB
        description.emulator =
            configuration.emulator
            ?? EmulatorChoice.choose(accelerator: acceleratorChoice.accelerator, machine: machine, local: uri.isLocal)
        return description
    }

    /// Boots one micro-VM and waits for its readiness line. On any failure the
    /// domain is destroyed and its files removed before the error is thrown.
    public func launch() async throws(VMMError) -> MicroVM {
        try await withLaunchScope(timeout: configuration.limits.timeout) { (scope) async throws(VMMError) -> MicroVM in
            try await domainBoot(in: scope, kind: "micro-vm").run(in: scope)
        }
    }

    /// Boots one micro-VM whose start is traced: libvirt's debug log for
    /// its `virDomainCreateXML` (the embedded driver), the kernel's
    /// timestamps on the console, the init's steps.
    public func launchTraced() async throws(VMMError) -> MicroVM {
        try await withLaunchScope(timeout: configuration.limits.timeout, tracing: true) {
            (scope) async throws(VMMError) -> MicroVM in
            try await domainBoot(in: scope, kind: "micro-vm").run(in: scope)
        }
    }

    /// The connection, opened again when it has closed: a libvirtd that
    /// restarts between two launches of a comparison costs the launch under
    /// way at that moment, not every later one. A daemon that is restarting
    /// is waited for, until `deadline`.
    private func liveConnection(until deadline: ContinuousClock.Instant) async throws(VMMError) -> Connection {
        let current = connection
        guard !current.isAlive else { return current }
        logger.warning("the libvirt connection to \(uri) closed; opening it again")
        while true {
            do {
                let reopened = try await Connection.open(
                    uri: requestedURI, stateDirectory: configuration.stateDirectory)
                connectionState.withLock { $0 = reopened }
                return reopened
            } catch {
                guard ContinuousClock.now + .milliseconds(500) < deadline else { throw error }
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// Claims the instance in the state directory's owner records, then
    /// describes how to boot it under the scope's name, through a live
    /// connection.
    func domainBoot(in scope: LaunchScope, kind: String) async throws(VMMError) -> DomainBoot {
        let connection = try await liveConnection(until: scope.deadline)
        do throws(SystemFailure) {
            try scope.claimOwnership(
                in: OwnerRecords(stateDirectory: configuration.stateDirectory), kind: kind,
                connectURI: configuration.connectURI)
        } catch {
            throw .system(error)
        }
        var description = describeDomain(name: scope.id)
        if scope.tracing { description.addTraceKernelArguments() }
        return DomainBoot(
            description: description, connection: connection, configuration: configuration,
            acceleratorChoice: acceleratorChoice, logger: logger)
    }

    public var caveats: [String] {
        acceleratorChoice.accelerator.caveat.map { [$0] } ?? []
    }

    /// Versions for reports: libvirt's and the hypervisor's.
    public func versions() -> (libvirt: String?, hypervisor: String?) {
        (try? connection.libvirtVersion(), try? connection.hypervisorVersion())
    }
}
