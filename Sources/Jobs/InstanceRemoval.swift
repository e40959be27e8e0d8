import ContainerShim
import MVMCore
import VMM

/// `mvm destroy`: removes the domains and containers `--keep` left running,
/// and never an instance that another live mvm is in the middle of
/// measuring (that mvm tears it down; taking it away would wreck its run).
/// The garbage collector's rule, for instances named by hand.
public struct InstanceRemoval: Sendable {
    public enum Result: Sendable, Equatable {
        case destroyed(String)
        /// `--all` leaves another live mvm's instance, and says so.
        case leftInUse(String, pid: Int32)
    }

    private let domains: DomainManager
    private let containers: ContainerManager
    private let owners: OwnerRecords

    public init(stateDirectory: StateDirectory, connectURI: String?) async throws {
        domains = try await DomainManager(uri: connectURI, stateDirectory: stateDirectory)
        containers = try ContainerManager(stateDirectory: stateDirectory)
        owners = OwnerRecords(stateDirectory: stateDirectory)
    }

    /// Every running mvm- domain and container.
    public func runningInstances() async throws -> [String] {
        let running = try await running()
        return running.domains + running.containers
    }

    /// Destroys `name`. Another live mvm's instance is left (and said)
    /// when `leavingInUse`, refused otherwise.
    public func destroy(_ name: String, leavingInUse: Bool) async throws -> Result {
        if let owner = owners.owner(of: name), !owner.kept, owner.ownerIsAlive {
            guard leavingInUse else {
                throw InstanceRemovalError(
                    description:
                        "\(name) is in use by a running mvm (pid \(owner.pid)), which removes it when it is done")
            }
            return .leftInUse(name, pid: owner.pid)
        }
        let running = try await running()
        if running.domains.contains(name) {
            try domains.destroyDomain(named: name)
        } else if running.containers.contains(name) {
            try await containers.remove(id: name)
        } else {
            throw InstanceRemovalError(
                description:
                    "\(name) is neither a running mvm domain on \(domains.uri) nor an mvm container; see mvm list")
        }
        owners.remove(name)
        return .destroyed(name)
    }

    private func running() async throws -> (domains: [String], containers: [String]) {
        (try domains.runningMVMDomains(), try await containers.containerIDs())
    }
}

/// An instance `mvm destroy` must not or cannot remove.
public struct InstanceRemovalError: Error, CustomStringConvertible {
    public var description: String
}
