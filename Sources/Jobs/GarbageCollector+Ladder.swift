import ContainerEngines
import ContainerShim
import Foundation
import MVMCore

extension GarbageCollector {
    /// What a killed mvm left of the isolation ladder: sandboxes in runsc's
    /// state root, containers in Podman's storage under the state directory
    /// and in Docker, and trees imported into Docker. Those of an orphan
    /// record go; others with no live owner are reported as unowned (and
    /// returned, so that their files stay). An engine that is not there is
    /// skipped: it can hold nothing of mvm's.
    func collectLadder(live: Set<String>, orphans: Set<String>, dryRun: Bool, report: inout CollectionReport)
        async -> Set<String>
    {
        var unowned = Set<String>()
        func sweep(_ names: [String], kind: String, remove: (String) async throws -> Void) async {
            for name in names where !live.contains(name) {
                guard orphans.contains(name) else {
                    unowned.insert(name)
                    report.unowned.append("\(kind) \(name)")
                    continue
                }
                report.orphans.append(Orphan(kind: kind, instance: name, location: name))
                if !dryRun {
                    do { try await remove(name) } catch {
                        report.problems.append("removing \(kind) \(name): \(error)")
                    }
                }
            }
        }
        let runscRoot = stateDirectory.subdirectory("runsc")
        if FileManager.default.fileExists(atPath: runscRoot),
            let sandboxes = try? ContainerManager(
                stateDirectory: stateDirectory, runtime: .runsc(platform: RuntimeSelection.defaultRunscPlatform))
        {
            do {
                await sweep(try await sandboxes.containerIDs(), kind: "gvisor sandbox") {
                    try await sandboxes.remove(id: $0)
                }
            } catch {
                report.problems.append("gVisor's sandboxes not checked: \(error)")
            }
        }
        let host = ContainerHost.probe()
        for kind in EngineKind.allCases {
            // Podman's storage is mvm's own: none made, none to look in.
            if kind == .podman && !FileManager.default.fileExists(atPath: stateDirectory.subdirectory("podman")) {
                continue
            }
            guard
                let engine = try? await ContainerEngine.resolve(
                    kind, stateDirectory: stateDirectory, runtime: .runc, host: host)
            else { continue }
            let removal = EngineRemoval(engine: engine)
            do {
                await sweep(try await removal.containerNames(), kind: "\(kind.rawValue) container") {
                    try await removal.remove($0)
                }
                await sweep(try await removal.imageNames(), kind: "\(kind.rawValue) image") {
                    try await removal.removeImage($0)
                }
            } catch {
                report.problems.append("\(kind.rawValue)'s containers not checked: \(error)")
            }
        }
        return unowned
    }
}
