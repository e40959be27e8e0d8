import ContainerShim
import Foundation
import MVMCore
import Subprocess
import SystemPackage

/// The tree imported as a Docker image (`docker import`), for one launcher:
/// named like an instance (`mvm-1a2b3c4d:rootfs`) and owned like one, so
/// that an interrupt removes it and `mvm gc` finds it if mvm dies.
final class EngineImage: RunningInstance {
    let name: String
    let boot: BootRecord
    let engine: ContainerEngine
    let teardown: InstanceTeardown

    var reference: String { Self.reference(name) }

    static func reference(_ name: String) -> String { name + ":rootfs" }

    private init(name: String, boot: BootRecord, engine: ContainerEngine, teardown: InstanceTeardown) {
        self.name = name
        self.boot = boot
        self.engine = engine
        self.teardown = teardown
    }

    /// `tar -C tree -c . | docker import - mvm-…:rootfs`.
    static func importTree(
        _ tree: String, into engine: ContainerEngine, configuration: ContainerConfiguration
    ) async throws(EngineError) -> EngineImage {
        // Half a minute at least: an import is not a boot.
        try await withLaunchScope(timeout: max(configuration.limits.timeout, .seconds(30))) {
            (scope) async throws(EngineError) -> EngineImage in
            do throws(SystemFailure) {
                try scope.claimOwnership(
                    in: OwnerRecords(stateDirectory: configuration.stateDirectory), kind: "docker-image")
            } catch {
                throw .system(error)
            }
            let name = scope.id
            let handle = scope.onTeardown { try await EngineRemoval(engine: engine).removeImage(name) }
            let script = "tar -C \"$1\" -c . | \"$2\" import - \"$3\""
            let outcome: (succeeded: Bool, error: String)
            do {
                let result = try await Subprocess.run(
                    .path("/bin/sh"),
                    arguments: ["-c", script, "sh", tree, engine.executable, reference(name)],
                    output: .discarded, error: .string(limit: 1 << 20))
                outcome = (result.terminationStatus.isSuccess, result.standardError)
            } catch {
                throw .system(SystemFailure("cannot run docker import", underlying: error))
            }
            guard outcome.succeeded else {
                throw .commandFailed(
                    command: "docker import", message: lastLogMessage(outcome.error, otherwise: "no message"))
            }
            scope.mark(.ready)
            return EngineImage(
                name: name,
                boot: BootRecord(timeline: BootTimeline(), facts: nil, requestedAt: Date()), engine: engine,
                teardown: handle)
        }
    }

    func footprint() async throws -> Footprint { Footprint(readings: []) }

    func stop() async throws { try await teardown.stop() }

    func remove() async throws { try await teardown.stop() }

    func releaseProbe() -> ReleaseProbe {
        ReleaseProbe(teardown.ownerRecordResource().map { [$0] } ?? [])
    }
}
