import CSyscallProbe
import Synchronization
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// An instance whose console a person can use: what the workload prints
/// comes out of it, and what is written to it reaches the workload (the
/// guest's serial port, the container's terminal).
package protocol ConsoleInstance: DetachableInstance {
    var consoleConnection: SharedDescriptor? { get }
    /// Where a relay listens once the console is handed over on a detach
    /// with `--keep` (`ConsoleRelay`); nil when the console cannot outlive
    /// this process (a libvirt stream: `mvm console` reopens it instead).
    var consoleRelaySocket: String? { get }
}

/// Connects this process's standard input and output to an instance's
/// console until one of them ends. On a terminal, the terminal is put in
/// raw mode (every key, Ctrl-C included, goes to the instance) and the
/// escape byte detaches; without one (`echo 'uname -r' | mvm boot -it`),
/// the end of the input is sent as Ctrl-D, so that the instance's shell
/// exits, and the attachment lasts until the console closes.
package enum ConsoleAttachment {
    /// Ctrl-], as `virsh console` and telnet have it.
    package static let escapeByte: UInt8 = 0x1D
    /// End of input for the instance's terminal: its shell exits.
    static let endOfInput: UInt8 = 0x04
    /// What the guest's init prints when a piped shell has exited
    /// (`mvm_input=pipe`): the shell's output ends before it, and what the
    /// kernel says while the instance stops is not the shell's.
    package static let sessionEndMarker = Array("mvm-session-end\n".utf8)
    /// What it prints once the piped shell is ready for input: mvm sends
    /// nothing before it, so that no byte is echoed or lost.
    package static let sessionStartMarker = Array("mvm-session-start\n".utf8)

    package enum End: Equatable, Sendable {
        /// The instance closed its console: it stopped.
        case consoleClosed
        /// The escape byte was typed.
        case detached
        /// A piped shell exited: the session-end marker came.
        case sessionEnded
    }

    /// Blocking: run it on a dedicated thread. `input` is a terminal when
    /// `isatty` says so; then it is raw for as long as this runs.
    package static func run(
        console: SharedDescriptor, input: FileDescriptor = .standardInput, output: FileDescriptor = .standardOutput
    ) -> End {
        let terminal = isatty(input.rawValue) == 1
        if terminal { RawTerminal.enter(input) }
        defer { if terminal { RawTerminal.restore() } }
        let unread = console.takeUnread()
        return console.withDescriptor { descriptor in
            pump(console: descriptor, unread: unread, input: input, output: output, detachable: terminal)
        } ?? .consoleClosed
    }

    private static func pump(
        console: FileDescriptor, unread: [UInt8], input: FileDescriptor, output: FileDescriptor, detachable: Bool
    ) -> End {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        // Without a terminal, input waits for the start marker.
        var inputOpen = detachable
        var framing = PipedSessionFraming()
        /// Writes what the instance printed; the end when a marker says so.
        func show(_ bytes: [UInt8]) -> End? {
            if detachable {
                _ = try? output.writeAll(bytes)
                return nil
            }
            let (shown, ended) = framing.feed(bytes)
            if framing.started { inputOpen = true }
            _ = try? output.writeAll(shown)
            return ended ? .sessionEnded : nil
        }
        // What came with the readiness line, before anyone listened.
        if let end = show(unread) { return end }
        // A container's terminal (a pty; a VM's serial port has no size)
        // follows this terminal's size, looked at twice a second.
        let resizable = detachable && isatty(console.rawValue) == 1
        while true {
            if resizable { _ = mvm_copy_window_size(input.rawValue, console.rawValue) }
            var entries = [pollfd(fd: console.rawValue, events: Int16(POLLIN), revents: 0)]
            if inputOpen { entries.append(pollfd(fd: input.rawValue, events: Int16(POLLIN), revents: 0)) }
            let ready = entries.withUnsafeMutableBufferPointer {
                poll($0.baseAddress, nfds_t($0.count), resizable ? 500 : -1)
            }
            if ready < 0 {
                if errno == EINTR { continue }
                return .consoleClosed
            }
            if entries[0].revents != 0 {
                let count = buffer.withUnsafeMutableBytes { (try? console.read(into: $0)) ?? 0 }
                if count <= 0 {
                    _ = try? output.writeAll(framing.finish())
                    return .consoleClosed
                }
                if let end = show(Array(buffer[0..<count])) { return end }
            }
            if entries.count > 1, entries[1].revents != 0 {
                let count = buffer.withUnsafeMutableBytes { (try? input.read(into: $0)) ?? 0 }
                if count <= 0 {
                    inputOpen = false
                    _ = try? console.writeAll([endOfInput])
                    continue
                }
                var bytes = Array(buffer[0..<count])
                if detachable, let escape = bytes.firstIndex(of: escapeByte) {
                    bytes = Array(bytes[..<escape])
                    _ = try? console.writeAll(bytes)
                    return .detached
                }
                _ = try? console.writeAll(bytes)
            }
        }
    }
}

/// The framing of a piped session (`echo 'uname -r' | mvm boot -it`): of
/// what the instance prints, only what comes between the start marker and
/// the end marker is the shell's. Before the start marker it is init's and
/// is dropped; after it, output is held back by less than the end marker's
/// length, so that a marker split between two reads is still found. What
/// is held is never more than a marker, whatever a guest prints.
package struct PipedSessionFraming: Sendable {
    package private(set) var started = false
    private var pending: [UInt8] = []

    package init() {}

    /// How many bytes are held back now.
    package var heldBack: Int { pending.count }

    /// Takes what the instance printed next: what to show of it, and
    /// whether the session ended (the end marker came; what follows it is
    /// not the shell's).
    package mutating func feed(_ bytes: [UInt8]) -> (shown: [UInt8], ended: Bool) {
        pending += bytes
        if !started {
            let marker = ConsoleAttachment.sessionStartMarker
            guard let start = pending.firstRange(of: marker) else {
                pending.removeFirst(max(0, pending.count - (marker.count - 1)))
                return ([], false)
            }
            pending.removeFirst(start.upperBound)
            started = true
        }
        let marker = ConsoleAttachment.sessionEndMarker
        if let end = pending.firstRange(of: marker) {
            let shown = Array(pending[..<end.lowerBound])
            pending = []
            return (shown, true)
        }
        let keep = min(pending.count, marker.count - 1)
        let shown = Array(pending[..<(pending.count - keep)])
        pending.removeFirst(pending.count - keep)
        return (shown, false)
    }

    /// What is left to show when the console closes without an end marker.
    package mutating func finish() -> [UInt8] {
        defer { pending = [] }
        return started ? pending : []
    }
}

/// The terminal mvm runs in, in raw mode while a console is attached. The
/// settings it had are kept process-wide, so that whatever ends mvm (the
/// console closing, the escape, SIGTERM, an error) restores them.
package enum RawTerminal {
    private static let saved = Mutex<(descriptor: Int32, settings: termios)?>(nil)

    /// Raw mode, as cfmakeraw(3) sets it, on `descriptor`.
    static func enter(_ descriptor: FileDescriptor) {
        var settings = termios()
        guard tcgetattr(descriptor.rawValue, &settings) == 0 else { return }
        saved.withLock { $0 = (descriptor.rawValue, settings) }
        var raw = settings
        cfmakeraw(&raw)
        tcsetattr(descriptor.rawValue, TCSAFLUSH, &raw)
    }

    /// Puts the settings back, once; nothing when not in raw mode.
    package static func restore() {
        guard
            let (descriptor, settings) = saved.withLock({ state in
                defer { state = nil }
                return state
            })
        else { return }
        var original = settings
        tcsetattr(descriptor, TCSAFLUSH, &original)
    }
}
