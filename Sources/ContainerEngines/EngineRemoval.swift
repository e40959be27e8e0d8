import Foundation
import MVMCore

/// Removes mvm's containers and images from an engine: a teardown's last
/// step, and what `mvm gc` and `mvm destroy` do with one an mvm left.
public struct EngineRemoval: Sendable {
    let engine: ContainerEngine

    public init(engine: ContainerEngine) {
        self.engine = engine
    }

    /// Kills and removes container `id`; one already gone is fine. With
    /// `settling`, a container the engine was still creating when its
    /// client died is looked for again (five times, 100 ms apart) and
    /// removed if it appeared.
    public func remove(_ id: String, settling: Bool = false) async throws(EngineError) {
        try await removeOnce(id)
        guard settling else { return }
        for _ in 0..<5 {
            try? await Task.sleep(for: .milliseconds(100))
            if try await containerNames().contains(id) { try await removeOnce(id) }
        }
    }

    /// `rm --force`, again while it fails and the container is there: one
    /// the engine is still creating refuses it for a moment.
    private func removeOnce(_ id: String) async throws(EngineError) {
        for attempt in 1...10 {
            do throws(EngineError) {
                try await engine.run(["rm", "--force", id])
                return
            } catch {
                // Gone already (never created, or removed before) is fine.
                guard try await containerNames().contains(id) else { return }
                if attempt == 10 { throw error }
                try? await Task.sleep(for: .milliseconds(100))
            }
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
