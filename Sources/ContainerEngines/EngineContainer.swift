import ContainerShim
import Foundation
import MVMCore
import SystemPackage

/// The host processes an engine keeps for one container: the container's
/// init (and everything in its cgroup), and the engine's monitor of it,
/// Podman's conmon or Docker's containerd-shim.
struct EngineProcesses: Sendable {
    /// The engine's full id of the container (its cgroup and state are named by it).
    var fullID: String
    var initPID: Int32
    var monitorPID: Int32?

    /// Asks the engine, once the container is ready.
    static func inspect(_ id: String, engine: ContainerEngine) async throws(EngineError) -> EngineProcesses {
        let format =
            engine.kind == .podman ? "{{.Id}} {{.State.Pid}} {{.State.ConmonPid}}" : "{{.Id}} {{.State.Pid}}"
        let fields = try await engine.run(["inspect", "--format", format, id]).split(whereSeparator: \.isWhitespace)
        guard fields.count >= 2, let initPID = Int32(fields[1]), initPID > 0 else {
            throw .commandFailed(
                command: "\(engine.kind.rawValue) inspect", message: "no running process for \(id): \(fields)")
        }
        // containerd-shim is the init's parent: it started it through runc.
        let monitor = fields.count > 2 ? Int32(fields[2]) : ProcessTable().parents[initPID]
        return EngineProcesses(fullID: String(fields[0]), initPID: initPID, monitorPID: monitor)
    }
}

/// A container an engine runs for mvm, ready.
public final class EngineContainer: RunningInstance {
    public let name: String
    public let boot: BootRecord
    let engine: ContainerEngine
    let processes: EngineProcesses
    /// The container's init as the host sees it.
    public var initPID: Int32 { processes.initPID }
    /// `run`: mvm's child, the engine's client, whose stdout is the container's.
    let clientPID: Int32
    let teardown: InstanceTeardown

    init(
        id: String, engine: ContainerEngine, boot: BootRecord, processes: EngineProcesses, clientPID: Int32,
        teardown: InstanceTeardown
    ) {
        name = id
        self.engine = engine
        self.boot = boot
        self.processes = processes
        self.clientPID = clientPID
        self.teardown = teardown
    }

    /// The container's processes: those of its cgroup.
    func containerProcessIDs() -> [Int32] {
        guard let cgroup = try? ContainerCgroup(initPID: processes.initPID), let pids = try? cgroup.processIDs() else {
            return [processes.initPID]
        }
        return pids
    }

    /// PSS and RSS of the container's processes and of the engine's monitor
    /// (conmon, containerd-shim), which lives only for this container; the
    /// monitor's own PSS apart too, and Docker's shared daemons (dockerd,
    /// containerd) as `daemon-pss`, never added to the instance's.
    public func footprint() async throws -> Footprint {
        var pss: UInt64 = 0
        var rss: UInt64 = 0
        for pid in containerProcessIDs() {
            guard let memory = try? ProcessMemory.read(pid: pid) else { continue }
            pss += memory.pssBytes
            rss += memory.rssBytes
        }
        var readings: [MemoryReading] = []
        var monitorPSS: UInt64 = 0
        if let monitor = processes.monitorPID, let memory = try? ProcessMemory.read(pid: monitor) {
            monitorPSS = memory.pssBytes
            pss += memory.pssBytes
            rss += memory.rssBytes
        }
        readings += [MemoryReading(.pss, bytes: pss), MemoryReading(.rss, bytes: rss)]
        readings.append(MemoryReading(.monitorPSS, bytes: monitorPSS))
        if let cgroup = try? ContainerCgroup(initPID: processes.initPID), let usage = try? cgroup.memoryUsage() {
            readings.append(MemoryReading(.cgroupUsage, bytes: usage))
        }
        if engine.kind == .docker, let daemons = DockerDaemons.pssBytes() {
            readings.append(MemoryReading(.daemonPSS, bytes: daemons))
        }
        return Footprint(readings: readings)
    }

    public func stop() async throws {
        try await teardown.stop()
    }

    /// The container's processes, the monitor, the engine's client, the
    /// container's cgroups, the engine's state of it and the owner record.
    public func releaseProbe() -> ReleaseProbe {
        var resources: [HostResource] = []
        let monitorName = engine.kind == .podman ? "conmon" : "containerd-shim"
        let pids =
            [(processes.initPID, "init")]
            + containerProcessIDs().filter { $0 != processes.initPID }.map { ($0, "process") }
            + (processes.monitorPID.map { [($0, monitorName)] } ?? []) + [(clientPID, "\(engine.kind.rawValue) run")]
        resources += pids.compactMap { pid, role in
            HostResource.process(pid: pid, description: "\(engine.kind.rawValue) \(role) pid \(pid)")
        }
        resources += CgroupMembership.instanceDirectories(of: processes.initPID, named: processes.fullID).map {
            HostResource.path($0, kind: .cgroup, description: $0)
        }
        if let state = HostResource.existingPath(
            engine.containerStateDirectory + "/" + processes.fullID, kind: .runtimeState,
            description: "\(engine.kind.rawValue) container \(name)")
        {
            resources.append(state)
        }
        if let owner = teardown.ownerRecordResource() { resources.append(owner) }
        return ReleaseProbe(resources)
    }
}

/// Docker's shared daemons: dockerd (the peer of its socket) and the
/// containerd it runs.
enum DockerDaemons {
    static func pssBytes() -> UInt64? {
        guard let connection = try? UnixSocket.connect(to: ContainerEngine.dockerSocket) else { return nil }
        let dockerd = UnixSocket.peerPID(of: connection)
        try? connection.close()
        guard let dockerd else { return nil }
        let table = ProcessTable()
        let daemons =
            [dockerd] + table.parents.filter { $0.value == dockerd && table.names[$0.key] == "containerd" }.map(\.key)
        let total = daemons.compactMap { try? ProcessMemory.read(pid: $0).pssBytes }.reduce(0, +)
        return total > 0 ? total : nil
    }
}

extension EngineContainer {
    /// What `mvm run --engine` prints: the same shape as `mvm run`'s.
    public func summary(footprint: Footprint, version: String?, limits: InstanceLimits) -> String {
        InstanceSummary(
            title:
                "\(name): \(engine.kind.rawValue) container, \(limits.memoryMiB) MiB limit, \(limits.vcpus) CPU\(limits.vcpus == 1 ? "" : "s"), on \(engine.runtimeName)",
            details: [
                ("engine", "\(engine.kind.rawValue) \(version ?? "of unknown version")"),
                ("isolation", "no network, the engine's defaults"),
            ],
            boot: boot, footprint: footprint
        ).render()
    }
}
