import Foundation
import MVMCore
import SystemPackage

/// Starts containers of one configuration through an OCI runtime.
public final class ContainerLauncher: InstanceLauncher {
    /// The configuration as checked, with the rootfs staged where the
    /// container's user can read it.
    public let configuration: ContainerConfiguration
    public let host: ContainerHost
    /// True when containers get a user namespace of their own.
    public let usesUserNamespace: Bool
    let runtime: OCIRuntime

    /// Checks the runtime and the rootfs on `host`; starts nothing. The
    /// limits were checked against this host when they were made.
    public init(_ configuration: ContainerConfiguration, host: ContainerHost) throws(ContainerError) {
        guard !configuration.command.isEmpty else { throw .invalidConfiguration("the container needs a command") }
        if configuration.terminal {
            // Every id is `mvm-` and 8 hex digits: one of that length stands for all.
            try TerminalSocket.checkPath(
                Self.terminalSocketPath(
                    id: instanceNamePrefix + String(repeating: "x", count: 8),
                    stateDirectory: configuration.stateDirectory))
        }
        let runtime = try Self.checkedRuntime(
            configuration.runtime, host: host, stateDirectory: configuration.stateDirectory)
        try Self.checkRootfs(configuration.rootfsPath, command: configuration.command)
        usesUserNamespace = try Self.userNamespace(configuration.userNamespace, host: host)
        // In a user namespace the container's root is an unprivileged host
        // uid, which must be able to reach the rootfs. Rootless, that uid is
        // mvm's own user, who reaches it already.
        var effective = configuration
        // runc refuses a rootfs path that goes through a symbolic link (an
        // installed images directory may be one).
        effective.rootfsPath = URL(fileURLWithPath: configuration.rootfsPath).resolvingSymlinksInPath().path
        if usesUserNamespace && host.rootlessUser == nil {
            do throws(SystemFailure) {
                effective.rootfsPath = try ImageStaging(stateDirectory: configuration.stateDirectory)
                    .reachablePath(for: effective.rootfsPath)
            } catch {
                throw .system(error)
            }
        }
        self.configuration = effective
        self.host = host
        self.runtime = runtime
    }

    /// Whether containers get a user namespace: a rootless runtime needs one
    /// (it is what makes the user the container's root).
    private static func userNamespace(_ mode: UserNamespaceMode, host: ContainerHost) throws(ContainerError) -> Bool {
        if host.rootlessUser != nil {
            guard host.userNamespacesAllowed else {
                throw .invalidConfiguration(
                    "this host allows no user namespaces (user.max_user_namespaces is 0), which containers started by a non-root user need; run mvm as root, or allow them (sysctl user.max_user_namespaces=15000)"
                )
            }
            guard mode != .off else {
                throw .invalidConfiguration(
                    "containers started by a non-root user need a user namespace; leave --userns at auto, or run mvm as root"
                )
            }
            return true
        }
        switch mode {
        case .off: return false
        case .auto: return host.userNamespacesAllowed
        case .on:
            guard host.userNamespacesAllowed else {
                throw .invalidConfiguration(
                    "this host allows no user namespaces (user.max_user_namespaces is 0); turn the user namespace off, or leave it to auto"
                )
            }
            return true
        }
    }

    /// A rootless container without delegated cgroups runs without limits;
    /// gVisor's pids limit counts its Sentry's host threads too.
    public var caveats: [String] {
        var caveats = host.rootlessUser?.limitsCaveat.map { [$0] } ?? []
        if runtime.isSandbox {
            caveats.append(
                "gVisor's Sentry and gofer are host tasks in the sandbox's cgroup, so its pids limit is \(configuration.pidsLimit) + \(ContainerConfiguration.sandboxHostTasks) for them; its memory and CPU limits hold the Sentry with the workload"
            )
        }
        return caveats
    }

    /// The limits the containers go without (see `caveats`).
    public var unappliedLimits: [String] {
        host.rootlessUser?.unappliedLimits ?? []
    }

    /// Finds the runtime binary and checks that it can work on this host.
    private static func checkedRuntime(
        _ selection: RuntimeSelection, host: ContainerHost, stateDirectory: StateDirectory
    ) throws(ContainerError) -> OCIRuntime {
        let runtime = try OCIRuntime.resolve(selection, stateDirectory: stateDirectory)
        if case .runsc(let platform) = selection {
            let platforms = RunscPlatforms.available(runsc: runtime.executable)
            guard platforms.contains(platform) else {
                throw .runtimeUnsupported(
                    runtime: runtime.executable,
                    reason: "this runsc has no platform \(platform) (it has \(platforms.joined(separator: ", ")))",
                    alternative: "use --runsc-platform \(platforms.first ?? RuntimeSelection.defaultRunscPlatform)")
            }
        }
        if runtime.name == "crun" && host.cgroups == .hybrid {
            throw .runtimeUnsupported(
                runtime: runtime.executable,
                reason:
                    "cgroups are in hybrid mode (v1 controllers with a v2 hierarchy beside them), which crun does not support",
                alternative: "use runc, or a host with cgroup v2 only")
        }
        return runtime
    }

    /// The runtime binary `init` would choose, checked as `init` checks it,
    /// and its version line: for `mvm doctor`, which needs no rootfs and
    /// starts nothing.
    public static func checkRuntime(
        _ selection: RuntimeSelection, host: ContainerHost, stateDirectory: StateDirectory
    ) async throws(ContainerError) -> (path: String, version: String?) {
        let runtime = try checkedRuntime(selection, host: host, stateDirectory: stateDirectory)
        return (runtime.executable, await runtime.version())
    }

    private static func checkRootfs(_ path: String, command: [String]) throws(ContainerError) {
        guard path.hasPrefix("/") else { throw .rootfs(path: path, problem: "is not an absolute path") }
        var directory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &directory) else {
            throw .rootfs(path: path, problem: "does not exist")
        }
        guard directory.boolValue else { throw .rootfs(path: path, problem: "is not a directory") }
        if let program = command.first, program.hasPrefix("/"),
            !FileManager.default.isExecutableFile(atPath: path + program)
        {
            throw .rootfs(path: path, problem: "has no executable \(program)")
        }
    }

    /// The config.json a launch would write (for `--dry-run`).
    public func describeSpec() -> OCISpec {
        spec(id: newInstanceName())
    }

    /// The container's spec; a traced start's init also marks its steps.
    func spec(id: String, tracing: Bool = false) -> OCISpec {
        var configuration = self.configuration
        if tracing { configuration.environment.append("mvm_trace=1") }
        return SpecBuilder.spec(for: configuration, id: id, host: host, userNamespace: usesUserNamespace)
    }

    /// The runtime's version line ("runc version 1.1.5+ds1").
    public func runtimeVersion() async -> String? {
        await runtime.version()
    }

    /// The runtime binary's path.
    public var runtimePath: String { runtime.executable }

    /// Writes the bundle, creates and starts the container, and waits for its
    /// readiness line. On failure the container and its bundle are removed.
    public func launch() async throws(ContainerError) -> Container {
        try await withLaunchScope(timeout: configuration.limits.timeout) {
            (scope) async throws(ContainerError) -> Container in
            try await launch(in: scope, runtimeLog: nil)
        }
    }

    /// Starts one container whose start is traced: the runtime's debug log
    /// of `create` and `start`, timed on arrival, and the init's steps.
    public func launchTraced() async throws(ContainerError) -> Container {
        // runsc's debug log comes from its sandbox and gofer too, which
        // outlive `start`: its trace is mvm's phases.
        guard !runtime.isSandbox else { return try await launch() }
        return try await withLaunchScope(timeout: configuration.limits.timeout, tracing: true) {
            (scope) async throws(ContainerError) -> Container in
            let tap: RuntimeLogTap
            do throws(SystemFailure) {
                let consoles = try configuration.stateDirectory.ensureSubdirectory("consoles", permissions: 0o711)
                tap = try RuntimeLogTap(path: consoles + "/" + scope.id + ".runtime-log", stopwatch: scope.stopwatch)
            } catch {
                throw .system(error)
            }
            do throws(ContainerError) {
                return try await launch(in: scope, runtimeLog: tap)
            } catch {
                _ = tap.finish()
                throw error
            }
        }
    }

    private func launch(in scope: LaunchScope, runtimeLog: RuntimeLogTap?) async throws(ContainerError) -> Container {
        do throws(SystemFailure) {
            try scope.claimOwnership(in: OwnerRecords(stateDirectory: configuration.stateDirectory), kind: "container")
        } catch {
            throw .system(error)
        }
        let bundle = ContainerBundle(stateDirectory: configuration.stateDirectory, id: scope.id)
        let created: Created
        do throws(ContainerError) {
            created =
                configuration.terminal
                ? try await createWithTerminal(in: scope, bundle: bundle, runtimeLog: runtimeLog?.path)
                : try await createWithPipe(in: scope, bundle: bundle, runtimeLog: runtimeLog?.path)
            scope.mark(.created)
            try await runtime.run(["start", scope.id], log: runtimeLog?.path)
        } catch  where scope.wasForceStopped {
            throw .system(
                SystemFailure(
                    "\(runtime.name) did not finish within the timeout (\(formatSeconds(scope.timeout))), so mvm killed it (\(error))",
                    advice: "raise the timeout if the host is busy, or check the runtime"))
        }
        scope.mark(.started)
        // Every line of the runtime is in the FIFO once `start` has exited.
        let runtimeLines = runtimeLog?.finish()
        var boot: BootRecord
        do throws(ReadinessFailure) {
            boot = try await scope.awaitReadiness(
                on: created.output, rule: configuration.readiness, echo: configuration.outputEcho)
        } catch {
            // Read now: the teardown removes the cgroup and its counter.
            if error.reason == .endOfOutput, let cgroupsPath = spec(id: scope.id).linux.cgroupsPath,
                let kills = ContainerCgroup.outOfMemoryKills(cgroupsPath: cgroupsPath), kills > 0
            {
                throw .killedByMemoryLimit(
                    limitMiB: configuration.limits.memoryMiB, kills: kills, outputTail: error.outputTail)
            }
            throw ContainerError(error, runtimeLog: bundle.stderrLog)
        }
        if let runtimeLines {
            boot.trace = ContainerTrace(
                runtime: runtime.name, boot: boot, points: scope.traced.points, runtimeLines: runtimeLines
            ).trace(console: scope.traced.lines)
        }
        return Container(
            id: scope.id, bundle: bundle, runtime: runtime, initPID: try await runtime.state(id: scope.id).pid,
            boot: boot, spec: spec(id: scope.id), usesUserNamespace: usesUserNamespace,
            teardown: created.teardown, output: created.output,
            terminalRelaySocket: configuration.terminal
                ? ConsoleRelay.socketPath(
                    consoles: configuration.stateDirectory.subdirectory("consoles"), name: scope.id) : nil)
    }
}
