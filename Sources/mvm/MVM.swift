import ArgumentParser
import Foundation
import MVMCore

@main
struct MVM: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mvm",
        abstract: "Boot minimal Linux micro-VMs through libvirt and measure them.",
        discussion: """
            By default mvm drives libvirt's embedded QEMU driver (no daemon needed); \
            --connect takes any libvirt URI instead.
            """,
        version: "\(mvmVersion) (commit \(mvmCommit))",
        subcommands: [
            Compare.self, AB.self, Nightly.self, HistoryCommand.self, Boot.self, Run.self, List.self, Destroy.self,
            GC.self,
            Doctor.self, Console.self, ConsoleRelayCommand.self,
        ]
    )

    /// ArgumentParser's own main, except that an interrupt's handler, not
    /// the command, decides how the process ends once a signal came.
    static func main() async {
        // Before anything starts: QEMU and containers' inits are reaped by
        // mvm's own reaper process, not by a PID 1 that may reap late.
        // Except a console relay: it must outlive the mvm that starts it,
        // which a reaped child does not (its reaper's death ends it).
        if CommandLine.arguments.dropFirst().first != MVM.ConsoleRelayCommand._commandName {
            OrphanReaper.becomeReapedChild()
        }
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            await InterruptHandling.yieldToAnInterrupt()
        } catch let error as ValidationError {
            // Checked once the host is probed, in `run`: a usage error all
            // the same (64), pointing at the subcommand's help.
            await InterruptHandling.yieldToAnInterrupt()
            let path = (commandPath(to: type(of: command)) ?? []).joined(separator: " ")
            FileHandle.standardError.write(
                Data("Error: \(error.message)\n  See 'mvm \(path) --help' for more information.\n".utf8))
            exit(withError: ExitCode.validationFailure)
        } catch {
            await InterruptHandling.yieldToAnInterrupt()
            exit(withError: error)
        }
    }
}

/// The subcommand names from the root to `command`: `["history", "list"]`.
private func commandPath(
    to command: any ParsableCommand.Type, from root: any ParsableCommand.Type = MVM.self
) -> [String]? {
    for subcommand in root.configuration.subcommands {
        if subcommand == command { return [subcommand._commandName] }
        if let rest = commandPath(to: command, from: subcommand) { return [subcommand._commandName] + rest }
    }
    return nil
}
