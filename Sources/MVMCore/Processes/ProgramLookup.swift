import Foundation

/// The first of `candidates` that is an executable file (not a directory).
package func firstExecutableFile(_ candidates: [String]) -> String? {
    candidates.first { candidate in
        var directory: ObjCBool = false
        return FileManager.default.isExecutableFile(atPath: candidate)
            && FileManager.default.fileExists(atPath: candidate, isDirectory: &directory) && !directory.boolValue
    }
}

/// The program `name` as a shell finds it: the first executable file of
/// that name in a directory of PATH (Debian's default PATH when unset).
package func findExecutable(named name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
    return firstExecutableFile(path.split(separator: ":").map { "\($0)/\(name)" })
}

/// A Go tool's last error line (runc, runsc, podman, docker, skopeo,
/// umoci), without logrus's `time=... level=error msg=` wrapping;
/// `otherwise` stands in when it printed nothing.
package func lastLogMessage(_ stderr: String, otherwise: String) -> String {
    let lines = stderr.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    guard var line = lines.last else { return otherwise }
    if let range = line.range(of: "msg=") {
        line = String(line[range.upperBound...])
        if line.hasPrefix("\""), line.hasSuffix("\""), line.count >= 2 {
            line = String(line.dropFirst().dropLast())
        }
        line = line.replacingOccurrences(of: "\\\"", with: "\"")
    }
    return line
}
