import Foundation
import MVMCore

/// A guest console read through libvirt (`virDomainOpenConsole`): the way to
/// the serial port of a domain on another machine. A thread pumps the stream
/// into a socket pair, so the console is read like the local socket: poll(2) on a
/// file descriptor, as data arrives. The pump ends when the stream does (the
/// domain stopped); it owns the stream until then.
final class StreamConsole: @unchecked Sendable {
    /// mvm's end of the socket pair.
    let readDescriptor: Int32
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
        let (readEnd, writeEnd) = (descriptors[0], descriptors[1])
        readDescriptor = readEnd
        let pump = Thread {
            var buffer = [UInt8](repeating: 0, count: 16 * 1024)
            pumping: while true {
                let count = (try? buffer.withUnsafeMutableBytes { bytes throws(LibvirtError) in try stream.receive(into: bytes) }) ?? 0
                if count == 0 { break }
                var written = 0
                while written < count {
                    let result = buffer[written..<count].withUnsafeBytes {
                        send(writeEnd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                    }
                    if result < 0 {
                        if errno == EINTR { continue }
                        // mvm closed its end: nobody reads any more.
                        break pumping
                    }
                    written += result
                }
            }
            Glibc.close(writeEnd)
        }
        pump.name = "mvm-console-stream"
        pump.start()
    }

    deinit {
        close()
    }

    /// Closes mvm's end; the pump stops at its next write or at the end of
    /// the stream.
    func close() {
        lock.lock()
        defer { lock.unlock() }
        if readOpen {
            Glibc.close(readDescriptor)
            readOpen = false
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
