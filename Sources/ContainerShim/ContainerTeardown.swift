import Foundation
import MVMCore

/// Removes one container completely: kill, delete (which also removes its
/// cgroups), close mvm's end of its output (and its terminal socket), remove
/// its bundle. Copes with a launch that got only part of the way (no
/// container, no bundle, no terminal yet).
struct ContainerTeardown: Sendable {
    let runtime: OCIRuntime
    let id: String
    let bundle: ContainerBundle
    /// mvm's end of the container's stdout, when mvm holds one.
    let output: SharedDescriptor?
    /// The socket its terminal comes through, which keeps the pty master
    /// once it came: a container with a terminal has no `output` until then.
    var terminal: TerminalSocket? = nil

    /// `afterKill` runs once the container was sent SIGKILL, before it is
    /// deleted: `runc run` exits then (killing `runc run` alone would leave
    /// the container running). Throws when something was left behind.
    func run(afterKill: () async -> Void = {}) async throws(ContainerError) {
        // A container that already stopped refuses KILL; delete --force
        // handles every state.
        _ = try? await runtime.run(["kill", id, "KILL"])
        await afterKill()
        defer {
            output?.close()
            terminal?.close()
            bundle.remove()
            // runsc leaves its lock file behind after delete, and the
            // cgroups of a sandbox that never came up (a platform that
            // hangs): removed when empty.
            if runtime.isSandbox {
                for file in runtime.stateFiles(of: id) { unlink(file) }
                let mounts = CgroupMembership.currentMounts()
                for directory in CgroupMembership.directories(forPath: "/mvm/" + id, mounts: mounts) {
                    rmdir(directory)
                }
            }
        }
        // A second try when the first failed and the container is still
        // there: a delete that hung is killed by the teardown's watchdog
        // (`InstanceTeardown.stop()`), and a fresh one then finishes it.
        for attempt in 1...2 {
            do {
                try await runtime.run(["delete", "--force", id])
                return
            } catch {
                // Gone already (never created, or deleted before) is fine.
                guard let ids = try? await runtime.containerIDs(), ids.contains(id) else { return }
                if attempt == 2 { throw error }
            }
        }
    }
}
