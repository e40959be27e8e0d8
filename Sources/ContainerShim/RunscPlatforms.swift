import Foundation

/// The platforms an installed runsc has: how its Sentry takes the
/// workload's system calls. Debian 12's runsc (2022) has ptrace and kvm;
/// systrap came in 2023.
public enum RunscPlatforms {
    /// Every platform runsc knows, newest first.
    public static let known = ["systrap", "kvm", "ptrace"]

    /// What `runsc flags` lists for `-platform` ("specifies which platform
    /// to use: ptrace (default), kvm."); ptrace alone when it says nothing
    /// mvm can read (every runsc has it).
    public static func available(runsc: String) -> [String] {
        guard let text = flagsHelp(runsc) else { return ["ptrace"] }
        return parse(flagsHelp: text)
    }

    /// The platforms named in `runsc flags`'s text of `-platform`.
    package static func parse(flagsHelp text: String) -> [String] {
        guard let range = text.range(of: "which platform to use:") else { return ["ptrace"] }
        let line = text[range.upperBound...].prefix { $0 != "\n" }
        var named: [String] = []
        for word in line.split(whereSeparator: { !$0.isLetter }).map(String.init)
        where known.contains(word) && !named.contains(word) {
            named.append(word)
        }
        return named.isEmpty ? ["ptrace"] : named
    }

    private static func flagsHelp(_ runsc: String) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: runsc)
        process.arguments = ["flags"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
