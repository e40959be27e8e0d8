import Synchronization

/// The workload straight on the host: the guest tree's `/init` run as a plain
/// child process of mvm, with no namespace, cgroup or hypervisor, reporting on
/// its stdout exactly as it does on a console. It is what the other sides'
/// workload figures are divided by.
public struct HostProcessLauncher: InstanceLauncher {
    public var executable: String
    public var arguments: [String]
    /// The whole environment of the process (`KEY=value`): nothing of mvm's
    /// own leaks in, so the host run sees what the guest's init sees.
    public var environment: [String]
    public var timeout: Duration

    public init(executable: String, arguments: [String] = [], environment: [String], timeout: Duration) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.timeout = timeout
    }

    public func launch() async throws(SystemFailure) -> HostProcessInstance {
        let executable = self.executable
        let arguments = self.arguments
        let environment = self.environment
        return try await withLaunchScope(timeout: timeout) {
            (scope) async throws(SystemFailure) -> HostProcessInstance in
            let started = Mutex<SupervisedProcess?>(nil)
            let handle = scope.onTeardown { await started.withLock { $0 }?.stop() }
            let process: SupervisedProcess
            do {
                process = try await SupervisedProcess.start(
                    executable: executable, arguments: arguments, environment: environment)
            } catch {
                throw SystemFailure("cannot start \(executable)", underlying: error)
            }
            started.withLock { $0 = process }
            scope.mark(.spawned)
            do throws(ReadinessFailure) {
                let boot = try await scope.awaitReadiness(on: process.output)
                return HostProcessInstance(name: scope.id, pid: process.pid, boot: boot, teardown: handle)
            } catch {
                throw SystemFailure(
                    "\(executable) printed no readiness line (\(error.reason)); last output: "
                        + (error.outputTail.last ?? "none"))
            }
        }
    }
}

/// A host process started by `HostProcessLauncher`.
public final class HostProcessInstance: RunningInstance {
    public let name: String
    public let pid: Int32
    public let boot: BootRecord
    private let teardown: InstanceTeardown

    init(name: String, pid: Int32, boot: BootRecord, teardown: InstanceTeardown) {
        self.name = name
        self.pid = pid
        self.boot = boot
        self.teardown = teardown
    }

    /// The process's memory while it runs; none once it has exited (a host
    /// run of the workloads exits as soon as it has reported).
    public func footprint() async throws -> Footprint {
        guard let memory = try? ProcessMemory.read(pid: pid) else { return Footprint(readings: []) }
        return Footprint(readings: [
            MemoryReading(.pss, bytes: memory.pssBytes), MemoryReading(.rss, bytes: memory.rssBytes),
        ])
    }

    public func stop() async throws {
        try await teardown.run()
    }

    /// The process, while it runs (a host run exits once it has reported).
    public func releaseProbe() -> ReleaseProbe {
        ReleaseProbe([HostResource.process(pid: pid, description: "host process pid \(pid)")].compactMap { $0 })
    }
}
