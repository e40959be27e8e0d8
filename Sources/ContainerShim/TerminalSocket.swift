import MVMCore
import Synchronization
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Where the runtime hands over a container's terminal: runc's
/// `--console-socket` (docs/terminals.md, "Detached New Terminal"). The
/// runtime connects during `create`, sends the pty master with SCM_RIGHTS
/// and the pty's name as the message (libcontainer/utils/cmsg.go `SendFd`),
/// and makes the slave the init's stdio and controlling terminal. After
/// `create` only the receiver holds the master.
///
/// Owns the socket file, the listening and accepted sockets, and then the
/// master. `receiveTerminal` blocks on a dedicated thread while `create`
/// runs; a failed `create`, a teardown or an interrupt may `close()` from
/// another thread at any moment: the descriptors are `SharedDescriptor`s,
/// which wake the blocked thread and close only once it is done (as the
/// VM's console socket does).
final class TerminalSocket: Sendable {
    let path: String
    private let listener: SharedDescriptor
    private let state = Mutex<State>(State())

    private struct State {
        var connection: SharedDescriptor?
        var terminal: SharedDescriptor?
        var closed = false
        var unlinked = false
    }

    /// `sun_path`'s size: the longest socket path, with its terminating zero.
    static let pathCapacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)

    /// Refuses a path that a socket cannot be bound to, before anything
    /// exists, so that the launcher can check it when it is made.
    static func checkPath(_ path: String) throws(ContainerError) {
        guard path.utf8.count < pathCapacity else {
            throw .invalidConfiguration(
                "terminal socket path \(path) is longer than \(pathCapacity - 1) bytes; use a state directory with a shorter path"
            )
        }
    }

    /// Listens on `path` (whose directory exists). Nothing is left when it throws.
    init(path: String) throws(ContainerError) {
        try Self.checkPath(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            throw .system(SystemFailure("cannot create the terminal socket", underlying: Errno(rawValue: errno)))
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8)
            raw[path.utf8.count] = 0
        }
        // A file of a crashed earlier mvm with the same name would make bind fail.
        unlink(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        // One connection: the runtime's.
        guard bound == 0, listen(fd, 1) == 0 else {
            let code = Errno(rawValue: errno)
            Glibc.close(fd)
            if bound == 0 { unlink(path) }
            throw .system(SystemFailure("cannot listen on the terminal socket \(path)", underlying: code))
        }
        self.path = path
        listener = SharedDescriptor(FileDescriptor(rawValue: fd))
    }

    deinit {
        close()
    }

    /// Waits until the runtime has connected and sent the pty master, then
    /// closes the sockets and removes the socket file: it was needed only
    /// for the handover. Returns the master, which this socket keeps until
    /// `close()`. Blocking: run it on a dedicated thread.
    func receiveTerminal(until deadline: ContinuousClock.Instant, runtime: String) throws(ContainerError)
        -> SharedDescriptor
    {
        let connection = try accept(until: deadline, runtime: runtime)
        let received = try connection.withDescriptor {
            (descriptor) throws(ContainerError) -> (descriptor: FileDescriptor, payload: [UInt8]) in
            do {
                guard try pollReadable(descriptor, until: deadline) == .readable else {
                    throw ContainerError.system(
                        SystemFailure("\(runtime) connected to \(path) but sent no terminal in time"))
                }
            } catch let error as ContainerError {
                throw error
            } catch {
                throw .system(SystemFailure("waiting for \(runtime) on \(path)", underlying: error))
            }
            do {
                return try receiveDescriptor(on: descriptor)
            } catch {
                if connection.isClosed { throw Self.closedWhileWaiting }
                throw .system(
                    SystemFailure("receiving the container's terminal from \(runtime) on \(path)", underlying: error))
            }
        }
        guard let received else { throw Self.closedWhileWaiting }
        // What came is meant to be a pty master; anything else would make
        // the console read something that is not the container's output.
        guard isatty(received.descriptor.rawValue) == 1 else {
            try? received.descriptor.close()
            throw .system(SystemFailure("\(runtime) sent a descriptor on \(path) that is not a terminal"))
        }
        let terminal = SharedDescriptor(received.descriptor)
        let kept = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.terminal = terminal
            return true
        }
        guard kept else {
            terminal.close()
            throw Self.closedWhileWaiting
        }
        closeSockets()
        return terminal
    }

    private func accept(until deadline: ContinuousClock.Instant, runtime: String) throws(ContainerError)
        -> SharedDescriptor
    {
        let accepted = try listener.withDescriptor { (listener) throws(ContainerError) -> FileDescriptor in
            let outcome: PollOutcome
            do { outcome = try pollReadable(listener, until: deadline) } catch {
                throw .system(SystemFailure("waiting for \(runtime) on \(path)", underlying: error))
            }
            guard outcome == .readable else {
                throw .system(
                    SystemFailure(
                        "\(runtime) did not connect to the terminal socket \(path) in time",
                        advice: "raise the timeout if the host is busy"))
            }
            do {
                // accept4 is not exported without _GNU_SOURCE. Until
                // fcntl runs, a child spawned meanwhile could inherit the
                // connection, but swift-subprocess closes every other
                // descriptor in the children it starts (closefrom).
                let fd = try retryingOnInterrupt { Glibc.accept(listener.rawValue, nil, nil) }
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                return FileDescriptor(rawValue: fd)
            } catch {
                // close() shut the listener down to wake this thread.
                if self.listener.isClosed { throw Self.closedWhileWaiting }
                throw .system(SystemFailure("accepting \(runtime)'s connection on \(path)", underlying: error))
            }
        }
        guard let accepted else { throw Self.closedWhileWaiting }
        let connection = SharedDescriptor(accepted)
        let kept = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.connection = connection
            return true
        }
        guard kept else {
            connection.close()
            throw Self.closedWhileWaiting
        }
        return connection
    }

    private static let closedWhileWaiting = ContainerError.system(
        SystemFailure("the terminal socket was closed while mvm waited for the runtime (the launch is being undone)"))

    /// The listening and accepted sockets and the file; the terminal stays.
    private func closeSockets() {
        let (connection, unlinkNow) = state.withLock { state in
            defer { state.unlinked = true }
            return (state.connection, !state.unlinked)
        }
        listener.close()
        connection?.close()
        if unlinkNow { unlink(path) }
    }

    /// Closes every descriptor (once its users are done), the terminal
    /// included, and removes the socket file. Safe to call more than once,
    /// from any thread.
    func close() {
        let (terminal, first) = state.withLock { state in
            defer { state.closed = true }
            return (state.terminal, !state.closed)
        }
        guard first else { return }
        closeSockets()
        terminal?.close()
    }
}
