import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A local user, for deciding what a process running as it may open.
package struct UserAccount {
    package var uid: uid_t
    package var groups: [gid_t]

    package init?(named name: String) {
        var entry = passwd()
        var buffer = [CChar](repeating: 0, count: 4096)
        var found: UnsafeMutablePointer<passwd>?
        guard getpwnam_r(name, &entry, &buffer, buffer.count, &found) == 0, found != nil else { return nil }
        var memberships = Array(repeating: gid_t(0), count: 256)
        var count = Int32(memberships.count)
        guard getgrouplist(name, entry.pw_gid, &memberships, &count) >= 0 else { return nil }
        uid = entry.pw_uid
        groups = Array(memberships.prefix(Int(count)))
    }

    /// What a process may do with a file or directory.
    package struct Access: OptionSet, Sendable {
        package let rawValue: mode_t
        package init(rawValue: mode_t) { self.rawValue = rawValue }
        package static let read = Access(rawValue: 4)
        package static let write = Access(rawValue: 2)
        /// Run a file, or enter a directory.
        package static let execute = Access(rawValue: 1)
    }

    /// Whether the permission bits let this user do `access`: the owner's
    /// bits when it owns the file, else the group's when it is in the group,
    /// else the others'. Root may do anything.
    package func may(_ access: Access, _ file: stat) -> Bool {
        if uid == 0 { return true }
        let shift: mode_t = file.st_uid == uid ? 6 : groups.contains(file.st_gid) ? 3 : 0
        return (file.st_mode >> shift) & access.rawValue == access.rawValue
    }

    /// The first directory on the way to `path` (itself included) that this
    /// user cannot enter, with its permissions.
    package func firstBarrier(toward path: String) -> (directory: String, info: stat)? {
        var directory = ""
        for component in [""] + path.split(separator: "/").map(String.init) {
            directory += component.isEmpty ? "/" : (directory == "/" ? "" : "/") + component
            var info = stat()
            guard stat(directory, &info) == 0 else { return nil }
            if !may(.execute, info) { return (directory, info) }
        }
        return nil
    }
}

/// "0660 root:kvm": a file's permission bits, owner and group.
package func permissionsDescription(of path: String, _ info: stat) -> String {
    let attributes = try? FileManager.default.attributesOfItem(atPath: path)
    let owner = attributes?[.ownerAccountName] as? String ?? "\(info.st_uid)"
    let group = attributes?[.groupOwnerAccountName] as? String ?? "\(info.st_gid)"
    return "0" + String(info.st_mode & 0o7777, radix: 8) + " \(owner):\(group)"
}
