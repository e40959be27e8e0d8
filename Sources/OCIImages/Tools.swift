import Foundation
import MVMCore
import Subprocess
import SystemPackage

/// The Debian tools mvm unpacks and packs images with.
enum Tools {
    struct Result {
        var succeeded: Bool
        var standardError: String

        /// What a tool said last: its error, in one line.
        /// skopeo and umoci log as logrus does: time="..." level=fatal msg="...".
        var lastLine: String { lastLogMessage(standardError, otherwise: "no message") }
    }

    static let packages = ["umoci": "umoci", "skopeo": "skopeo", "cpio": "cpio", "sh": "dash"]

    static func run(_ name: String, _ arguments: [String], output: FileDescriptor? = nil) async throws(ImageError)
        -> Result
    {
        guard let executable = find(name) else {
            throw .tool(
                name: name, problem: "is not installed",
                advice: "apt-get install \(packages[name] ?? name)")
        }
        do {
            if let output {
                let result = try await Subprocess.run(
                    .path(FilePath(executable)), arguments: Arguments(arguments),
                    output: .fileDescriptor(output, closeAfterSpawningProcess: false),
                    error: .string(limit: 1 << 16))
                return Result(
                    succeeded: result.terminationStatus.isSuccess, standardError: result.standardError)
            }
            let result = try await Subprocess.run(
                .path(FilePath(executable)), arguments: Arguments(arguments), output: .discarded,
                error: .string(limit: 1 << 16))
            return Result(succeeded: result.terminationStatus.isSuccess, standardError: result.standardError)
        } catch {
            throw .tool(name: name, problem: "could not be started (\(error))", advice: "check its installation")
        }
    }

    /// Which of the tools an image needs are not installed: for `mvm doctor`.
    static func missing() -> [String] {
        ["umoci", "skopeo", "cpio"].filter { find($0) == nil }
    }

    private static func find(_ name: String) -> String? {
        for directory in ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
            let path = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}

/// The initramfs of an image's tree: GNU cpio's newc archive of the tree,
/// sorted so that one tree gives the same bytes, then mvm's /dev/console.
enum Initramfs {
    /// The mtime of what mvm adds (2023-06-10, Debian 12's release, as
    /// images/build.sh): one image gives the same bytes on every host.
    static let epoch: UInt32 = 1_686_355_200

    static func pack(tree: String, into path: String) async throws(ImageError) -> UInt64 {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else {
            throw .system("cannot create \(path); use a writable state directory with free space")
        }
        defer { try? handle.close() }
        let script =
            #"cd "$1" && find . -mindepth 1 -print0 | LC_ALL=C sort -z | cpio --null --create --format=newc --reproducible --quiet"#
        let result = try await Tools.run(
            "sh", ["-c", script, "sh", tree], output: FileDescriptor(rawValue: handle.fileDescriptor))
        guard result.succeeded else {
            throw .tool(
                name: "cpio", problem: "could not pack \(tree) (\(result.lastLine))",
                advice: "apt-get install cpio, and check free space in the state directory")
        }
        var console = NewcArchive(mtime: epoch)
        console.directory("dev")
        console.characterDevice("dev/console", mode: 0o600, major: 5, minor: 1)
        do {
            try handle.seekToEnd()
            try handle.write(contentsOf: console.finished())
            return try handle.offset()
        } catch {
            throw .system("cannot write \(path): \(error)")
        }
    }
}
