import ArgumentParser
import ContainerShim
import MVMCore
import VMM

extension MVM {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the running mvm- domains and containers (what --keep left running).")

        @OptionGroup var common: CommonOptions
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            common.bootstrapLogging()
            let domains = try await DomainManager(uri: connection.uri, stateDirectory: common.state)
            for name in try domains.runningMVMDomains() { print("\(name)  vm") }
            for id in try await ContainerManager(stateDirectory: common.state).containerIDs() { print("\(id)  container") }
        }
    }

    struct Destroy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Destroy mvm- domains and remove mvm- containers left running with --keep.")

        @OptionGroup var common: CommonOptions
        @OptionGroup var connection: ConnectionOptions

        @Flag(help: "Destroy every running mvm- domain and container.")
        var all = false

        @Argument(help: "Names of the domains or containers to destroy.")
        var names: [String] = []

        func validate() throws {
            if all == !names.isEmpty { throw ValidationError("Name the domains or containers to destroy, or pass --all.") }
            if let bad = names.first(where: { !$0.hasPrefix(instanceNamePrefix) }) {
                throw ValidationError("\(bad) is not an mvm instance (their names start with mvm-).")
            }
        }

        func run() async throws {
            common.bootstrapLogging()
            let domains = try await DomainManager(uri: connection.uri, stateDirectory: common.state)
            let containers = try ContainerManager(stateDirectory: common.state)
            let runningDomains = try domains.runningMVMDomains()
            let runningContainers = try await containers.containerIDs()
            let owners = OwnerRecords(stateDirectory: common.state)
            for name in all ? runningDomains + runningContainers : names {
                // Another mvm's instance in the middle of its run: that mvm
                // tears it down; taking it away would wreck its measurement.
                if let owner = owners.owner(of: name), !owner.kept, owner.ownerIsAlive {
                    if all {
                        print("left \(name): in use by mvm (pid \(owner.pid))")
                        continue
                    }
                    throw ValidationError("\(name) is in use by a running mvm (pid \(owner.pid)), which removes it when it is done.")
                }
                if runningDomains.contains(name) {
                    try domains.destroyDomain(named: name)
                } else if runningContainers.contains(name) {
                    try await containers.remove(id: name)
                } else {
                    throw ValidationError("\(name) is neither a running mvm domain on \(domains.uri) nor an mvm container; see mvm list.")
                }
                owners.remove(name)
                print("destroyed \(name)")
            }
        }
    }
}
