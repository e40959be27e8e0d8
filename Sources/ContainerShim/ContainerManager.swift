import MVMCore

/// Finds and removes mvm's containers in its runtime state root: what
/// `--keep` left running.
public struct ContainerManager: Sendable {
    let runtime: OCIRuntime
    let stateDirectory: StateDirectory

    public init(stateDirectory: StateDirectory, runtime: RuntimeSelection = .runc) throws(ContainerError) {
        self.runtime = try OCIRuntime.resolve(runtime, stateDirectory: stateDirectory)
        self.stateDirectory = stateDirectory
    }

    /// Ids of the containers in mvm's state root whose names start with `mvm-`.
    public func containerIDs() async throws(ContainerError) -> [String] {
        try await runtime.containerIDs().filter { $0.hasPrefix(instanceNamePrefix) }.sorted()
    }

    /// Kills and deletes a container and removes its bundle.
    public func remove(id: String) async throws(ContainerError) {
        guard try await containerIDs().contains(id) else {
            throw .invalidConfiguration("no container \(id) in \(runtime.stateRoot)")
        }
        let bundle = ContainerBundle(stateDirectory: stateDirectory, id: id)
        try await ContainerTeardown(runtime: runtime, id: id, bundle: bundle, output: nil).run()
    }
}
