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
        let accepted = try listener.withDescriptor { (listener) throws(VMMError) -> FileDescriptor in
            let outcome: PollOutcome
            do { outcome = try pollReadable(listener, until: deadline) } catch {
                throw .system(SystemFailure("waiting for QEMU on \(path)", underlying: error))
            }
            guard outcome == .readable else {
                throw .system(SystemFailure("QEMU did not connect to the console socket \(path) in time"))
            }
            do {
                let fd = try retryingOnInterrupt { accept(listener.rawValue, nil, nil) }
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                return FileDescriptor(rawValue: fd)
            } catch {
                // close() shut the listener down to wake this thread.
                if self.listener.isClosed { throw Self.closedWhileWaiting }
                throw .system(SystemFailure("accepting QEMU's console connection on \(path)", underlying: error))
            }
        }
        guard let accepted else { throw Self.closedWhileWaiting }
        var credentials = PeerCredentials()
        var length = socklen_t(MemoryLayout<PeerCredentials>.size)
        let peer: Int32? =
            getsockopt(accepted.rawValue, SOL_SOCKET, soPeerCred, &credentials, &length) == 0 ? credentials.pid : nil
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

/// Linux's `struct ucred` (pid, uid, gid), which Glibc's Swift module does
/// not export without _GNU_SOURCE.
private struct PeerCredentials {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

/// Linux's `SO_PEERCRED` option number (asm-generic/socket.h).
private let soPeerCred: Int32 = 17
