#if canImport(Glibc)
import Glibc
#endif
import MVMCore

/// A listening UNIX socket that a guest's serial port connects to (QEMU's
/// `-chardev socket` in client mode). Listening before the domain starts means
/// QEMU connects while it initialises, so the console loses no byte.
/// Owns its descriptors and its socket file; `close()` releases them once.
final class ConsoleSocket: @unchecked Sendable {
    let path: String
    private var listener: Int32
    private(set) var connection: Int32 = -1

    init(path: String) throws(VMMError) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else {
            throw .system("console socket path \(path) is longer than \(capacity - 1) bytes; use a shorter --state-dir")
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system("cannot create console socket: \(errnoDescription(errno))") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8)
            raw[path.utf8.count] = 0
        }
        unlink(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, listen(fd, 1) == 0 else {
            let problem = errnoDescription(errno)
            Glibc.close(fd)
            unlink(path)
            throw .system("cannot listen on console socket \(path): \(problem)")
        }
        // QEMU may run as another user (libvirt-qemu under qemu:///system).
        chmod(path, 0o666)
        self.path = path
        self.listener = fd
    }

    deinit {
        close()
    }

    /// Waits for QEMU to connect; returns the connected descriptor and the
    /// peer's pid as the kernel reports it (SO_PEERCRED).
    func acceptConnection(until deadline: ContinuousClock.Instant) throws(VMMError) -> (fd: Int32, peerPID: Int32?) {
        switch pollReadable(listener, until: deadline) {
        case .timedOut:
            throw .system("QEMU did not connect to the console socket \(path) in time")
        case .failed(let code):
            throw .system("waiting for QEMU on \(path): \(errnoDescription(code))")
        case .readable:
            break
        }
        let fd = accept(listener, nil, nil)
        guard fd >= 0 else { throw .system("accepting QEMU's console connection: \(errnoDescription(errno))") }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        connection = fd
        var credentials = PeerCredentials()
        var length = socklen_t(MemoryLayout<PeerCredentials>.size)
        let peer: Int32? =
            getsockopt(fd, SOL_SOCKET, soPeerCred, &credentials, &length) == 0 ? credentials.pid : nil
        return (fd, peer)
    }

    func close() {
        if connection >= 0 {
            Glibc.close(connection)
            connection = -1
        }
        if listener >= 0 {
            Glibc.close(listener)
            listener = -1
            unlink(path)
        }
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
