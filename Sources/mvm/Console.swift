import ArgumentParser
import Foundation
import Jobs
import MVMCore
import SystemPackage

extension MVM {
    struct Console: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Attach this terminal to the console of a VM or container kept with -it --keep (Ctrl-] detaches).",
            discussion: """
                A VM or container kept with `mvm boot -it --keep` or `mvm run -it --keep` keeps its console \
                for this command. With --connect, any running domain of that libvirt URI with a pty serial port \
                (remote ones too). One terminal at a time: a second attach is refused, not taken over.
                """)

        @OptionGroup var common: CommonOptions
        @OptionGroup var connection: ConnectionOptions

        @Argument(help: "The instance's name (mvm list shows them), or a domain's name with --connect.")
        var name: String

        func run() async throws {
            // It starts nothing: no warning about others' orphans.
            common.bootstrapLogging(checkOrphans: false)
            let console = try await ConsoleLookup.open(
                name: name, stateDirectory: common.state, connectURI: connection.uri)
            defer { console.close() }
            guard isatty(STDIN_FILENO) == 1 else {
                throw ValidationError(
                    "mvm console needs a terminal on stdin; to feed a guest commands, pipe them into mvm boot -it.")
            }
            let stderr = FileHandle.standardError
            stderr.write(Data("console of \(name): Ctrl-] detaches and leaves it running\n".utf8))
            let connection = console.connection
            let end = await onDedicatedThreadTyped { () throws(Never) in ConsoleAttachment.run(console: connection) }
            switch end {
            case .detached: stderr.write(Data("\ndetached from \(name): it runs on\n".utf8))
            case .consoleClosed, .sessionEnded: stderr.write(Data("\n\(name) stopped\n".utf8))
            }
        }
    }

    /// What holds a kept instance's console once its mvm exited: started by
    /// `mvm boot -it --keep` and `mvm run -it --keep` with the console as
    /// descriptor 3 and its listening socket as descriptor 4. Not for people.
    struct ConsoleRelayCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "console-relay", abstract: "Hold a kept instance's console (internal).",
            shouldDisplay: false)

        @Option(help: "The socket descriptor 4 listens at, removed at the end.")
        var socket: String

        func run() throws {
            ConsoleRelay.prepareRelayProcess()
            ConsoleRelay.serve(
                console: FileDescriptor(rawValue: 3), listener: FileDescriptor(rawValue: 4), socketPath: socket)
        }

        /// How this executable starts a relay listening at `socket`.
        static func command(socket: String) -> [String] {
            let executable =
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                ?? CommandLine.arguments[0]
            return [executable, "console-relay", "--socket", socket]
        }
    }
}
