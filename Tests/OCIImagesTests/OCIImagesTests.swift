import Foundation
import Testing

@testable import OCIImages

@Suite struct ShellWordsTests {
    /// What the image init sources gives back the words, byte for byte,
    /// through a real shell.
    @Test func quotedWordsSurviveAShell() async throws {
        let words = ["plain", "it's", "two words", "$HOME", "`id`", "line\nbreak", "", "\\back"]
        let script = "set -- \(words.map(shellQuoted).joined(separator: " "))\nfor w; do printf '%s\\0' \"$w\"; done"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let back = String(decoding: data, as: UTF8.self).split(separator: "\0", omittingEmptySubsequences: false)
        #expect(back.dropLast().map(String.init) == words)
    }

    @Test func theWorkloadFileHoldsDirectoryEnvironmentAndArguments() {
        let script = workloadScript(
            command: ["python3", "-c", "print('hi')"], environment: ["A=b c"], workingDirectory: "/srv")
        #expect(script.contains("mvm_workdir='/srv'"))
        #expect(script.contains(#"set -- 'python3' '-c' 'print('\''hi'\'')'"#))
        #expect(script.contains(#"mvm_environment=''\''A=b c'\'''"#))
    }
}

@Suite struct ImageReferenceTests {
    @Test func aTagFollowsTheLastColon() {
        let reference = ImageReference("/nonexistent/layout:python")
        #expect(reference.path == "/nonexistent/layout" && reference.tag == "python")
        #expect(ImageReference("/nonexistent/layout").tag == nil)
        // A colon in a folder name is not a tag.
        #expect(ImageReference("/nonexistent/a:b/layout").tag == nil)
    }

    @Test func anExistingPathIsNeverSplit() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("layout:\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(ImageReference(folder.path).tag == nil)
    }
}

@Suite struct TreeCommandTests {
    /// A tree as Debian's: /bin is a link to usr/bin, and an absolute
    /// link must resolve inside the tree, not on the host.
    func tree() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mvm-tree-\(UUID())")
        let manager = FileManager.default
        try manager.createDirectory(at: root.appendingPathComponent("usr/bin"), withIntermediateDirectories: true)
        try manager.createSymbolicLink(atPath: root.path + "/bin", withDestinationPath: "usr/bin")
        _ = manager.createFile(
            atPath: root.path + "/usr/bin/python3.11", contents: Data(), attributes: [.posixPermissions: 0o755])
        try manager.createSymbolicLink(
            atPath: root.path + "/usr/bin/python3", withDestinationPath: "/usr/bin/python3.11")
        _ = manager.createFile(
            atPath: root.path + "/usr/bin/readme", contents: Data(), attributes: [.posixPermissions: 0o644])
        try manager.createSymbolicLink(atPath: root.path + "/usr/bin/loop", withDestinationPath: "loop")
        // On the host this would exist; in the tree it does not.
        try manager.createSymbolicLink(
            atPath: root.path + "/usr/bin/sh", withDestinationPath: "/../../../bin/sh-absent")
        return root
    }

    func configuration(_ command: [String], env: [String] = []) -> ImageConfiguration {
        var configuration = ImageConfiguration(architecture: "amd64", os: "linux")
        configuration.config = ImageConfiguration.Process(entrypoint: command, env: env)
        return configuration
    }

    @Test func linksResolveInsideTheTree() throws {
        let root = try tree()
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(TreeCommand.resolve("/bin/python3", in: root.path) == "/usr/bin/python3.11")
        #expect(TreeCommand.isExecutable("/bin/python3", in: root.path))
        #expect(!TreeCommand.isExecutable("/usr/bin/readme", in: root.path))
        #expect(TreeCommand.resolve("/usr/bin/loop", in: root.path) == nil)
        #expect(!TreeCommand.isExecutable("/usr/bin/sh", in: root.path))
    }

    @Test func aBareNameIsSearchedInTheImagesPath() throws {
        let root = try tree()
        defer { try? FileManager.default.removeItem(at: root) }
        try TreeCommand.check(configuration(["python3", "-c", "pass"]), tree: root.path, image: "i")
        #expect(throws: ImageError.commandMissing(image: "i", command: "python3", searched: ["/opt"])) {
            try TreeCommand.check(configuration(["python3"], env: ["PATH=/opt"]), tree: root.path, image: "i")
        }
        #expect(throws: ImageError.noCommand(image: "i")) {
            try TreeCommand.check(configuration([]), tree: root.path, image: "i")
        }
    }
}

@Suite struct NewcArchiveTests {
    /// GNU cpio lists the archive: the format is what the kernel reads too.
    @Test func cpioReadsTheConsoleArchive() throws {
        var archive = NewcArchive(mtime: 1_686_355_200)
        archive.directory("dev")
        archive.characterDevice("dev/console", mode: 0o600, major: 5, minor: 1)
        let bytes = archive.finished()
        #expect(bytes.count % 4 == 0)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mvm-newc-\(UUID()).cpio")
        try Data(bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/cpio")
        process.arguments = ["-itv", "--quiet", "-F", file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let listing = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let lines = listing.split(separator: "\n")
        #expect(lines.count == 2, "\(listing)")
        #expect(lines.first?.hasPrefix("drwxr-xr-x") == true && lines.first?.hasSuffix(" dev") == true, "\(listing)")
        #expect(lines.last?.hasPrefix("crw-------") == true && lines.last?.contains("5,") == true, "\(listing)")
    }
}
