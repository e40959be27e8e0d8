import Foundation
import MVMCore

/// Removes mvm's containers and images from an engine: a teardown's last
/// step, and what `mvm gc` and `mvm destroy` do with one an mvm left.
public struct EngineRemoval: Sendable {
    let engine: ContainerEngine

    public init(engine: ContainerEngine) {
        self.engine = engine
    }

    /// Kills and removes container `id`; one already gone is fine.
    public func remove(_ id: String) async throws(EngineError) {
        do throws(EngineError) {
            try await engine.run(["rm", "--force", id])
        } catch {
            // Gone already (never created, or removed before) is fine.
            guard try await containerNames().contains(id) else { return }
            throw error
        }
    }

    /// mvm's containers in the engine (named `mvm-`), running or not.
    public func containerNames() async throws(EngineError) -> [String] {
        let text = try await engine.run(["ps", "--all", "--format", "{{.Names}}"])
        return text.split(separator: "\n").map(String.init).filter { $0.hasPrefix(instanceNamePrefix) }.sorted()
    }

    /// mvm's imported images (`mvm-…:rootfs`).
    public func imageNames() async throws(EngineError) -> [String] {
        guard engine.kind == .docker else { return [] }
        let text = try await engine.run(["images", "--format", "{{.Repository}}"])
        return text.split(separator: "\n").map(String.init).filter { $0.hasPrefix(instanceNamePrefix) }.sorted()
    }

    /// Removes image `name` (`mvm-…`); one already gone is fine.
    public func removeImage(_ name: String) async throws(EngineError) {
        do throws(EngineError) {
            try await engine.run(["rmi", "--force", EngineImage.reference(name)])
        } catch {
            guard try await imageNames().contains(name) else { return }
            throw error
        }
    }
}
