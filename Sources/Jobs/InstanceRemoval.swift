import ContainerShim
import MVMCore
import VMM

#if canImport(Glibc)
    import Glibc
#endif

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
    /// gVisor's sandboxes (`mvm run --runtime runsc --keep`), where runsc is installed.
    private let sandboxes: ContainerManager?
    private let owners: OwnerRecords
    private let consoles: String
    private let collector: GarbageCollector

    public init(stateDirectory: StateDirectory, connectURI: String?) async throws {
        consoles = stateDirectory.subdirectory("consoles")
        collector = GarbageCollector(stateDirectory: stateDirectory, connectURI: connectURI)
        domains = try await DomainManager(uri: connectURI, stateDirectory: stateDirectory)
        containers = try ContainerManager(stateDirectory: stateDirectory)
        sandboxes = try? ContainerManager(
            stateDirectory: stateDirectory, runtime: .runsc(platform: RuntimeSelection.defaultRunscPlatform))
        owners = OwnerRecords(stateDirectory: stateDirectory)
    }

    /// Destroys `names`, or with nil every running mvm- domain and
    /// container, in order, reporting each as it goes. Another live mvm's
    /// instance is left (and reported) for nil, refused for a name. What
    /// runs is listed once, before the first.
    public func destroy(_ names: [String]?, each report: (Result) -> Void) async throws {
        let domains = try self.domains.runningMVMDomains()
        let containers = try await self.containers.containerIDs()
        let sandboxes = (try? await self.sandboxes?.containerIDs()) ?? []
        for name in names ?? domains + containers + sandboxes {
            if let owner = owners.owner(of: name), !owner.kept, owner.ownerIsAlive {
                guard names == nil else {
                    throw InstanceRemovalError(
                        description:
                            "\(name) is in use by a running mvm (pid \(owner.pid)), which removes it when it is done")
                }
                report(.leftInUse(name, pid: owner.pid))
                continue
            }
            if domains.contains(name) {
                try self.domains.destroyDomain(named: name)
                // Local domains only: a remote host's cgroups are not here.
                if self.domains.uri.isLocal, let problem = collector.removeCgroups(of: name).first {
                    throw InstanceRemovalError(description: "\(name) is destroyed, but \(problem)")
                }
            } else if containers.contains(name) {
                try await self.containers.remove(id: name)
            } else if sandboxes.contains(name), let manager = self.sandboxes {
                try await manager.remove(id: name)
            } else {
                throw InstanceRemovalError(
                    description:
                        "\(name) is neither a running mvm domain on \(self.domains.uri) nor an mvm container; see mvm list"
                )
            }
            // The console relay of a `-it --keep` instance ends with the
            // console; its socket goes now, so that nothing is left once
            // this returns.
            unlink(ConsoleRelay.socketPath(consoles: consoles, name: name))
            owners.remove(name)
            report(.destroyed(name))
        }
    }
}

/// An instance `mvm destroy` must not or cannot remove.
public struct InstanceRemovalError: Error, CustomStringConvertible {
    public var description: String
}
