import ArgumentParser
import Foundation
import MVMCore

/// What `mvm boot -it` does once the instance is ready:
/// the report on stderr, then this terminal (or stdin and stdout) on the
/// instance's console until the instance stops or Ctrl-] detaches. A
/// detached instance is kept with `--keep` and stopped otherwise.
func attachConsole(to instance: some ConsoleInstance, report: String, keep: Bool, kept: () -> String) async throws {
    let stderr = FileHandle.standardError
    stderr.write(Data((report + "\n").utf8))
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
        instance.detach()
        stderr.write(Data(("\n" + kept() + "\n").utf8))
    } else {
        try await instance.stop()
        if end == .detached { stderr.write(Data("\ndetached: \(instance.name) destroyed\n".utf8)) }
    }
}
