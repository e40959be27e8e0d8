import ContainerShim
import Foundation
import MVMCore
import Synchronization

/// Starts mvm's container through a container engine: the same tree, /init,
/// readiness line, memory, CPU and pids limits, and no network, as
/// `podman create` or `docker create`, then `start --attach`, whose stdout
/// mvm reads. Podman runs the tree itself (`--rootfs DIR:O`); Docker needs
/// an image, which the launcher imports once (`docker import`), outside
/// any timed window, and removes in `drain()`.
public final class EngineLauncher: PreparedLaunching {
    public let engine: ContainerEngine
    public let configuration: ContainerConfiguration
    public let host: ContainerHost
    private let image: Mutex<EngineImage?> = Mutex(nil)

    /// Checks the engine on `host` (see `ContainerEngine.resolve`) and the
    /// tree; starts nothing.
    public init(
        _ kind: EngineKind, configuration: ContainerConfiguration, host: ContainerHost
    ) async throws(EngineError) {
        guard !configuration.terminal else {
            throw .unsupported(kind, reason: "mvm reads its output, not a terminal", alternative: "use mvm run -it")
        }
        engine = try await ContainerEngine.resolve(
            kind, stateDirectory: configuration.stateDirectory, runtime: configuration.runtime, host: host)
        var resolved = configuration
        resolved.rootfsPath = URL(fileURLWithPath: configuration.rootfsPath).resolvingSymlinksInPath().path
        guard let program = configuration.command.first,
            FileManager.default.isExecutableFile(atPath: resolved.rootfsPath + program)
        else {
            throw .container(
                .rootfs(
                    path: resolved.rootfsPath, problem: "has no executable \(configuration.command.first ?? "command")")
            )
        }
        self.configuration = resolved
        self.host = host
    }

    /// Without a host cgroup of its own, an engine's limits are its own
    /// business; none is left unapplied.
    public var caveats: [String] { [] }

    /// Imports the tree as Docker's image (once); Podman needs nothing.
    public func prepare(count: Int) async throws {
        _ = try await preparedImage()
    }

    /// Removes the imported image.
    public func drain() async {
        let imported = image.withLock { image in
            defer { image = nil }
            return image
        }
        try? await imported?.remove()
    }

    private func preparedImage() async throws(EngineError) -> EngineImage? {
        guard engine.kind == .docker else { return nil }
        if let ready = image.withLock({ $0 }) { return ready }
        let imported = try await EngineImage.importTree(
            configuration.rootfsPath, into: engine, configuration: configuration)
        image.withLock { $0 = imported }
        return imported
    }

    public func launch() async throws(EngineError) -> EngineContainer {
        let image = try await preparedImage()
        return try await withLaunchScope(timeout: configuration.limits.timeout) {
            (scope) async throws(EngineError) -> EngineContainer in
            try await launch(in: scope, image: image)
        }
    }

    /// `create`'s arguments: the limits and environment of mvm's container.
    func createArguments(id: String, image: EngineImage?) -> [String] {
        let limits = configuration.limits
        var arguments = [
            "create", "--name", id, "--network=none", "--memory", "\(limits.memoryMiB)m", "--memory-swap",
            "\(limits.memoryMiB)m", "--cpus", "\(limits.vcpus)", "--cpuset-cpus",
            limits.vcpus == 1 ? "0" : "0-\(limits.vcpus - 1)", "--pids-limit", "\(configuration.pidsLimit)",
            "--env", "PATH=/bin:/sbin",
            // A tmpfs at /tmp, as mvm's container spec has it.
            "--tmpfs", "/tmp",
        ]
        for entry in configuration.environment { arguments += ["--env", entry] }
        switch engine.kind {
        case .podman:
            // Podman asks for the host's hard RLIMIT_NOFILE and NPROC by
            // default, which a host may not grant (20000 here against its
            // 1048576); these are runc's own defaults for mvm's container.
            arguments += [
                "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--rootfs",
                configuration.rootfsPath + ":O",
            ]
        case .docker:
            // Never a registry: the image is the tree mvm imported.
            arguments += ["--pull=never", image?.reference ?? "missing-image"]
        }
        return arguments + configuration.command
    }

    private func launch(in scope: LaunchScope, image: EngineImage?) async throws(EngineError) -> EngineContainer {
        let engine = self.engine
        do throws(SystemFailure) {
            try scope.claimOwnership(
                in: OwnerRecords(stateDirectory: configuration.stateDirectory), kind: engine.kind.rawValue)
        } catch {
            throw .system(error)
        }
        let logPath: String
        do throws(SystemFailure) {
            logPath =
                try configuration.stateDirectory.ensureSubdirectory("consoles", permissions: 0o711) + "/" + scope.id
                + ".engine-log"
        } catch {
            throw .system(error)
        }
        let attach = Mutex<SupervisedProcess?>(nil)
        let id = scope.id
        let remove: @Sendable () async throws -> Void = {
            defer { unlink(logPath) }
            try await EngineRemoval(engine: engine).remove(id)
            await attach.withLock { $0 }?.stop()
        }
        let handle = scope.onTeardown(forceStop: { engine.killCommands(for: id) }, remove)
        do throws(EngineError) {
            try await engine.run(createArguments(id: id, image: image))
        } catch  where scope.wasForceStopped {
            throw .system(
                SystemFailure(
                    "\(engine.kind.rawValue) create did not finish within the timeout (\(formatSeconds(scope.timeout))), so mvm killed it",
                    advice: "raise the timeout if the host is busy, or check the engine"))
        }
        scope.mark(.created)
        let process: SupervisedProcess
        do {
            process = try await SupervisedProcess.start(
                executable: engine.executable, arguments: engine.commandLine(["start", "--attach", id]),
                stderrPath: logPath)
        } catch {
            throw .system(SystemFailure("cannot start \(engine.kind.rawValue) start", underlying: error))
        }
        attach.withLock { $0 = process }
        scope.mark(.spawned)
        let boot: BootRecord
        do throws(ReadinessFailure) {
            boot = try await scope.awaitReadiness(on: process.output, rule: configuration.readiness)
        } catch {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw .container(ContainerError(error, runtimeLog: log))
        }
        let processes = try await EngineProcesses.inspect(id, engine: engine)
        return EngineContainer(
            id: id, engine: engine, boot: boot, processes: processes, attachPID: process.pid, teardown: handle)
    }
}
