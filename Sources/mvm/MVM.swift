import ArgumentParser
import Logging

@main
struct MVM: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mvm",
        abstract: "Boot minimal Linux micro-VMs through libvirt and measure them.",
        discussion: """
            By default mvm drives libvirt's embedded QEMU driver (no daemon needed); \
            --connect takes any libvirt URI instead.
            """,
        version: mvmVersion,
        subcommands: [Compare.self, Boot.self, Run.self, List.self, Destroy.self]
    )
}

let mvmVersion = "0.1.0"

/// Options every subcommand shares.
struct CommonOptions: ParsableArguments {
    @Option(
        name: .customLong("state-dir"),
        help: ArgumentHelp(
            "Where mvm keeps libvirt's embedded root, consoles and bundles (default: $MVM_STATE_DIR, /var/lib/mvm for root).",
            valueName: "dir"))
    var stateDirectory: String?

    @Flag(name: .shortAndLong, help: "Log what mvm does to stderr.")
    var verbose = false

    func bootstrapLogging() {
        InterruptHandling.install()
        let level: Logger.Level = verbose ? .debug : .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
