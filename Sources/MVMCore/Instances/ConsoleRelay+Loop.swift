import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

extension ConsoleRelay {
    /// The relay's poll loop: the console, the listener, and at most one
    /// attached client.
    struct Relay {
        let console: FileDescriptor
        let listener: FileDescriptor
        var client: (descriptor: FileDescriptor, pid: Int32?)?
        private var buffer = [UInt8](repeating: 0, count: 16 * 1024)

        init(console: FileDescriptor, listener: FileDescriptor) {
            self.console = console
            self.listener = listener
        }

        /// Until the console ends: end of file from QEMU's connection, EIO
        /// from a pty master whose container has exited.
        mutating func run() {
            defer {
                if let client { try? client.descriptor.close() }
                try? listener.close()
                try? console.close()
            }
            while true {
                var entries = [
                    pollfd(fd: console.rawValue, events: Int16(POLLIN), revents: 0),
                    pollfd(fd: listener.rawValue, events: Int16(POLLIN), revents: 0),
                ]
                if let client {
                    entries.append(pollfd(fd: client.descriptor.rawValue, events: Int16(POLLIN), revents: 0))
                }
                let ready = entries.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), -1) }
                if ready < 0 {
                    if errno == EINTR { continue }
                    return
                }
                if entries[0].revents != 0 {
                    guard let bytes = read(console), !bytes.isEmpty else { return }
                    if let client, (try? client.descriptor.writeAll(bytes)) == nil { dropClient() }
                }
                if entries[1].revents != 0 { acceptClient() }
                if entries.count > 2, entries[2].revents != 0, let client {
                    guard let bytes = read(client.descriptor), !bytes.isEmpty else {
                        dropClient()
                        continue
                    }
                    _ = try? console.writeAll(bytes)
                }
            }
        }

        /// What one read brought; empty at the end, nil on an error (EIO
        /// included).
        private mutating func read(_ descriptor: FileDescriptor) -> [UInt8]? {
            let count = buffer.withUnsafeMutableBytes { try? descriptor.read(into: $0) }
            guard let count else { return nil }
            return Array(buffer[0..<count])
        }

        /// A new client gets the console, unless another has it.
        private mutating func acceptClient() {
            guard let fd = try? retryingOnInterrupt({ accept(listener.rawValue, nil, nil) }) else { return }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            let connection = FileDescriptor(rawValue: fd)
            if let client {
                let holder = client.pid.map { " \($0)" } ?? ""
                _ = try? connection.writeAll(Array((busyGreeting + holder + "\n").utf8))
                try? connection.close()
                return
            }
            guard (try? connection.writeAll(Array((attachedGreeting + "\n").utf8))) != nil else {
                try? connection.close()
                return
            }
            client = (connection, UnixSocket.peerPID(of: connection))
        }

        private mutating func dropClient() {
            try? client?.descriptor.close()
            client = nil
        }
    }
}
