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
        }
        do {
            try await runtime.run(["delete", "--force", id])
        } catch {
            // Gone already (never created, or deleted before) is fine.
            if let ids = try? await runtime.containerIDs(), ids.contains(id) { throw error }
        }
    }
}
