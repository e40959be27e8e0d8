import Foundation
import MVMCore
import Synchronization

/// The reference row `runc-direct`: a plain `runc run` of the same bundle the
/// `container` row uses, with the container's stdout on runc's. What it
/// lacks next to the `container` row is what mvm's create/start split adds.
public struct DirectRuncLauncher: InstanceLauncher {
    /// The container launcher whose bundle it runs.
    public let base: ContainerLauncher

    public init(matching launcher: ContainerLauncher) {
        base = launcher
    }

    public var caveats: [String] { base.caveats }
    public var unappliedLimits: [String] { base.unappliedLimits }

    public func launch() async throws(ContainerError) -> DirectRuncInstance {
        try await launch(tracing: false)
    }

    /// A plain `runc run` with its debug log read through a FIFO and the
    /// init marking its steps.
    public func launchTraced() async throws(ContainerError) -> DirectRuncInstance {
        // runsc's debug log comes from its sandbox and gofer too, which
        // outlive the start: its trace is mvm's phases.
        try await launch(tracing: !base.runtime.isSandbox)
    }

    private func launch(tracing: Bool) async throws(ContainerError) -> DirectRuncInstance {
        let configuration = base.configuration
        let runtime = base.runtime
        return try await withLaunchScope(timeout: configuration.limits.timeout, tracing: tracing) {
            (scope) async throws(ContainerError) -> DirectRuncInstance in
            do throws(SystemFailure) {
                try scope.claimOwnership(
                    in: OwnerRecords(stateDirectory: configuration.stateDirectory),
                    kind: runtime.isSandbox ? "gvisor" : "runc-direct")
            } catch {
                throw .system(error)
            }
            let bundle = ContainerBundle(stateDirectory: configuration.stateDirectory, id: scope.id)
            // Registered before the bundle exists, so an interrupt while it
            // is written or while `runc run` starts still removes it.
            let started = Mutex<SupervisedProcess?>(nil)
            let handle = scope.onTeardown {
                guard let process = started.withLock({ $0 }) else {
                    bundle.remove()
                    return
                }
                let teardown = ContainerTeardown(runtime: runtime, id: scope.id, bundle: bundle, output: process.output)
                try await teardown.run(afterKill: { await process.stop() })
            }
            let spec = base.spec(id: scope.id, tracing: tracing)
            try bundle.write(spec)
            let tap: RuntimeLogTap?
            do throws(SystemFailure) {
                tap = tracing ? try RuntimeLogTap(path: bundle.path + "/runtime-log", stopwatch: scope.stopwatch) : nil
            } catch {
                throw .system(error)
            }
            // Ends the log's reader however the launch ends.
            defer { _ = tap?.finish() }
            let process: SupervisedProcess
            do {
                process = try await SupervisedProcess.start(
                    executable: runtime.executable,
                    arguments: runtime.leadingArguments + OCIRuntime.logOptions(tap?.path)
                        + ["run", "--bundle", bundle.path, scope.id],
                    stderrPath: bundle.stderrPath)
            } catch {
                throw .system(SystemFailure("cannot start \(runtime.name) run", underlying: error))
            }
            started.withLock { $0 = process }
            scope.mark(.spawned)
            do throws(ReadinessFailure) {
                var boot = try await scope.awaitReadiness(on: process.output, rule: configuration.readiness)
                if let tap {
                    boot.trace = ContainerTrace(
                        runtime: runtime.name, boot: boot, points: [:], runtimeLines: tap.finish()
                    ).traceOfRun(console: scope.traced.lines)
                }
                return DirectRuncInstance(
                    id: scope.id, runtime: runtime, boot: boot, teardown: handle, runPID: process.pid, bundle: bundle,
                    cgroupsPath: spec.linux.cgroupsPath)
            } catch {
                throw ContainerError(error, runtimeLog: bundle.stderrLog)
            }
        }
    }
}

/// A container started by a plain `runc run`.
public final class DirectRuncInstance: RunningInstance {
    public let name: String
    public let boot: BootRecord
    // Internal, not private, and the three after them: what the release
    // probe (DirectRunc+Release.swift) watches.
    let runtime: OCIRuntime
    let teardown: InstanceTeardown
    /// The `runc run` process, mvm's child.
    let runPID: Int32
    let bundle: ContainerBundle
    /// The spec's cgroupsPath: where the runtime puts the container's cgroups.
    let cgroupsPath: String?

    init(
        id: String, runtime: OCIRuntime, boot: BootRecord, teardown: InstanceTeardown, runPID: Int32,
        bundle: ContainerBundle,
        cgroupsPath: String?
    ) {
        name = id
        self.runtime = runtime
        self.boot = boot
        self.teardown = teardown
        self.runPID = runPID
        self.bundle = bundle
        self.cgroupsPath = cgroupsPath
    }

    public func footprint() async throws -> Footprint {
        let container = try containerFootprint(
            initPID: try await runtime.state(id: name).pid, ownCgroup: cgroupsPath != nil)
        // gVisor's `runsc run` stays beside its sandbox as long as it runs
        // (runc's only waits for its child): counted, and shown apart.
        guard runtime.isSandbox, let run = try? ProcessMemory.read(pid: runPID) else { return container }
        var readings = container.readings.map { reading in
            switch reading.metric {
            case .pss: MemoryReading(.pss, bytes: reading.bytes + run.pssBytes)
            case .rss: MemoryReading(.rss, bytes: reading.bytes + run.rssBytes)
            default: reading
            }
        }
        readings.append(MemoryReading(.monitorPSS, bytes: run.pssBytes))
        return Footprint(readings: readings)
    }

    /// Kills the container, lets `runc run` exit, then deletes the container
    /// and its bundle.
    public func stop() async throws {
        try await teardown.stop()
    }
}
