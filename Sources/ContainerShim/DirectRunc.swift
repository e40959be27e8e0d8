import Foundation
import MVMCore

/// The reference row `runc-direct`: a plain `runc run` of the same bundle the
/// `container` row uses, with the container's stdout on runc's. What it
/// lacks next to the `container` row is what mvm's create/start split adds.
public struct DirectRuncLauncher: InstanceLauncher {
    public let kind = "runc-direct"
    let base: ContainerLauncher

    public init(matching launcher: ContainerLauncher) {
        base = launcher
    }

    public func launch() async throws -> any RunningInstance {
        let stopwatch = PhaseStopwatch()
        let id = ContainerLauncher.newContainerID()
        let bundle = base.configuration.stateDirectory.subdirectory("bundles/" + id)
        try base.writeBundle(base.spec(id: id), to: bundle)
        let runtime = base.runtime
        let teardown = Teardown(runtime: runtime, id: id, bundle: bundle, output: nil)
        let process: SupervisedProcess
        do {
            process = try await SupervisedProcess.start(
                executable: runtime.executable, arguments: ["--root", runtime.stateRoot, "run", "--bundle", bundle, id],
                stderrPath: bundle + "/" + ContainerLauncher.stderrFileName)
        } catch {
            await teardown.run()
            throw ContainerError.runtimeFailed(command: "\(runtime.name) run", message: "\(error)")
        }
        TeardownRegistry.shared.register(id) { teardown.runBlocking() }
        var timeline = BootTimeline()
        timeline.append(.spawned, at: stopwatch.elapsed())
        let deadline = stopwatch.origin + base.configuration.timeout
        let output = process.outputDescriptor
        let (outcome, tail) = await waitForReadinessOffThread(on: output, until: deadline)
        switch outcome {
        case .success(let observation):
            return DirectRuncInstance(
                id: id, process: process, teardown: teardown,
                boot: observation.bootRecord(completing: timeline, on: stopwatch))
        case .failure(let failure):
            let log = readSmallFile(bundle + "/" + ContainerLauncher.stderrFileName) ?? ""
            _ = await DirectRuncInstance.shutDown(id: id, process: process, teardown: teardown)
            switch failure {
            case .timedOut: throw ContainerError.readinessTimeout(after: base.configuration.timeout, outputTail: tail)
            case .endOfOutput, .kernelPanic: throw ContainerError.exitedEarly(outputTail: tail, runtimeLog: log)
            case .readFailed(let code): throw ContainerError.system("reading runc's output failed: \(errnoDescription(code))")
            }
        }
    }
}

/// A container started by a plain `runc run`.
public final class DirectRuncInstance: RunningInstance {
    public let kind = "runc-direct"
    public let name: String
    private let process: SupervisedProcess
    private let teardown: Teardown
    public let boot: BootRecord

    init(id: String, process: SupervisedProcess, teardown: Teardown, boot: BootRecord) {
        name = id
        self.process = process
        self.teardown = teardown
        self.boot = boot
    }

    public func footprint() async throws -> Footprint {
        let initPID = try await teardown.runtime.state(id: name).pid
        return try containerFootprint(initPID: initPID)
    }

    /// Kills the container first (killing `runc run` alone would leave it
    /// running), lets `runc run` exit, then deletes the container and bundle.
    public func stop() async throws {
        if let failure = await Self.shutDown(id: name, process: process, teardown: teardown) { throw failure }
    }

    static func shutDown(id: String, process: SupervisedProcess, teardown: Teardown) async -> ContainerError? {
        _ = try? await teardown.runtime.run(["kill", id, "KILL"])
        await process.stop()
        defer { TeardownRegistry.shared.unregister(id) }
        return await teardown.run()
    }
}
