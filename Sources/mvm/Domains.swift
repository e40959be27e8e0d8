import ArgumentParser
import ContainerShim
import Jobs
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
            for id in try await ContainerManager(stateDirectory: common.state).containerIDs() {
                print("\(id)  container")
            }
            let sandboxes = try? ContainerManager(
                stateDirectory: common.state, runtime: .runsc(platform: RuntimeSelection.defaultRunscPlatform))
            for id in (try? await sandboxes?.containerIDs()) ?? [] { print("\(id)  gvisor") }
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
            if all == !names.isEmpty {
                throw ValidationError("Name the domains or containers to destroy, or pass --all.")
            }
            if let bad = names.first(where: { !$0.hasPrefix(instanceNamePrefix) }) {
                throw ValidationError("\(bad) is not an mvm instance (their names start with mvm-).")
            }
        }

        func run() async throws {
            common.bootstrapLogging()
            let removal = try await InstanceRemoval(stateDirectory: common.state, connectURI: connection.uri)
            do {
                try await removal.destroy(all ? nil : names) { result in
                    switch result {
                    case .destroyed(let name): print("destroyed \(name)")
                    case .leftInUse(let name, let pid): print("left \(name): in use by mvm (pid \(pid))")
                    }
                }
            } catch let error as InstanceRemovalError {
                throw ValidationError(error.description + ".")
            }
        }
    }
}
