import ArgumentParser
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
        version: mvmVersion,
        subcommands: [Compare.self, Nightly.self, HistoryCommand.self, Boot.self, Run.self, List.self, Destroy.self, GC.self, Doctor.self]
    )

    /// ArgumentParser's own main, except that an interrupt's handler, not
    /// the command, decides how the process ends once a signal came.
    static func main() async {
        // Before anything starts: QEMU and containers' inits are reaped by
        // mvm's own reaper process, not by a PID 1 that may reap late.
        OrphanReaper.becomeReapedChild()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            await InterruptHandling.yieldToAnInterrupt()
        } catch {
            await InterruptHandling.yieldToAnInterrupt()
            exit(withError: error)
        }
    }
}
