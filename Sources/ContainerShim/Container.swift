import Foundation
import MVMCore
import Synchronization
import SystemPackage

/// Starts containers of one configuration through an OCI runtime.
public final class ContainerLauncher: InstanceLauncher {
    public let kind = "container"
    public let configuration: ContainerConfiguration
    public let host: ContainerHost
    /// True when containers get a user namespace of their own.
    public let usesUserNamespace: Bool
    let runtime: OCIRuntime

    static let stderrFileName = "stderr.log"

    /// Checks the configuration, the runtime and the rootfs; starts nothing.
    public init(_ configuration: ContainerConfiguration, host: ContainerHost = .probe()) throws(ContainerError) {
        guard configuration.memoryMiB >= 4 else {
            throw .invalidConfiguration("memory \(configuration.memoryMiB) MiB is too small: use at least 4 MiB")
        }
        let hostCPUs = ProcessInfo.processInfo.activeProcessorCount
        guard (1...hostCPUs).contains(configuration.vcpus) else {
            throw .invalidConfiguration("\(configuration.vcpus) CPUs is out of range: this host has \(hostCPUs)")
        }
        guard !configuration.command.isEmpty else { throw .invalidConfiguration("the container needs a command") }
        let stateRoot = configuration.stateDirectory.subdirectory("runc")
        let runtime = try OCIRuntime.resolve(configuration.runtime, stateRoot: stateRoot)
        if runtime.name == "crun" && host.cgroups == .hybrid {
            throw .runtimeUnsupported(
                runtime: runtime.executable,
                reason: "cgroups are in hybrid mode (v1 controllers with a v2 hierarchy beside them), which crun does not support",
                alternative: "use --runtime runc, or a host with cgroup v2 only")
        }
        try Self.checkRootfs(configuration.rootfsPath, command: configuration.command)
        switch configuration.userNamespace {
        case .off: usesUserNamespace = false
        case .auto: usesUserNamespace = host.userNamespacesAllowed
        case .on:
            guard host.userNamespacesAllowed else {
                throw .invalidConfiguration("this host allows no user namespaces (user.max_user_namespaces is 0); use --userns off or auto")
            }
            usesUserNamespace = true
        }
        // In a user namespace the container's root is an unprivileged host
        // uid, which must be able to reach the rootfs.
        var effective = configuration
        if usesUserNamespace {
            do {
                effective.rootfsPath = try ImageStaging(stateDirectory: configuration.stateDirectory)
                    .reachablePath(for: configuration.rootfsPath)
            } catch {
                throw .rootfs(path: configuration.rootfsPath, problem: "cannot be copied where the container's user can reach it (\(error.localizedDescription))")
            }
        }
        self.configuration = effective
        self.host = host
        self.runtime = runtime
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
        spec(id: Self.newContainerID())
    }

    func spec(id: String) -> OCISpec {
        SpecBuilder.spec(for: configuration, id: id, host: host, userNamespace: usesUserNamespace)
    }

    static func newContainerID() -> String {
        "mvm-" + (0..<4).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    /// The runtime's version line ("runc version 1.1.5+ds1").
    public func runtimeVersion() async -> String? {
        await runtime.version()
    }

    /// The runtime binary's path.
    public var runtimePath: String { runtime.executable }

    public func launch() async throws -> any RunningInstance {
        try await launchContainer()
    }

    /// Writes the bundle, creates and starts the container, and waits for its
    /// readiness line. On failure the container and its bundle are removed.
    public func launchContainer() async throws(ContainerError) -> Container {
        let stopwatch = PhaseStopwatch()
        let id = Self.newContainerID()
        let bundle = configuration.stateDirectory.subdirectory("bundles/" + id)
        try writeBundle(spec(id: id), to: bundle)
        let pipe: (readEnd: FileDescriptor, writeEnd: FileDescriptor)
        let stderrFile: FileDescriptor
        do {
            pipe = try FileDescriptor.pipe()
            stderrFile = try FileDescriptor.open(
                FilePath(bundle + "/" + Self.stderrFileName), .writeOnly, options: [.create, .truncate, .closeOnExec],
                permissions: [.ownerReadWrite])
        } catch {
            try? FileManager.default.removeItem(atPath: bundle)
            throw .system("cannot set up the container's output: \(error)")
        }
        let teardown = Teardown(runtime: runtime, id: id, bundle: bundle, output: pipe.readEnd)
        TeardownRegistry.shared.register(id) { teardown.runBlocking() }

        func fail(_ error: ContainerError) async -> ContainerError {
            await teardown.run()
            TeardownRegistry.shared.unregister(id)
            return error
        }

        var timeline = BootTimeline()
        do {
            try await runtime.create(id: id, bundle: bundle, stdout: pipe.writeEnd, stderr: stderrFile)
        } catch {
            try? pipe.writeEnd.close()
            try? stderrFile.close()
            throw await fail(error)
        }
        // Only the container's init holds the write end now: when it exits,
        // reading sees end of file.
        try? pipe.writeEnd.close()
        try? stderrFile.close()
        timeline.append(.created, at: stopwatch.elapsed())
        do {
            try await runtime.run(["start", id])
        } catch {
            throw await fail(error)
        }
        timeline.append(.started, at: stopwatch.elapsed())

        let deadline = stopwatch.origin + configuration.timeout
        let echo = configuration.outputEcho
        let readEnd = pipe.readEnd.rawValue
        let (outcome, tail) = await waitForReadinessOffThread(on: readEnd, until: deadline, echo: echo)
        switch outcome {
        case .success(let observation):
            let initPID: Int32
            do {
                initPID = try await runtime.state(id: id).pid
            } catch {
                throw await fail(error)
            }
            return Container(
                id: id, bundle: bundle, runtime: runtime, initPID: initPID, teardown: teardown,
                boot: observation.bootRecord(completing: timeline, on: stopwatch),
                spec: spec(id: id), usesUserNamespace: usesUserNamespace)
        case .failure(.timedOut):
            throw await fail(.readinessTimeout(after: configuration.timeout, outputTail: tail))
        case .failure(.endOfOutput), .failure(.kernelPanic):
            let log = readSmallFile(bundle + "/" + Self.stderrFileName) ?? ""
            throw await fail(.exitedEarly(outputTail: tail, runtimeLog: log))
        case .failure(.readFailed(let code)):
            throw await fail(.system("reading the container's output failed: \(errnoDescription(code))"))
        }
    }

    func writeBundle(_ spec: OCISpec, to bundle: String) throws(ContainerError) {
        do {
            try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true)
            try spec.jsonData().write(to: URL(fileURLWithPath: bundle + "/config.json"))
        } catch {
            try? FileManager.default.removeItem(atPath: bundle)
            throw .system("cannot write the bundle \(bundle): \(error.localizedDescription); pass a writable --state-dir")
        }
    }
}

extension OCISpec {
    /// config.json as written to a bundle: pretty, keys sorted, stable.
    public func jsonData() throws -> Data {
        try mvmJSONData(self)
    }
}

/// Removes one container completely: kill, delete (which also removes its
/// cgroups), close mvm's end of its output, remove its bundle. Idempotent.
final class Teardown: Sendable {
    let runtime: OCIRuntime
    let id: String
    let bundle: String
    private let output: Mutex<FileDescriptor?>

    init(runtime: OCIRuntime, id: String, bundle: String, output: FileDescriptor?) {
        self.runtime = runtime
        self.id = id
        self.bundle = bundle
        self.output = Mutex(output)
    }

    /// Returns the first error that left something behind (nil: all gone).
    @discardableResult
    func run() async -> ContainerError? {
        // A container that already stopped refuses KILL; delete --force
        // handles every state.
        _ = try? await runtime.run(["kill", id, "KILL"])
        var failure: ContainerError?
        do {
            try await runtime.run(["delete", "--force", id])
        } catch {
            // Gone already (never created, or deleted before) is fine.
            if let ids = try? await runtime.containerIDs(), ids.contains(id) { failure = error }
        }
        closeOutput()
        try? FileManager.default.removeItem(atPath: bundle)
        return failure
    }

    /// For signal handlers, which cannot await.
    func runBlocking() {
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            await self.run()
            done.signal()
        }
        done.wait()
    }

    /// Closes mvm's end of the output without tearing down (`--keep`).
    func closeOutput() {
        let descriptor = output.withLock { descriptor in
            defer { descriptor = nil }
            return descriptor
        }
        try? descriptor?.close()
    }
}

/// A running container whose init printed its readiness line.
public final class Container: RunningInstance {
    public let kind = "container"
    public let name: String
    public let boot: BootRecord
    public let bundle: String
    /// The container's init as the host sees it.
    public let initPID: Int32
    public let spec: OCISpec
    public let usesUserNamespace: Bool
    let runtime: OCIRuntime
    private let teardown: Teardown
    private let stopped = Mutex(false)

    init(
        id: String, bundle: String, runtime: OCIRuntime, initPID: Int32, teardown: Teardown, boot: BootRecord,
        spec: OCISpec, usesUserNamespace: Bool
    ) {
        self.name = id
        self.bundle = bundle
        self.runtime = runtime
        self.initPID = initPID
        self.teardown = teardown
        self.boot = boot
        self.spec = spec
        self.usesUserNamespace = usesUserNamespace
    }

    /// The runtime binary that runs it and its state root.
    public var runtimePath: String { runtime.executable }
    public var runtimeStateRoot: String { runtime.stateRoot }

    /// PSS and RSS summed over every process in the container's cgroup, and
    /// the cgroup's own memory usage.
    public func footprint() async throws -> Footprint {
        try containerFootprint(initPID: initPID)
    }

    /// The processes of the container, from its cgroup.
    public func processIDs() throws -> [Int32] {
        try ContainerCgroup(initPID: initPID).processIDs()
    }

    public func stop() async throws {
        let first = stopped.withLock { alreadyStopped in
            defer { alreadyStopped = true }
            return !alreadyStopped
        }
        guard first else { return }
        defer { TeardownRegistry.shared.unregister(name) }
        if let failure = await teardown.run() { throw failure }
    }

    /// Lets the container run on after mvm exits (`--keep`).
    public func detach() {
        stopped.withLock { $0 = true }
        teardown.closeOutput()
        TeardownRegistry.shared.unregister(name)
    }
}

/// PSS and RSS summed over every process in the cgroup of the container whose
/// init is `initPID`, and the cgroup's own memory usage.
func containerFootprint(initPID: Int32) throws(ContainerError) -> Footprint {
    let cgroup = try ContainerCgroup(initPID: initPID)
    var pss: UInt64 = 0
    var rss: UInt64 = 0
    for pid in try cgroup.processIDs() {
        // A process may exit between listing and reading.
        guard let memory = try? ProcessMemory.read(pid: pid) else { continue }
        pss += memory.pssBytes
        rss += memory.rssBytes
    }
    return Footprint(readings: [
        MemoryReading(name: MemoryReading.Name.pss, bytes: pss),
        MemoryReading(name: MemoryReading.Name.rss, bytes: rss),
        MemoryReading(name: MemoryReading.Name.cgroupUsage, bytes: try cgroup.memoryUsage()),
    ])
}
