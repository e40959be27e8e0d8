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

    /// Refuses a path that a socket cannot be bound to, before anything
    /// exists, so that the launcher can check it when it is made.
    static func checkPath(_ path: String) throws(ContainerError) {
        guard path.utf8.count <= UnixSocket.maximumPathLength else {
            throw .invalidConfiguration(
                "terminal socket path \(path) is longer than \(UnixSocket.maximumPathLength) bytes; use a state directory with a shorter path"
            )
        }
    }

    /// Listens on `path` (whose directory exists). Nothing is left when it throws.
    init(path: String) throws(ContainerError) {
        try Self.checkPath(path)
        do {
            // One connection: the runtime's.
            listener = SharedDescriptor(try UnixSocket.listen(at: path, backlog: 1))
        } catch {
            throw .system(error)
        }
        self.path = path
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
        let terminal = try keep(SharedDescriptor(received.descriptor), as: \.terminal)
        closeSockets()
        return terminal
    }

    /// Stores `descriptor` in the state for `close()` to find, unless
    /// `close()` came first: then it is closed and the wait is over.
    private func keep(_ descriptor: SharedDescriptor, as slot: WritableKeyPath<State, SharedDescriptor?>)
        throws(ContainerError) -> SharedDescriptor
    {
        let kept = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state[keyPath: slot] = descriptor
            return true
        }
        guard kept else {
            descriptor.close()
            throw Self.closedWhileWaiting
        }
        return descriptor
    }

    private func accept(until deadline: ContinuousClock.Instant, runtime: String) throws(ContainerError)
        -> SharedDescriptor
    {
        let outcome: UnixSocket.AcceptOutcome
        do { outcome = try UnixSocket.acceptOne(on: listener, until: deadline) } catch {
            throw .system(SystemFailure("accepting \(runtime)'s connection on \(path)", underlying: error))
        }
        let accepted: FileDescriptor
        switch outcome {
        case .accepted(let connection): accepted = connection
        case .timedOut:
            throw .system(
                SystemFailure(
                    "\(runtime) did not connect to the terminal socket \(path) in time",
                    advice: "raise the timeout if the host is busy"))
        case .closed: throw Self.closedWhileWaiting
        }
        return try keep(SharedDescriptor(accepted), as: \.connection)
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
