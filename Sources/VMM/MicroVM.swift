import Foundation
import Logging
import MVMCore
import Synchronization

/// What to boot and how.
public struct MicroVMConfiguration: Sendable {
    /// libvirt URI; nil means the embedded QEMU driver under the state dir.
    public var connectURI: String?
    public var stateDirectory: StateDirectory
    public var kernelPath: String
    public var initrdPath: String
    /// nil: microvm for an ELF kernel (PVH entry), pc for anything else.
    public var machine: MachineType?
    public var memoryMiB: Int = 128
    public var vcpus: Int = 1
    public var accelerator: AcceleratorRequest = .auto
    public var timeout: Duration = .seconds(60)
    /// Extra kernel command-line arguments, after mvm's own.
    public var extraKernelArguments: [String] = []
    /// Leave the domain running when mvm exits (no libvirt auto-destroy).
    public var keep = false
    /// How to read the serial console.
    public var consoleTransport: ConsoleTransport = .auto
    /// Receives console bytes as they arrive (`--console`).
    public var consoleEcho: (@Sendable ([UInt8]) -> Void)?

    public init(
        connectURI: String? = nil, stateDirectory: StateDirectory = .defaultLocation(),
        kernelPath: String, initrdPath: String
    ) {
        self.connectURI = connectURI
        self.stateDirectory = stateDirectory
        self.kernelPath = kernelPath
        self.initrdPath = initrdPath
    }

    /// The default URI: libvirt's embedded QEMU driver, which needs no daemon.
    public static func embeddedURI(stateDirectory: StateDirectory) -> String {
        "qemu:///embed?root=" + stateDirectory.subdirectory("libvirt")
    }
}

/// Boots micro-VMs of one configuration through one libvirt connection.
public final class MicroVMLauncher: InstanceLauncher {
    public let kind = "vm"
    public let configuration: MicroVMConfiguration
    public let acceleratorChoice: AcceleratorChoice
    public let machine: MachineType
    /// The console transport `auto` resolved to.
    public let consoleTransport: ConsoleTransport
    let connection: Connection
    private let logger: Logger

    /// Checks the configuration, picks the accelerator, and opens the libvirt
    /// connection (the first connection to a new embedded root probes QEMU,
    /// which takes seconds; later launches reuse it).
    public init(_ configuration: MicroVMConfiguration, logger: Logger = Logger(label: "mvm.vmm")) async throws(VMMError) {
        guard configuration.memoryMiB >= 16 else {
            throw .invalidConfiguration("memory \(configuration.memoryMiB) MiB is too small: a guest needs at least 16 MiB")
        }
        guard (1...64).contains(configuration.vcpus) else {
            throw .invalidConfiguration("\(configuration.vcpus) vCPUs is out of range: use 1 to 64")
        }
        // A remote domain's images live on its host: check them here only
        // when they are here too.
        let remote = !Self.isLocal(uri: configuration.connectURI ?? "qemu:///embed")
        if remote && !FileManager.default.fileExists(atPath: configuration.kernelPath) {
            let name = URL(fileURLWithPath: configuration.kernelPath).lastPathComponent
            self.machine = configuration.machine ?? (name.hasPrefix("vmlinux") ? .microvm : .pc)
        } else {
            let kernelHeader = try Self.checkImage(role: "kernel", path: configuration.kernelPath)
            _ = try Self.checkImage(role: "initrd", path: configuration.initrdPath)
            // An ELF kernel has a PVH entry that microvm boots; a bzImage needs a PC's firmware.
            self.machine = configuration.machine ?? (kernelHeader.starts(with: [0x7F, 0x45, 0x4C, 0x46]) ? .microvm : .pc)
        }
        // libvirt runs QEMU as its own user (libvirt-qemu), the embedded
        // driver as much as the daemon, and that user must reach the images.
        var effective = configuration
        if !remote {
            let staging = ImageStaging(stateDirectory: configuration.stateDirectory)
            do {
                effective.kernelPath = try staging.reachablePath(for: configuration.kernelPath)
                effective.initrdPath = try staging.reachablePath(for: configuration.initrdPath)
            } catch {
                throw .system("cannot copy the images where QEMU's user can reach them: \(error.localizedDescription)")
            }
        }
        self.configuration = effective
        self.logger = logger
        connection = try await Connection.open(uri: configuration.connectURI, stateDirectory: configuration.stateDirectory)
        let uri = connection.uri
        switch (configuration.consoleTransport, Self.isLocal(uri: uri)) {
        case (.auto, true): consoleTransport = .socket
        case (.auto, false): consoleTransport = .stream
        case (.socket, false):
            throw .invalidConfiguration("--console-transport socket needs a domain on this machine; \(uri) is remote: use stream or auto")
        case (.socket, true), (.stream, _): consoleTransport = configuration.consoleTransport
        }
        let host: HostVirtualization
        if Self.isLocal(uri: uri) {
            host = .probeLocal()
        } else {
            do { host = .probe(capabilitiesXML: try connection.capabilitiesXML()) } catch { throw .libvirt(error) }
        }
        do {
            acceleratorChoice = try AcceleratorChoice.choose(configuration.accelerator, host: host)
        } catch {
            throw .accelerator(error)
        }
    }

    /// True when the URI names no remote host: the domain's QEMU runs on this
    /// machine, so mvm can share a socket with it and read its /proc entry.
    static func isLocal(uri: String) -> Bool {
        guard let schemeEnd = uri.range(of: "://") else { return true }
        let afterScheme = uri[schemeEnd.upperBound...]
        let authority = afterScheme.prefix { $0 != "/" && $0 != "?" }
        return authority.isEmpty || authority == "localhost"
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

    /// The domain XML a launch would use (for `--dry-run`), with a fresh name.
    public func describeDomain() -> DomainDescription {
        describeDomain(name: Self.newDomainName())
    }

    public func describeDomain(name: String) -> DomainDescription {
        let consoles = configuration.stateDirectory.subdirectory("consoles")
        var arguments = DomainDescription.baseKernelArguments
        arguments += configuration.extraKernelArguments
        return DomainDescription(
            name: name, accelerator: acceleratorChoice.accelerator, machine: machine,
            memoryMiB: configuration.memoryMiB, vcpus: configuration.vcpus,
            kernelPath: configuration.kernelPath, initrdPath: configuration.initrdPath,
            kernelArguments: arguments,
            console: consoleTransport == .socket ? .unixSocket(path: consoles + "/" + name + ".sock") : .libvirtStream,
            consoleLogPath: configuration.keep ? consoles + "/" + name + ".log" : nil)
    }

    static func newDomainName() -> String {
        let suffix = (0..<4).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        return "mvm-" + suffix
    }

    public func launch() async throws -> any RunningInstance {
        try await launchVM()
    }

    /// Boots one micro-VM and waits for its readiness line. On any failure the
    /// domain is destroyed and its files removed before the error is thrown.
    public func launchVM() async throws(VMMError) -> MicroVM {
        let stopwatch = PhaseStopwatch()
        let description = describeDomain(name: Self.newDomainName())
        let connection = self.connection
        let configuration = self.configuration
        let acceleratorChoice = self.acceleratorChoice
        let logger = self.logger
        return try await onDedicatedThreadTyped { () throws(VMMError) -> MicroVM in
            try Self.boot(
                description, connection: connection, configuration: configuration,
                acceleratorChoice: acceleratorChoice, stopwatch: stopwatch, logger: logger)
        }
    }

    /// The blocking part of a launch; runs on a dedicated thread.
    private static func boot(
        _ description: DomainDescription, connection: Connection, configuration: MicroVMConfiguration,
        acceleratorChoice: AcceleratorChoice, stopwatch: PhaseStopwatch, logger: Logger
    ) throws(VMMError) -> MicroVM {
        let deadline = stopwatch.origin + configuration.timeout
        do {
            _ = try configuration.stateDirectory.ensureSubdirectory("consoles", permissions: 0o711)
        } catch {
            throw .system("cannot create \(configuration.stateDirectory.subdirectory("consoles")): \(error.localizedDescription)")
        }
        // A socket console listens before the domain exists; a libvirt stream
        // attaches to a domain started paused.
        var socket: ConsoleSocket?
        var flags = startFlags(uri: connection.uri, keep: configuration.keep)
        switch description.console {
        case .unixSocket(let path): socket = try ConsoleSocket(path: path)
        case .libvirtStream: flags.insert(.paused)
        }
        var timeline = BootTimeline()
        let xml = description.xml()
        logger.debug("starting domain", metadata: ["name": "\(description.name)", "uri": "\(connection.uri)"])
        let domain: Domain
        do {
            domain = try connection.createDomain(xml: xml, flags: flags, name: description.name)
        } catch {
            socket?.close()
            // libvirt may have created the console log before QEMU failed.
            if let log = description.consoleLogPath { unlink(log) }
            throw .libvirt(error)
        }
        timeline.append(.started, at: stopwatch.elapsed())

        // From here on the domain exists: every failure must destroy it, and
        // so must an interrupted mvm.
        let console = GuestConsole()
        if let socket { console.attach(.socket(socket)) }
        let teardown = DomainTeardown(domain: domain, console: console, logPath: description.consoleLogPath)
        TeardownRegistry.shared.register(description.name) { try? teardown.run() }
        func fail(_ error: VMMError) -> VMMError {
            try? teardown.run()
            TeardownRegistry.shared.unregister(description.name)
            return error
        }

        let readDescriptor: Int32
        var peerPID: Int32?
        do throws(VMMError) {
            if let socket {
                let accepted = try socket.acceptConnection(until: deadline)
                (readDescriptor, peerPID) = (accepted.fd, accepted.peerPID)
            } else {
                readDescriptor = try attachStream(to: domain, on: connection, console: console)
                timeline.append(.resumed, at: stopwatch.elapsed())
            }
        } catch {
            throw fail(error)
        }
        var scanner = ConsoleScanner()
        switch waitForReadiness(on: readDescriptor, until: deadline, scanner: &scanner, echo: configuration.consoleEcho) {
        case .success(let observation):
            let pid = isLocal(uri: connection.uri) ? qemuPID(uri: connection.uri, domainName: description.name) ?? peerPID : nil
            return MicroVM(
                name: description.name, teardown: teardown, console: console, description: description, xml: xml,
                uri: connection.uri, acceleratorChoice: acceleratorChoice,
                boot: observation.bootRecord(completing: timeline, on: stopwatch),
                qemuPID: pid)
        case .failure(.timedOut):
            throw fail(.readinessTimeout(after: configuration.timeout, accelerator: description.accelerator, consoleTail: scanner.lastLines))
        case .failure(.kernelPanic(let line)):
            throw fail(.kernelPanic(line: line, consoleTail: scanner.lastLines))
        case .failure(.endOfOutput):
            throw fail(.guestStopped(consoleTail: scanner.lastLines))
        case .failure(.readFailed(let code)):
            throw fail(.system("reading the guest console failed: \(errnoDescription(code))"))
        }
    }

    /// How long a paused domain waits, once libvirt has opened its pty
    /// console, before its vCPUs run. QEMU drops what a pty serial port
    /// writes until it notices a client, and it looks once a second
    /// (chardev/char-pty.c, pty_chr_rearm_timer(chr, 1000)). Two looks'
    /// worth, so that one late look on a loaded host loses nothing.
    static let ptyAttachHold: Duration = .milliseconds(2100)

    /// Opens the console of a paused domain through libvirt, waits until QEMU
    /// can have seen the client, resumes the domain; returns the descriptor
    /// to read the console from.
    private static func attachStream(to domain: Domain, on connection: Connection, console: GuestConsole) throws(VMMError) -> Int32 {
        let streamConsole: StreamConsole
        do {
            let stream = try connection.makeStream()
            try domain.openConsole(into: stream)
            streamConsole = try StreamConsole(stream: stream)
        } catch let error as LibvirtError {
            throw .libvirt(error)
        } catch {
            throw error as? VMMError ?? .system("\(error)")
        }
        console.attach(.stream(streamConsole))
        Thread.sleep(forTimeInterval: ptyAttachHold.seconds)
        do {
            try domain.resume()
        } catch {
            throw .libvirt(error)
        }
        return streamConsole.readDescriptor
    }

    /// libvirt destroys the domain when the connection closes (a crashed mvm),
    /// except where the domain must outlive mvm or the driver cannot do it
    /// (the embedded driver: there the teardown registry does the job).
    static func startFlags(uri: String, keep: Bool) -> DomainStartFlags {
        keep || uri.hasPrefix("qemu:///embed") ? [] : [.autoDestroy]
    }

    /// The QEMU process of a running domain, from the pid file libvirt's QEMU
    /// driver keeps in its run directory.
    static func qemuPID(uri: String, domainName: String) -> Int32? {
        guard let runDirectory = qemuRunDirectory(uri: uri) else { return nil }
        let text = readSmallFile(runDirectory + "/" + domainName + ".pid")
        return text.flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// libvirt's QEMU driver run directory for a local URI.
    static func qemuRunDirectory(uri: String) -> String? {
        if let rootRange = uri.range(of: "qemu:///embed?root=") {
            let root = uri[rootRange.upperBound...].prefix { $0 != "&" }
            return root + "/run/qemu"
        }
        if uri.hasPrefix("qemu:///system") || uri.hasPrefix("qemu+unix:///system") {
            return "/run/libvirt/qemu"
        }
        if uri.hasPrefix("qemu:///session") || uri.hasPrefix("qemu+unix:///session") {
            let runtime = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"] ?? "/run/user/\(getuid())"
            return runtime + "/libvirt/qemu/run"
        }
        return nil
    }

    /// Versions for reports: libvirt's and the hypervisor's.
    public func versions() -> (libvirt: String?, hypervisor: String?) {
        (try? connection.libvirtVersion(), try? connection.hypervisorVersion())
    }
}

/// A booted micro-VM whose guest printed its readiness line.
public final class MicroVM: RunningInstance {
    public let kind = "vm"
    public let name: String
    public let boot: BootRecord
    public let description: DomainDescription
    /// The domain XML mvm asked for.
    public let xml: String
    public let uri: String
    public let acceleratorChoice: AcceleratorChoice
    /// The domain's QEMU process, when it runs on this machine.
    public let qemuPID: Int32?
    private let teardown: DomainTeardown
    private let console: GuestConsole
    private let stopped = Mutex(false)

    init(
        name: String, teardown: DomainTeardown, console: GuestConsole, description: DomainDescription, xml: String,
        uri: String, acceleratorChoice: AcceleratorChoice, boot: BootRecord, qemuPID: Int32?
    ) {
        self.name = name
        self.teardown = teardown
        self.console = console
        self.description = description
        self.xml = xml
        self.uri = uri
        self.acceleratorChoice = acceleratorChoice
        self.boot = boot
        self.qemuPID = qemuPID
    }

    /// PSS and RSS of the QEMU process, plus the memory the guest's kernel
    /// counts as used (from its readiness line).
    public func footprint() async throws -> Footprint {
        let guestUsed = MemoryReading(name: MemoryReading.Name.guestUsed, bytes: boot.facts.usedBytes)
        guard let qemuPID else {
            // QEMU runs on another machine: libvirt reports its RSS; PSS
            // needs /proc of that machine.
            let domain = teardown.domain
            let rss = try await onDedicatedThreadTyped { () throws(LibvirtError) in try domain.residentBytes() }
            guard let rss else {
                throw VMMError.system("libvirt reports no memory figure for \(name) on \(uri)")
            }
            return Footprint(readings: [MemoryReading(name: MemoryReading.Name.rss, bytes: rss), guestUsed])
        }
        let memory = try ProcessMemory.read(pid: qemuPID)
        return Footprint(readings: [
            MemoryReading(name: MemoryReading.Name.pss, bytes: memory.pssBytes),
            MemoryReading(name: MemoryReading.Name.rss, bytes: memory.rssBytes),
            guestUsed,
        ])
    }

    /// Destroys the domain and removes its console socket. Safe to call again.
    public func stop() async throws {
        let first = stopped.withLock { alreadyStopped in
            defer { alreadyStopped = true }
            return !alreadyStopped
        }
        guard first else { return }
        let teardown = self.teardown
        let name = self.name
        try await onDedicatedThreadTyped { () throws(VMMError) in
            defer { TeardownRegistry.shared.unregister(name) }
            do throws(LibvirtError) { try teardown.run() } catch { throw .libvirt(error) }
        }
    }

    /// Lets the domain run on after this process exits (`--keep`): closes
    /// mvm's end of the console without destroying the domain.
    public func detach() {
        stopped.withLock { $0 = true }
        console.close()
        TeardownRegistry.shared.unregister(name)
    }
}

/// Removes one domain: destroys it, closes mvm's end of its console, removes
/// its console log. Used on failure, on stop and on an interrupt alike.
final class DomainTeardown: Sendable {
    let domain: Domain
    let console: GuestConsole
    let logPath: String?

    init(domain: Domain, console: GuestConsole, logPath: String?) {
        self.domain = domain
        self.console = console
        self.logPath = logPath
    }

    /// Closes and removes mvm's side even when destroying fails.
    func run() throws(LibvirtError) {
        defer {
            console.close()
            if let logPath { unlink(logPath) }
        }
        try domain.destroy()
    }
}
