import ArgumentParser
import Foundation
import MVMCore

/// What `mvm boot -it` and `mvm run -it` do once the instance is ready:
/// its footprint, the report on stderr, then this terminal (or stdin and
/// stdout) on the instance's console until the instance stops or Ctrl-]
/// detaches. A detached instance is kept with `--keep` and stopped
/// otherwise, as is one whose footprint cannot be read. `stateOption` is
/// how the user named the state directory, for the command that attaches
/// again.
func attachConsole(
    to instance: some ConsoleInstance, keep: Bool, stateOption: String = "", report: (Footprint) -> String,
    kept: () -> String
) async throws {
    let footprint: Footprint
    do { footprint = try await instance.footprint() } catch {
        try? await instance.stop()
        throw error
    }
    let stderr = FileHandle.standardError
    stderr.write(Data((report(footprint) + "\n").utf8))
    guard let console = instance.consoleConnection else {
        try? await instance.stop()
        throw ValidationError("\(instance.name) has no console to attach to.")
    }
    if isatty(STDIN_FILENO) == 1 {
        let after = keep ? "leaves it running" : "destroys it"
        stderr.write(Data("console of \(instance.name): Ctrl-] detaches and \(after)\n".utf8))
    }
    let end = await onDedicatedThreadTyped { () throws(Never) in ConsoleAttachment.run(console: console) }
    if end == .detached && keep {
        let relayed = handOver(console, of: instance)
        instance.detach()
        var lines = ["", kept()]
        if relayed { lines.append("  console:     mvm console \(instance.name)\(stateOption)") }
        stderr.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    } else {
        try await instance.stop()
        if end == .detached { stderr.write(Data("\ndetached: \(instance.name) destroyed\n".utf8)) }
    }
}

/// Starts the relay that keeps a detached instance's console for
/// `mvm console`; false (and a warning) when there is none.
private func handOver(_ console: SharedDescriptor, of instance: some ConsoleInstance) -> Bool {
    guard let socket = instance.consoleRelaySocket else { return false }
    do {
        _ = try ConsoleRelay.start(
            console: console, socketPath: socket, command: MVM.ConsoleRelayCommand.command(socket: socket))
        return true
    } catch {
        FileHandle.standardError.write(Data("warning: \(instance.name) runs on without its console: \(error)\n".utf8))
        return false
    }
}
