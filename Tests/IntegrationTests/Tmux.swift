import Foundation
import Subprocess
import SystemPackage
import Testing

/// Runs tmux and returns what it printed. The server that `new-session`
/// starts keeps the client's descriptors, so its output is discarded: a
/// pipe would never see end of file.
@discardableResult
func tmux(_ arguments: [String]) async throws -> String {
    let executable = FilePath("/usr/bin/tmux")
    if arguments.first == "new-session" {
        let result = try await run(
            .path(executable), arguments: Arguments(arguments), output: .discarded, error: .discarded)
        guard result.terminationStatus.isSuccess else {
            throw TmuxFailure(description: "tmux \(arguments.joined(separator: " ")) failed")
        }
        return ""
    }
    let result = try await run(
        .path(executable), arguments: Arguments(arguments), output: .string(limit: 1 << 20),
        error: .string(limit: 1 << 16))
    guard result.terminationStatus.isSuccess else {
        throw TmuxFailure(description: "tmux \(arguments.joined(separator: " ")): \(result.standardError)")
    }
    return result.standardOutput
}

/// The pane's text once it shows `text`, within a minute and a half.
func waitForPane(_ session: String, toShow text: String) async throws -> String {
    var pane = ""
    for _ in 0..<180 {
        pane = try await tmux(["capture-pane", "-p", "-t", session, "-S", "-100"])
        if pane.contains(text) { return pane }
        try await Task.sleep(for: .milliseconds(500))
    }
    Issue.record("the pane never showed \(text.debugDescription):\n\(pane)")
    return pane
}

func waitForFile(_ path: String) async throws {
    for _ in 0..<20 where !FileManager.default.fileExists(atPath: path) {
        try await Task.sleep(for: .milliseconds(250))
    }
}

struct TmuxFailure: Error, CustomStringConvertible {
    var description: String
}

/// A shell command run on a terminal of tmux's: `stty -a` before and after
/// it go to files, and `mvm-exit-<status>` to the pane when it ends.
/// `close()` kills the session and removes the files.
struct TerminalRun {
    let session = "mvm-test-\(UUID().uuidString.prefix(8))"
    let directory: URL

    init(_ command: String) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(session)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let script = """
            stty -a > \(sttyBefore); \(command); echo "mvm-exit-$?"; stty -a > \(sttyAfter); sleep 600
            """
        try await tmux(["new-session", "-d", "-s", session, "-x", "120", "-y", "40", "sh", "-c", script])
    }

    var sttyBefore: String { directory.appendingPathComponent("stty.before").path }
    var sttyAfter: String { directory.appendingPathComponent("stty.after").path }

    func type(_ keys: String...) async throws {
        try await tmux(["send-keys", "-t", session] + keys)
    }

    func waitFor(_ text: String) async throws -> String {
        try await waitForPane(session, toShow: text)
    }

    /// True when the terminal's settings after the command are those before it.
    func settingsRestored() async throws -> Bool {
        try await waitForFile(sttyAfter)
        return try String(contentsOfFile: sttyBefore, encoding: .utf8)
            == String(contentsOfFile: sttyAfter, encoding: .utf8)
    }

    func close() {
        // A kill-session client starts no server: Foundation can wait for it.
        if let kill = try? Process.run(
            URL(fileURLWithPath: "/usr/bin/tmux"), arguments: ["kill-session", "-t", session])
        {
            kill.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }
}
