import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// UNIX stream sockets at a path: the consoles' listeners and their clients.
package enum UnixSocket {
    /// Binds and listens at `path` (a file left there is replaced), the
    /// socket close-on-exec and the file's mode `permissions`.
    package static func listen(at path: String, permissions: mode_t = 0o600, backlog: Int32 = 4) throws(SystemFailure)
        -> FileDescriptor
    {
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
        guard bound == 0, Glibc.listen(fd, backlog) == 0 else {
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

    package enum AcceptOutcome {
        case accepted(FileDescriptor)
        case timedOut
        /// The listener was closed, which wakes the waiting thread.
        case closed
    }

    /// Waits until `deadline` for one connection on `listener`, which
    /// another thread may close meanwhile (an interrupted launch). The
    /// connection is close-on-exec: accept4 is not exported without
    /// _GNU_SOURCE, so fcntl follows accept; a child spawned in between
    /// could inherit it, but swift-subprocess and posix_spawn with mvm's
    /// file actions close every other descriptor in the children they start.
    package static func acceptOne(on listener: SharedDescriptor, until deadline: ContinuousClock.Instant) throws(Errno)
        -> AcceptOutcome
    {
        let outcome = try listener.withDescriptor { (descriptor) throws(Errno) -> AcceptOutcome in
            guard try pollReadable(descriptor, until: deadline) == .readable else { return .timedOut }
            do throws(Errno) {
                let fd = try retryingOnInterrupt { accept(descriptor.rawValue, nil, nil) }
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                return .accepted(FileDescriptor(rawValue: fd))
            } catch {
                if listener.isClosed { return .closed }
                throw error
            }
        }
        return outcome ?? .closed
    }

    /// The pid of the process at the other end of a connection, as the
    /// kernel reports it (SO_PEERCRED); nil when it does not say.
    package static func peerPID(of connection: FileDescriptor) -> Int32? {
        // Linux's struct ucred: pid, uid, gid (Glibc's module leaves it
        // out without _GNU_SOURCE), and SO_PEERCRED's number 17.
        var credentials: (pid: Int32, uid: UInt32, gid: UInt32) = (0, 0, 0)
        var length = socklen_t(MemoryLayout.size(ofValue: credentials))
        let got = getsockopt(connection.rawValue, SOL_SOCKET, 17, &credentials, &length)
        return got == 0 && credentials.pid > 0 ? credentials.pid : nil
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
