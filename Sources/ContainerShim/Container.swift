import MVMCore

/// A running container whose init printed its readiness line.
public final class Container: DetachableInstance, ConsoleInstance {
    public let name: String
    public let boot: BootRecord
    /// The container's init as the host sees it.
    public let initPID: Int32
    public let spec: OCISpec
    public let usesUserNamespace: Bool
    let bundle: ContainerBundle
    let runtime: OCIRuntime
    // Internal, not private: the release probe (Container+Release.swift)
    // reads the owner record's path from it.
    let teardown: InstanceTeardown
    /// mvm's end of the init's stdout: the pipe's read end, or the pty
    /// master of its terminal.
    private let output: SharedDescriptor
    /// The master of the container's terminal (`ContainerConfiguration.terminal`),
    /// after the readiness line: what the init's shell reads and writes,
    /// for a console to attach to; nil without a terminal. The container's
    /// teardown owns it: `stop()`, `detach()` and the container's
    /// deallocation close it, once. Closing its last copy hangs the
    /// terminal up, which ends a shell that runs on it: the console relay
    /// that keeps it past `detach()` holds a copy of its own.
    package var consoleConnection: SharedDescriptor? { hasTerminal ? output : nil }
    private let hasTerminal: Bool
    /// With a terminal: where its relay listens once handed over.
    package let consoleRelaySocket: String?

    init(
        id: String, bundle: ContainerBundle, runtime: OCIRuntime, initPID: Int32, boot: BootRecord, spec: OCISpec,
        usesUserNamespace: Bool, teardown: InstanceTeardown, output: SharedDescriptor,
        terminalRelaySocket: String? = nil
    ) {
        self.name = id
        self.bundle = bundle
        self.runtime = runtime
        self.initPID = initPID
        self.boot = boot
        self.spec = spec
        self.usesUserNamespace = usesUserNamespace
        self.teardown = teardown
        self.output = output
        hasTerminal = terminalRelaySocket != nil
        consoleRelaySocket = terminalRelaySocket
    }

    /// The runtime binary that runs it and its state root.
    public var runtimePath: String { runtime.executable }
    public var runtimeStateRoot: String { runtime.stateRoot }

    /// PSS and RSS summed over every process of the container, and its
    /// cgroup's own memory usage when it has a cgroup.
    public func footprint() async throws -> Footprint {
        try containerFootprint(initPID: initPID, ownCgroup: spec.linux.cgroupsPath != nil)
    }

    /// The processes of the container.
    public func processIDs() throws -> [Int32] {
        try containerProcesses(initPID: initPID, ownCgroup: spec.linux.cgroupsPath != nil)
    }

    public func stop() async throws {
        try await teardown.stop()
    }

    /// Lets the container run on after mvm exits (`--keep`).
    public func detach() {
        teardown.detach()
        output.close()
    }
}

/// The processes of the container whose init is `initPID`: those of its
/// cgroup, or without a cgroup of its own (rootless, undelegated) the init
/// and the processes under it, since the cgroup it sits in is mvm's.
func containerProcesses(initPID: Int32, ownCgroup: Bool) throws(ContainerError) -> [Int32] {
    try containerProcesses(initPID: initPID, cgroup: ownCgroup ? ContainerCgroup(initPID: initPID) : nil)
}

private func containerProcesses(initPID: Int32, cgroup: ContainerCgroup?) throws(ContainerError) -> [Int32] {
    if let cgroup { return try cgroup.processIDs() }
    let processes = ProcessTable().tree(from: initPID)
    guard !processes.isEmpty else { throw .system(SystemFailure("the container's init (pid \(initPID)) is gone")) }
    return processes
}

/// PSS and RSS summed over every process of the container whose init is
/// `initPID`, and its cgroup's own memory usage when it has a cgroup.
func containerFootprint(initPID: Int32, ownCgroup: Bool) throws(ContainerError) -> Footprint {
    // Found once: it is read for the processes and for its own usage.
    let cgroup = ownCgroup ? try ContainerCgroup(initPID: initPID) : nil
    var pss: UInt64 = 0
    var rss: UInt64 = 0
    for pid in try containerProcesses(initPID: initPID, cgroup: cgroup) {
        // A process may exit between listing and reading.
        guard let memory = try? ProcessMemory.read(pid: pid) else { continue }
        pss += memory.pssBytes
        rss += memory.rssBytes
    }
    var readings = [MemoryReading(.pss, bytes: pss), MemoryReading(.rss, bytes: rss)]
    if let cgroup { readings.append(MemoryReading(.cgroupUsage, bytes: try cgroup.memoryUsage())) }
    return Footprint(readings: readings)
}
