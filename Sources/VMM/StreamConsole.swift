import Foundation
import MVMCore

/// A guest console read through libvirt (`virDomainOpenConsole`): the way to
/// the serial port of a domain on another machine. libvirt's event loop hands
/// the stream's data to a callback that forwards it into a socket pair, so
/// the console is read like the local socket: poll(2) on a file descriptor,
/// as data arrives. At the end of the stream mvm's end reads end of file.
final class StreamConsole: @unchecked Sendable {
    /// mvm's end of the socket pair.
    let readDescriptor: Int32
    private let stream: Stream
    private let forwarder: Forwarder
    private let lock = NSLock()
    private var readOpen = true

    init(stream: Stream) throws(VMMError) {
        // A socket pair rather than a pipe: send(2) with MSG_NOSIGNAL fails
        // with EPIPE once mvm closed its end, where a pipe write would raise
        // SIGPIPE and kill the process.
        var descriptors: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &descriptors) == 0 else {
            throw .system("cannot create a socket pair for the guest console: \(errnoDescription(errno))")
        }
        readDescriptor = descriptors[0]
        // Never block libvirt's event loop: what mvm does not read (after the
        // readiness line) is dropped, as a serial port with no reader would.
        _ = fcntl(descriptors[1], F_SETFL, fcntl(descriptors[1], F_GETFL) | O_NONBLOCK)
        self.stream = stream
        let forwarder = Forwarder(writeDescriptor: descriptors[1])
        self.forwarder = forwarder
        do {
            try stream.watch { stream in forwarder.drain(stream) }
        } catch {
            forwarder.finish()
            Glibc.close(descriptors[0])
            throw .libvirt(error)
        }
    }

    deinit {
        close()
    }

    /// Stops the stream and closes both ends. Safe to call more than once.
    func close() {
        lock.lock()
        defer { lock.unlock() }
        guard readOpen else { return }
        readOpen = false
        stream.stopWatching()
        forwarder.finish()
        Glibc.close(readDescriptor)
    }

    /// Moves what the stream has into the socket pair; runs on libvirt's
    /// event-loop thread.
    private final class Forwarder: @unchecked Sendable {
        private let lock = NSLock()
        private var writeDescriptor: Int32
        private var buffer = [UInt8](repeating: 0, count: 16 * 1024)

        init(writeDescriptor: Int32) {
            self.writeDescriptor = writeDescriptor
        }

        func drain(_ stream: Stream) {
            lock.lock()
            defer { lock.unlock() }
            while writeDescriptor >= 0 {
                switch buffer.withUnsafeMutableBytes({ stream.receive(into: $0) }) {
                case .wouldBlock:
                    return
                case .end:
                    closeWriteEnd()
                    return
                case .data(let count):
                    if !forward(count) { closeWriteEnd() }
                }
            }
        }

        private func forward(_ count: Int) -> Bool {
            var written = 0
            while written < count {
                let result = buffer[written..<count].withUnsafeBytes {
                    send(writeDescriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                }
                if result < 0 {
                    if errno == EINTR { continue }
                    if errno == EAGAIN { return true }
                    // mvm closed its end: nobody reads any more.
                    return false
                }
                written += result
            }
            return true
        }

        func finish() {
            lock.lock()
            defer { lock.unlock() }
            closeWriteEnd()
        }

        private func closeWriteEnd() {
            if writeDescriptor >= 0 {
                Glibc.close(writeDescriptor)
                writeDescriptor = -1
            }
        }
    }
}

/// How mvm reads a guest's serial console.
public enum ConsoleTransport: String, Sendable, Codable, CaseIterable {
    /// `socket` when the domain runs on this machine, `stream` otherwise.
    case auto
    /// A UNIX socket mvm listens on (local domains): lossless from the
    /// first byte, nothing between the guest and mvm.
    case socket
    /// libvirt's console stream over a pty (any URI, remote ones too). The
    /// domain starts paused and waits `ptyAttachHold` for QEMU to see the
    /// client, which shows up as the `resumed` phase.
    case stream
}

/// The console of one booted domain: the socket or the stream, closed once.
final class GuestConsole: @unchecked Sendable {
    enum Source {
        case socket(ConsoleSocket)
        case stream(StreamConsole)
    }

    private let lock = NSLock()
    private var source: Source?

    func attach(_ source: Source) {
        lock.withLock { self.source = source }
    }

    func close() {
        let current = lock.withLock {
            defer { source = nil }
            return source
        }
        switch current {
        case .socket(let socket): socket.close()
        case .stream(let stream): stream.close()
        case nil: break
        }
    }
}
