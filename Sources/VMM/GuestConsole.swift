import MVMCore
import Synchronization

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

/// The console of one domain: the socket or the stream, closed once, from
/// whichever thread asks first.
final class GuestConsole: Sendable {
    enum Source {
        case socket(ConsoleSocket)
        case stream(StreamConsole)
    }

    private let source = Mutex<(current: Source?, closed: Bool)>((nil, false))

    /// Takes `source` over; closes it at once when the console was closed
    /// already (an interrupt came first).
    func attach(_ newSource: Source) {
        let accepted = source.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.current = newSource
            return true
        }
        if !accepted { Self.close(newSource) }
    }

    func close() {
        let current = source.withLock { state in
            defer { state = (nil, true) }
            return state.current
        }
        if let current { Self.close(current) }
    }

    private static func close(_ source: Source) {
        switch source {
        case .socket(let socket): socket.close()
        case .stream(let stream): stream.close()
        }
    }
}
