import MVMCore
import Synchronization

/// `vm-warm` (`mvm compare --warm`): micro-VMs created paused ahead of time,
/// their console already connected, and resumed on request, as VM pools and
/// Kata's templates do. What a request then costs is the resume and the
/// guest's own boot: no libvirt start, no QEMU start. A row of its own,
/// never mixed with cold starts.
public final class WarmMicroVMLauncher: PreparedLaunching {
    private let base: MicroVMLauncher
    private let pool = Mutex<[PausedDomain]>([])

    public init(matching launcher: MicroVMLauncher) {
        base = launcher
    }

    public var caveats: [String] { base.caveats }

    /// Creates `count` paused domains for the next launches: outside any
    /// timed window (the runner calls it before a batch starts its clock).
    public func prepare(count: Int) async throws {
        for _ in 0..<count {
            let paused = try await createPaused()
            pool.withLock { $0.append(paused) }
        }
    }

    /// Resumes a prepared domain (preparing one first, untimed, if none is
    /// ready) and waits for its readiness line: the request is the resume.
    public func launch() async throws(VMMError) -> MicroVM {
        let paused: PausedDomain
        if let ready = pool.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) {
            paused = ready
        } else {
            paused = try await createPaused()
        }
        let description = paused.description
        let base = self.base
        let configuration = base.configuration
        do throws(VMMError) {
            return try await withLaunchScope(timeout: configuration.limits.timeout) { (scope) async throws(VMMError) -> MicroVM in
                try await onDedicatedThreadTyped { () throws(VMMError) -> MicroVM in
                    guard let domain = paused.domainTeardown.domain else {
                        throw .system(SystemFailure("\(description.name) was torn down before it was resumed"))
                    }
                    do throws(LibvirtError) {
                        try domain.resume()
                    } catch {
                        throw .libvirt(error)
                    }
                    scope.mark(.resumed)
                    let boot: BootRecord
                    do throws(ReadinessFailure) {
                        boot = try scope.waitForReadiness(on: paused.console, echo: configuration.consoleEcho)
                    } catch {
                        throw VMMError(error, accelerator: description.accelerator)
                    }
                    return MicroVM(
                        description: description, uri: base.uri, acceleratorChoice: base.acceleratorChoice, boot: boot,
                        qemuPID: paused.qemuPID, teardown: paused.teardown, domainTeardown: paused.domainTeardown)
                }
            }
        } catch {
            try? await paused.teardown.run()
            throw error
        }
    }

    /// Destroys the prepared domains nobody launched.
    public func drain() async {
        let left = pool.withLock { pool in
            defer { pool.removeAll() }
            return pool
        }
        for paused in left { try? await paused.teardown.run() }
    }

    /// A domain started paused (`VIR_DOMAIN_START_PAUSED`), whose QEMU has
    /// connected its serial port to mvm's socket: what a resume needs.
    private func createPaused() async throws(VMMError) -> PausedDomain {
        let base = self.base
        return try await withLaunchScope(timeout: base.configuration.limits.timeout) { (scope) async throws(VMMError) -> PausedDomain in
            let configuration = base.configuration
            do throws(SystemFailure) {
                try scope.claimOwnership(
                    in: OwnerRecords(stateDirectory: configuration.stateDirectory), kind: "micro-vm-warm",
                    connectURI: configuration.connectURI)
                _ = try configuration.stateDirectory.ensureSubdirectory("consoles", permissions: 0o711)
            } catch {
                throw .system(error)
            }
            let description = base.describeDomain(name: scope.id)
            guard case .unixSocket(let path) = description.console else {
                throw .invalidConfiguration("--warm needs the socket console: a domain on this machine")
            }
            let domainTeardown = DomainTeardown(connection: base.connection, name: description.name, logPath: description.consoleLogPath)
            let teardown = scope.onTeardown {
                try await onDedicatedThreadTyped { () throws(VMMError) in try domainTeardown.run() }
            }
            return try await onDedicatedThreadTyped { () throws(VMMError) -> PausedDomain in
                let socket = try ConsoleSocket(path: path)
                domainTeardown.console.attach(.socket(socket))
                var flags: DomainStartFlags = [.paused]
                if base.uri.supportsAutoDestroy { flags.insert(.autoDestroy) }
                _ = try domainTeardown.createDomain(xml: description.xml(), flags: flags)
                let (console, peerPID) = try socket.acceptConnection(until: scope.deadline)
                let pid = DomainBoot.qemuPID(uri: base.uri, name: description.name) ?? peerPID
                return PausedDomain(
                    description: description, domainTeardown: domainTeardown, console: console, qemuPID: pid, teardown: teardown)
            }
        }
    }
}

/// A domain created paused with its console connected.
struct PausedDomain: Sendable {
    let description: DomainDescription
    let domainTeardown: DomainTeardown
    let console: SharedDescriptor
    let qemuPID: Int32?
    let teardown: InstanceTeardown
}
