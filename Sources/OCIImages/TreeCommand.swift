import Foundation

/// Finds the image's command in its tree as the kernel would, symbolic
/// links resolved inside the tree (a chroot's view), so that an image whose
/// entrypoint is missing is refused before anything starts.
enum TreeCommand {
    static let defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    static func check(_ configuration: ImageConfiguration, tree: String, image: String) throws(ImageError) {
        guard let program = configuration.command.first else { throw .noCommand(image: image) }
        if program.contains("/") {
            let absolute =
                program.hasPrefix("/") ? program : configuration.workingDirectory + "/" + program
            if isExecutable(absolute, in: tree) { return }
            throw .commandMissing(image: image, command: program, searched: [])
        }
        let path =
            (configuration.environment.last { $0.hasPrefix("PATH=") } ?? defaultPath).dropFirst("PATH=".count)
        let directories = path.split(separator: ":").map(String.init)
        if directories.contains(where: { isExecutable($0 + "/" + program, in: tree) }) { return }
        throw .commandMissing(image: image, command: program, searched: directories)
    }

    /// `path` names, inside `tree`, a regular file with an execute bit.
    static func isExecutable(_ path: String, in tree: String) -> Bool {
        guard let resolved = resolve(path, in: tree) else { return false }
        var info = stat()
        guard stat(tree + resolved, &info) == 0 else { return false }
        return (info.st_mode & S_IFMT) == S_IFREG && info.st_mode & 0o111 != 0
    }

    /// `path` with every symbolic link followed inside `tree`; nil past 40
    /// links (a loop).
    static func resolve(_ path: String, in tree: String) -> String? {
        var pending = path.split(separator: "/").map(String.init)
        var resolved: [String] = []
        var links = 0
        while !pending.isEmpty {
            let component = pending.removeFirst()
            switch component {
            case ".": continue
            case "..": _ = resolved.popLast()
            default:
                let candidate = tree + "/" + (resolved + [component]).joined(separator: "/")
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: candidate) else {
                    resolved.append(component)
                    continue
                }
                links += 1
                if links > 40 { return nil }
                if target.hasPrefix("/") { resolved = [] }
                pending = target.split(separator: "/").map(String.init) + pending
            }
        }
        return "/" + resolved.joined(separator: "/")
    }
}
