import Synchronization
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Calls a C function that returns -1 and sets errno on failure, again for
/// as long as it fails with EINTR. (swift-system's own calls retry by
/// themselves: this is for the ones it does not wrap, such as poll(2).)
package func retryingOnInterrupt<Result: FixedWidthInteger & SignedInteger>(_ call: () -> Result) throws(Errno)
    -> Result
{
    while true {
        let result = call()
        if result != -1 { return result }
        let code = Errno(rawValue: errno)
        if code != .interrupted { throw code }
    }
}

package enum PollOutcome: Equatable, Sendable {
    case readable
    case timedOut
}

/// Waits until `descriptor` is readable (data, end of file, a hang-up, or a
/// pending connection) or the deadline passes.
package func pollReadable(_ descriptor: FileDescriptor, until deadline: ContinuousClock.Instant) throws(Errno)
    -> PollOutcome
{
    let clock = ContinuousClock()
    while true {
        let remaining = deadline - clock.now
        if remaining <= .zero { return .timedOut }
        // Round up so that a sub-millisecond remainder still waits.
        let milliseconds = Int32(min(remaining.milliseconds.rounded(.up), Double(Int32.max)))
        var entry = pollfd(fd: descriptor.rawValue, events: Int16(POLLIN), revents: 0)
        if try retryingOnInterrupt({ poll(&entry, 1, milliseconds) }) > 0 { return .readable }
    }
}

/// A file descriptor that one thread may block on (poll, accept, read)
/// while another thread asks for it to be closed: an interrupted mvm tears
/// an instance down while its boot waits on the console.
///
/// Closing a descriptor that another thread is blocked on is a race: the
/// number can be reused by the next open(2), and the blocked thread then
/// reads someone else's file. So the descriptor is closed only once nobody
/// uses it. `close()` while it is in use shuts a socket down, which wakes
/// the blocked thread (a pipe wakes when its writer goes away), and the
/// last user closes it on its way out.
package final class SharedDescriptor: Sendable {
    private struct State {
        var descriptor: FileDescriptor?
        var users = 0
        var closeRequested = false
        /// Read already, by a reader that stopped at a line in the middle
        /// of what it read, for the next reader.
        var unread: [UInt8] = []
    }

    private let state: Mutex<State>

    package init(_ descriptor: FileDescriptor) {
        state = Mutex(State(descriptor: descriptor))
    }

    /// Runs `body` with the descriptor, which stays open until `body`
    /// returns; nil (and `body` does not run) once `close()` was called.
    package func withDescriptor<Result, Failure: Error>(
        _ body: (FileDescriptor) throws(Failure) -> Result
    ) throws(Failure) -> Result? {
        let descriptor = state.withLock { state -> FileDescriptor? in
            guard !state.closeRequested, let descriptor = state.descriptor else { return nil }
            state.users += 1
            return descriptor
        }
        guard let descriptor else { return nil }
        defer {
            state.withLock { state in
                state.users -= 1
                if state.users == 0 && state.closeRequested { Self.closeNow(&state) }
            }
        }
        return try body(descriptor)
    }

    /// Keeps `bytes` for the next reader (`takeUnread`): what came after
    /// the readiness line in the read that brought it.
    package func unread(_ bytes: [UInt8]) {
        state.withLock { $0.unread = bytes + $0.unread }
    }

    /// What an earlier reader left unread, once.
    package func takeUnread() -> [UInt8] {
        state.withLock { state in
            defer { state.unread = [] }
            return state.unread
        }
    }

    /// True once `close()` was called.
    package var isClosed: Bool {
        state.withLock { $0.closeRequested }
    }

    /// Closes the descriptor now, or, while a thread uses it, wakes that
    /// thread and lets it close the descriptor when it is done. Idempotent.
    package func close() {
        state.withLock { state in
            guard !state.closeRequested else { return }
            state.closeRequested = true
            if state.users == 0 {
                Self.closeNow(&state)
            } else if let descriptor = state.descriptor {
                // ENOTSOCK for a pipe: nothing to wake there.
                _ = shutdown(descriptor.rawValue, Int32(SHUT_RDWR))
            }
        }
    }

    private static func closeNow(_ state: inout State) {
        try? state.descriptor?.close()
        state.descriptor = nil
    }
}

/// Reads a small text file (procfs, sysfs, pid files) whole; nil when it
/// cannot be opened or read. Procfs files report size 0, so read until EOF.
package func readSmallFile(_ path: String) -> String? {
    guard let descriptor = try? FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec]) else {
        return nil
    }
    return try? descriptor.closeAfter {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = try chunk.withUnsafeMutableBytes { try descriptor.read(into: $0) }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
