import MVMCore
import Synchronization
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// A listening UNIX socket that a guest's serial port connects to (QEMU's
/// `-chardev socket` in client mode). Listening before the domain starts means
/// QEMU connects while it initialises, so the console loses no byte.
///
/// Owns its descriptors and its socket file. The boot thread blocks in
/// `acceptConnection` and then in reading the connection, while an
/// interrupted mvm may `close()` from another thread at any moment: the
/// descriptors are `SharedDescriptor`s, which wake the blocked thread and
/// close only once it is done, and the rest of the state is under a lock.
final class ConsoleSocket: Sendable {
    let path: String
    private let listener: SharedDescriptor
    private let state = Mutex<(connection: SharedDescriptor?, closed: Bool)>((nil, false))

    init(path: String) throws(VMMError) {
        do {
            // QEMU may run as another user (libvirt-qemu under qemu:///system).
            listener = SharedDescriptor(try UnixSocket.listen(at: path, permissions: 0o666))
        } catch {
            throw .system(error)
        }
        self.path = path
    }

    deinit {
        close()
    }

    /// Waits for QEMU to connect; returns the connection, to read the
    /// console from, and the peer's pid as the kernel reports it
    /// (SO_PEERCRED).
    func acceptConnection(until deadline: ContinuousClock.Instant) throws(VMMError) -> (
        console: SharedDescriptor, peerPID: Int32?
    ) {
        let outcome: UnixSocket.AcceptOutcome
        do { outcome = try UnixSocket.acceptOne(on: listener, until: deadline) } catch {
            throw .system(SystemFailure("accepting QEMU's console connection on \(path)", underlying: error))
        }
        let accepted: FileDescriptor
        switch outcome {
        case .accepted(let connection): accepted = connection
        case .timedOut: throw .system(SystemFailure("QEMU did not connect to the console socket \(path) in time"))
        case .closed: throw Self.closedWhileWaiting
        }
        let peer = UnixSocket.peerPID(of: accepted)
        let console = SharedDescriptor(accepted)
        let kept = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.connection = console
            return true
        }
        guard kept else {
            console.close()
            throw Self.closedWhileWaiting
        }
        return (console, peer)
    }

    private static let closedWhileWaiting = VMMError.system(
        SystemFailure("the console was closed while mvm waited for QEMU (mvm is being stopped)"))

    /// Closes both descriptors (once their users are done) and removes the
    /// socket file. Safe to call more than once, from any thread.
    func close() {
        let (connection, first) = state.withLock { state in
            defer { state = (nil, true) }
            return (state.connection, !state.closed)
        }
        guard first else { return }
        listener.close()
        connection?.close()
        unlink(path)
    }
}
