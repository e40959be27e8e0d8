import ArgumentParser
import VMM

extension MVM {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the running mvm- domains.")

        @OptionGroup var common: CommonOptions
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            common.bootstrapLogging()
            let manager = try await DomainManager(uri: connection.uri, stateDirectory: common.state)
            for name in try manager.runningMVMDomains() { print(name) }
        }
    }

    struct Destroy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Destroy mvm- domains left running with --keep.")

        @OptionGroup var common: CommonOptions
        @OptionGroup var connection: ConnectionOptions

        @Flag(help: "Destroy every running mvm- domain.")
        var all = false

        @Argument(help: "Names of the domains to destroy.")
        var names: [String] = []

        func validate() throws {
            if all == !names.isEmpty { throw ValidationError("Name the domains to destroy, or pass --all.") }
            if let bad = names.first(where: { !$0.hasPrefix("mvm-") }) {
                throw ValidationError("\(bad) is not an mvm domain (their names start with mvm-).")
            }
        }

        func run() async throws {
            common.bootstrapLogging()
            let manager = try await DomainManager(uri: connection.uri, stateDirectory: common.state)
            for name in all ? try manager.runningMVMDomains() : names {
                try manager.destroyDomain(named: name)
                print("destroyed \(name)")
            }
        }
    }
}
