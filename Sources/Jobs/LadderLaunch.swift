import Compare
import ContainerEngines
import ContainerShim
import MVMCore

/// The container-like contenders (mvm's container, gVisor's sandbox, the
/// engines) as the dimensions beyond boot start them: with environment of
/// their own (the isolation probe, a workload), and with the host process
/// that runs their workload (the container's init, gVisor's Sentry).
enum LadderLaunch {
    /// `contender` whose instances also get `environment`.
    static func adding(_ environment: [String], to contender: Contender) async throws -> Contender {
        let launcher: any InstanceLauncher
        switch contender.launcher {
        case let direct as DirectRuncLauncher:
            // gVisor's plain `runsc run`: its probes and workloads run
            // through create and start, whose init pid mvm reads.
            return try await adding(
                environment, to: Contender(name: contender.name, role: contender.role, launcher: direct.base))
        case let container as ContainerLauncher:
            var configuration = container.configuration
            configuration.environment += environment
            launcher = try ContainerLauncher(configuration, host: container.host)
        case let engine as EngineLauncher:
            var configuration = engine.configuration
            configuration.environment += environment
            launcher = try await EngineLauncher(engine.engine.kind, configuration: configuration, host: engine.host)
        default:
            throw SystemFailure("\(contender.name) cannot be started with an environment of its own")
        }
        return Contender(name: contender.name, role: contender.role, launcher: launcher)
    }

    /// Starts one instance of `contender`; returns it with the pid of its
    /// host-side process (the init, or gVisor's Sentry: runsc's state pid)
    /// and whether it has a user namespace of its own.
    static func start(_ contender: Contender) async throws -> (any RunningInstance, Int32, Bool) {
        switch contender.launcher {
        case let container as ContainerLauncher:
            let instance = try await container.launch()
            return (instance, instance.initPID, instance.usesUserNamespace)
        case let engine as EngineLauncher:
            let instance = try await engine.launch()
            return (instance, instance.initPID, false)
        default:
            throw SystemFailure("\(contender.name) has no host process mvm can read")
        }
    }

    /// Removes what a launcher prepared (an engine's imported tree).
    static func drain(_ contender: Contender) async {
        if let prepared = contender.launcher as? any PreparedLaunching { await prepared.drain() }
    }

    /// The ladder's steps among `contenders` (the isolation ladder beyond
    /// mvm's container): what the dimensions measure besides the pair.
    static func ladder(_ contenders: [Contender]) -> [Contender] {
        contenders.filter { $0.role == .sandboxedContainer || $0.role == .containerEngine }
    }
}
