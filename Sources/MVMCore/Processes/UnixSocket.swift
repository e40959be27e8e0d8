import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// UNIX stream sockets at a path: the consoles' listeners and their clients.
package enum UnixSocket {
    /// Binds and listens at `path` (a file left there is replaced), the
    /// socket close-on-exec and the file's mode `permissions`.
    package static func listen(at path: String, permissions: mode_t = 0o600) throws(SystemFailure) -> FileDescriptor {
        var address = try self.address(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            throw SystemFailure("cannot create a socket for \(path)", underlying: Errno(rawValue: errno))
        }
        unlink(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, Glibc.listen(fd, 4) == 0 else {
            let code = Errno(rawValue: errno)
            close(fd)
            unlink(path)
            throw SystemFailure("cannot listen on \(path)", underlying: code)
        }
        chmod(path, permissions)
        return FileDescriptor(rawValue: fd)
    }

    /// Connects to the socket at `path`.
    package static func connect(to path: String) throws(SystemFailure) -> FileDescriptor {
        var address = try self.address(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            throw SystemFailure("cannot create a socket for \(path)", underlying: Errno(rawValue: errno))
        }
        do {
            _ = try retryingOnInterrupt {
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                    }
                }
            }
        } catch {
            close(fd)
            throw SystemFailure("cannot connect to \(path)", underlying: error)
        }
        return FileDescriptor(rawValue: fd)
    }

    /// The longest path a socket address holds (107 bytes on Linux).
    package static var maximumPathLength: Int {
        MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1
    }

    private static func address(_ path: String) throws(SystemFailure) -> sockaddr_un {
        guard path.utf8.count <= maximumPathLength else {
            throw SystemFailure(
                "the socket path \(path) is longer than \(maximumPathLength) bytes",
                advice: "use a state directory with a shorter path")
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8)
            raw[path.utf8.count] = 0
        }
        return address
    }
}
