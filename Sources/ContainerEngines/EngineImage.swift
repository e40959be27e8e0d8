import ContainerShim
import Foundation
import MVMCore
import Subprocess
import SystemPackage

/// The tree imported as a Docker image (`docker import`), for one launcher:
/// named like an instance (`mvm-1a2b3c4d:rootfs`) and owned like one, so
/// that an interrupt removes it and `mvm gc` finds it if mvm dies. Made
/// in a launch scope for its owner record and teardown; not an instance.
final class EngineImage: Sendable {
    let name: String
    let teardown: InstanceTeardown

    var reference: String { Self.reference(name) }

    static func reference(_ name: String) -> String { name + ":rootfs" }

    private init(name: String, teardown: InstanceTeardown) {
        self.name = name
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
            return EngineImage(name: name, teardown: handle)
        }
    }

    /// Removes the image and its owner record.
    func remove() async throws { try await teardown.stop() }
}
