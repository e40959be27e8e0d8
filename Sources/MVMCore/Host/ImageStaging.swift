import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Makes an image reachable by processes that run as another user: QEMU under
/// libvirtd (libvirt-qemu) and a container's root in a user namespace (an
/// unprivileged host uid). A checkout under a private home (/root is 0700 on
/// Debian) is out of their reach, so such an image is copied once into the
/// state directory, whose tree is world-readable, and the copy is used.
public struct ImageStaging: Sendable {
    public let stateDirectory: StateDirectory

    public init(stateDirectory: StateDirectory) {
        self.stateDirectory = stateDirectory
    }

    /// `path` itself when every user can reach it, else the path of a copy
    /// under `<state>/images`, made once per version of the source.
    public func reachablePath(for path: String) throws(SystemFailure) -> String {
        if Self.isReachableByEveryone(path) { return path }
        let key = Self.fnv1a(Self.identity(of: path))
        let name = URL(fileURLWithPath: path).lastPathComponent
        let directory = try stateDirectory.ensureSubdirectory("images", permissions: 0o755)
        let staged = directory + "/" + name + "-" + String(key, radix: 16)
        guard !FileManager.default.fileExists(atPath: staged) else { return staged }
        // Copy beside, then rename: a half-made copy is never used.
        let partial = staged + ".partial-\(getpid())"
        do {
            try? FileManager.default.removeItem(atPath: partial)
            try FileManager.default.copyItem(atPath: path, toPath: partial)
            Self.makeReadableByEveryone(partial)
            try FileManager.default.moveItem(atPath: partial, toPath: staged)
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw SystemFailure(
                "cannot copy \(path) to \(directory), where QEMU's and the container's users can reach it",
                underlying: error,
                advice: "use a writable state directory with free space")
        }
        return staged
    }

    /// Every directory above `path` is searchable by others and `path` is
    /// readable by them (and searchable, for a directory).
    public static func isReachableByEveryone(_ path: String) -> Bool {
        var current = URL(fileURLWithPath: path).standardizedFileURL
        var info = stat()
        guard stat(current.path, &info) == 0 else { return false }
        let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
        guard info.st_mode & S_IROTH != 0, !isDirectory || info.st_mode & S_IXOTH != 0 else { return false }
        while current.path != "/" {
            current = current.deletingLastPathComponent()
            guard stat(current.path, &info) == 0, info.st_mode & S_IXOTH != 0 else { return false }
        }
        return true
    }

    private static func makeReadableByEveryone(_ path: String) {
        let manager = FileManager.default
        var paths = [path]
        if let enumerator = manager.enumerator(atPath: path) {
            paths += enumerator.compactMap { $0 as? String }.map { path + "/" + $0 }
        }
        for item in paths {
            var info = stat()
            // Leave symbolic links alone (their mode means nothing).
            guard lstat(item, &info) == 0, (info.st_mode & S_IFMT) != S_IFLNK else { continue }
            let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
            let executable = info.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH) != 0
            let extra: mode_t = S_IRGRP | S_IROTH | (isDirectory || executable ? S_IXGRP | S_IXOTH : 0)
            chmod(item, (info.st_mode & 0o7777) | extra)
        }
    }

    /// What tells one version of a file or tree from another: for every
    /// entry its path, inode, size, mode and ctime. Reproducible builds fix
    /// mtimes, but a rewrite or rename always moves the ctime.
    package static func identity(of path: String) -> String {
        var entries = [path]
        if let enumerator = FileManager.default.enumerator(atPath: path) {
            entries += enumerator.compactMap { $0 as? String }.sorted().map { path + "/" + $0 }
        }
        return entries.map { entry in
            var info = stat()
            guard lstat(entry, &info) == 0 else { return entry }
            return
                "\(entry) \(info.st_ino) \(info.st_size) \(info.st_mode) \(info.st_ctim.tv_sec).\(info.st_ctim.tv_nsec)"
        }.joined(separator: "\n")
    }

    /// 64-bit FNV-1a: a stable short name for a source, not a security hash.
    package static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}
