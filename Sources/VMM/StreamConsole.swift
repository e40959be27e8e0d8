import Foundation
import MVMCore
import Synchronization
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// A guest console read through libvirt (`virDomainOpenConsole`): the way to
/// the serial port of a domain on another machine. libvirt's event loop hands
/// the stream's data to a callback that forwards it into a socket pair, so
/// the console is read like the local socket: poll(2) on a file descriptor,
/// as data arrives. At the end of the stream mvm's end reads end of file.
final class StreamConsole: Sendable {
    /// mvm's end of the socket pair.
    let console: SharedDescriptor
    private let stream: Stream
    private let forwarder: Forwarder
    private let open = Mutex(true)

    init(stream: Stream) throws(VMMError) {
        // A socket pair rather than a pipe: send(2) with MSG_NOSIGNAL fails
        // with EPIPE once mvm closed its end, where a pipe write would raise
        // SIGPIPE and kill the process.
        var descriptors: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &descriptors) == 0
        else {
            throw .system(
                SystemFailure("cannot create a socket pair for the guest console", underlying: Errno(rawValue: errno)))
        }
        console = SharedDescriptor(FileDescriptor(rawValue: descriptors[0]))
        // Never block libvirt's event loop: what mvm does not read (after the
        // readiness line) is dropped, as a serial port with no reader would.
        _ = fcntl(descriptors[1], F_SETFL, fcntl(descriptors[1], F_GETFL) | O_NONBLOCK)
        self.stream = stream
        let forwarder = Forwarder(writeEnd: FileDescriptor(rawValue: descriptors[1]))
        self.forwarder = forwarder
        do {
            try stream.watch { stream in forwarder.drain(stream) }
        } catch {
            forwarder.finish()
            console.close()
            throw .libvirt(error)
        }
        // What mvm writes to its end (keys typed into `mvm boot -it` or
        // `mvm console`) goes the other way, on a thread of its own, from a
        // copy of the socket pair's other end: it reads end of file once mvm
        // closed its end, and then stops.
        let input = dup(descriptors[1])
        if input >= 0 {
            let thread = Thread { Self.sendTyped(from: FileDescriptor(rawValue: input), to: stream) }
            thread.name = "mvm-console-input"
            thread.start()
        }
    }

    /// Copies what mvm writes into the stream until mvm's end closes.
    private static func sendTyped(from input: FileDescriptor, to stream: Stream) {
        defer { try? input.close() }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            var entry = pollfd(fd: input.rawValue, events: Int16(POLLIN), revents: 0)
            guard (try? retryingOnInterrupt({ poll(&entry, 1, -1) })) != nil else { return }
            let count: Int
            do {
                count = try buffer.withUnsafeMutableBytes { try input.read(into: $0) }
            } catch Errno.wouldBlock {
                continue
            } catch {
                return
            }
            guard count > 0 else { return }
            var sent = 0
            while sent < count {
                switch buffer[sent..<count].withUnsafeBytes({ stream.send($0) }) {
                case .count(let more): sent += more
                case .wouldBlock: usleep(10_000)
                case .failed: return
                }
            }
        }
    }

    deinit {
        close()
    }

    /// Stops the stream and closes both ends. Safe to call more than once.
    func close() {
        let first = open.withLock { open in
            defer { open = false }
            return open
        }
        guard first else { return }
        stream.stopWatching()
        forwarder.finish()
        console.close()
    }

    /// Moves what the stream has into the socket pair; runs on libvirt's
    /// event-loop thread.
    private final class Forwarder: Sendable {
        private let state: Mutex<(writeEnd: FileDescriptor?, buffer: [UInt8])>

        init(writeEnd: FileDescriptor) {
            state = Mutex((writeEnd, [UInt8](repeating: 0, count: 16 * 1024)))
        }

        func drain(_ stream: Stream) {
            state.withLock { state in
                while let writeEnd = state.writeEnd {
                    switch state.buffer.withUnsafeMutableBytes({ stream.receive(into: $0) }) {
                    case .wouldBlock:
                        return
                    case .end:
                        Self.closeWriteEnd(&state.writeEnd)
                    case .data(let count):
                        if !Self.forward(state.buffer[0..<count], to: writeEnd) { Self.closeWriteEnd(&state.writeEnd) }
                    }
                }
            }
        }

        /// False once mvm closed its end: nobody reads any more.
        private static func forward(_ bytes: ArraySlice<UInt8>, to writeEnd: FileDescriptor) -> Bool {
            var written = bytes.startIndex
            while written < bytes.endIndex {
                do {
                    written += try bytes[written...].withUnsafeBytes { chunk in
                        try retryingOnInterrupt {
                            send(writeEnd.rawValue, chunk.baseAddress, chunk.count, Int32(MSG_NOSIGNAL))
                        }
                    }
                } catch Errno.wouldBlock {
                    return true  // mvm reads no more for now: drop, as a serial port would
                } catch {
                    return false
                }
            }
            return true
        }

        func finish() {
            state.withLock { Self.closeWriteEnd(&$0.writeEnd) }
        }

        private static func closeWriteEnd(_ writeEnd: inout FileDescriptor?) {
            // The input thread's copy keeps the socket open: shut it for
            // writing, so that mvm's end reads end of file all the same.
            if let writeEnd { _ = shutdown(writeEnd.rawValue, Int32(SHUT_WR)) }
            try? writeEnd?.close()
            writeEnd = nil
        }
    }
}
