import ContainerShim
import Foundation
import MVMCore
import Synchronization

/// Starts mvm's container through a container engine: the same tree, /init,
/// readiness line, memory, CPU and pids limits, and no network, as one
/// `podman run` or `docker run`, whose stdout mvm reads (created: when the
/// engine writes `--cidfile`). Podman runs the tree itself (`--rootfs DIR:O`); Docker needs
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

    /// `run`'s arguments: the limits and environment of mvm's container;
    /// the engine writes the container's id to `cidfile` once it has
    /// created it.
    func runArguments(id: String, image: EngineImage?, cidfile: String) -> [String] {
        let limits = configuration.limits
        var arguments = [
            "run", "--name", id, "--cidfile", cidfile, "--network=none", "--memory", "\(limits.memoryMiB)m",
            "--memory-swap",
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
        let client = Mutex<SupervisedProcess?>(nil)
        let ready = Mutex(false)
        let id = scope.id
        let remove: @Sendable () async throws -> Void = {
            defer {
                unlink(logPath)
                unlink(logPath.replacingOccurrences(of: ".engine-log", with: ".cid"))
            }
            // The client first: killed, it asks for nothing more. A create
            // it had asked for may still finish in the engine after that,
            // so the container is looked for again until it stays gone.
            // A ready container was created long ago: nothing to wait for.
            let started = client.withLock { $0 }
            await started?.stop()
            try await EngineRemoval(engine: engine).remove(id, settling: started != nil && !ready.withLock { $0 })
        }
        let handle = scope.onTeardown(forceStop: { engine.killCommands(for: id) }, remove)
        // One `run`, as people start a container: a `create` and a
        // `start --attach` cost a second start of the engine's command.
        let cidfile = logPath.replacingOccurrences(of: ".engine-log", with: ".cid")
        let process: SupervisedProcess
        do {
            process = try await SupervisedProcess.start(
                executable: engine.executable,
                arguments: engine.commandLine(runArguments(id: id, image: image, cidfile: cidfile)),
                stderrPath: logPath)
        } catch {
            throw .system(SystemFailure("cannot start \(engine.kind.rawValue) run", underlying: error))
        }
        client.withLock { $0 = process }
        scope.mark(.spawned)
        let created = CreationWatch(cidfile: cidfile, stopwatch: scope.stopwatch)
        var boot: BootRecord
        do throws(ReadinessFailure) {
            boot = try await scope.awaitReadiness(on: process.output, rule: configuration.readiness)
            // Created: when the engine wrote the container's id, if seen by then.
            if let offset = created.finish(), offset <= boot.timeline.offset(of: .ready) ?? .zero {
                boot.timeline.insert(.created, at: offset)
            }
        } catch {
            _ = created.finish()
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw .container(ContainerError(error, runtimeLog: log))
        }
        ready.withLock { $0 = true }
        let processes = try await EngineProcesses.inspect(id, engine: engine)
        return EngineContainer(
            id: id, engine: engine, boot: boot, processes: processes, clientPID: process.pid, teardown: handle)
    }
}

/// Watches for the engine's `--cidfile`, which it writes once the container
/// is created: the `created` phase of a single `run`. Polls every
/// millisecond until finished; the file's first sight is the phase.
final class CreationWatch: Sendable {
    private let seen: SeenOffset
    private let task: Task<Void, Never>

    private final class SeenOffset: Sendable {
        let offset = Mutex<Duration?>(nil)
    }

    init(cidfile: String, stopwatch: PhaseStopwatch) {
        let seen = SeenOffset()
        self.seen = seen
        task = Task.detached {
            while !Task.isCancelled {
                if FileManager.default.fileExists(atPath: cidfile) {
                    let offset = stopwatch.elapsed()
                    seen.offset.withLock { $0 = offset }
                    return
                }
                try? await Task.sleep(for: .milliseconds(1))
            }
        }
    }

    /// Stops watching; the offset at which the file was first seen.
    func finish() -> Duration? {
        task.cancel()
        return seen.offset.withLock { $0 }
    }
}
