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
        return try await resume(paused, tracing: false)
    }

    /// Prepares a domain whose guest marks its boot (untimed, as a pool
    /// prepares), then resumes it traced: mvm's resume, then the kernel and
    /// the init from the console.
    public func launchTraced() async throws(VMMError) -> MicroVM {
        try await resume(try await createPaused(tracing: true), tracing: true)
    }

    private func resume(_ paused: PausedDomain, tracing: Bool) async throws(VMMError) -> MicroVM {
        do throws(VMMError) {
            return try await withLaunchScope(timeout: base.configuration.limits.timeout, tracing: tracing) {
                (scope) async throws(VMMError) -> MicroVM in
                try await onDedicatedThreadTyped { () throws(VMMError) in
                    guard let domain = paused.started.domainTeardown.domain else {
                        throw .system(
                            SystemFailure("\(paused.boot.description.name) was torn down before it was resumed"))
                    }
                    do throws(LibvirtError) {
                        try domain.resume()
                    } catch {
                        throw .libvirt(error)
                    }
                    scope.mark(.resumed)
                }
                return try await paused.boot.waitUntilReady(paused.started, in: scope)
            }
        } catch {
            try? await paused.started.teardown.run()
            throw error
        }
    }

    /// Destroys the prepared domains nobody launched.
    public func drain() async {
        let left = pool.withLock { pool in
            defer { pool.removeAll() }
            return pool
        }
        for paused in left { try? await paused.started.teardown.run() }
    }

    /// A domain started paused (`VIR_DOMAIN_START_PAUSED`), whose QEMU has
    /// connected its serial port to mvm's socket: what a resume needs.
    private func createPaused(tracing: Bool = false) async throws(VMMError) -> PausedDomain {
        let base = self.base
        return try await withLaunchScope(timeout: base.configuration.limits.timeout, tracing: tracing) {
            (scope) async throws(VMMError) -> PausedDomain in
            let boot = try await base.domainBoot(in: scope, kind: "micro-vm-warm")
            return PausedDomain(boot: boot, started: try await boot.start(in: scope, paused: true))
        }
    }
}

/// A domain created paused with its console connected, and how to boot it.
struct PausedDomain: Sendable {
    let boot: DomainBoot
    let started: StartedDomain
}
