import Foundation
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// What keeps a kept instance's console open once the mvm that started it
/// has exited, so that `mvm console NAME` can attach to it later: a small
/// process of its own (`mvm console-relay`), in a session of its own, that
/// holds the console (the connection QEMU made to mvm's console socket, or
/// the container's pty master) and listens at `<state>/consoles/NAME.attach`.
///
/// It reads the console all the time, so that a guest writing with nobody
/// attached never blocks (what nobody reads is dropped, as a serial port
/// drops it; a VM's console log keeps a copy), and copies both ways while
/// one client is attached. A second client is refused, not handed the
/// console: the first would lose it without knowing. The relay ends when
/// the console ends, that is when the instance stops (`mvm destroy`, the
/// guest's `exit` or `poweroff`), and removes its socket.
package enum ConsoleRelay {
    /// The first line a relay sends a new client: the console is its.
    static let attachedGreeting = "mvm-console-attached"
    /// Or: another client has it (followed by that client's pid).
    static let busyGreeting = "mvm-console-busy"

    /// Where the relay of instance `name` listens.
    package static func socketPath(consoles: String, name: String) -> String {
        consoles + "/" + name + ".attach"
    }

    /// Hands `console` to a new relay process that listens at `socketPath`.
    /// `command` runs the relay: mvm's executable and its hidden subcommand;
    /// the relay gets the console as descriptor 3 and the listening socket
    /// as descriptor 4. Returns the relay's pid.
    package static func start(console: SharedDescriptor, socketPath: String, command: [String]) throws(SystemFailure)
        -> pid_t
    {
        let listener = try UnixSocket.listen(at: socketPath)
        defer { try? listener.close() }
        let spawned = try console.withDescriptor { (console) throws(SystemFailure) -> pid_t in
            try spawn(command, descriptors: [console.rawValue: 3, listener.rawValue: 4])
        }
        guard let pid = spawned else {
            unlink(socketPath)
            throw SystemFailure("cannot hand the console over: it is closed already")
        }
        return pid
    }

    /// Runs `command` in a new session, with /dev/null as its standard
    /// streams and `descriptors` (here → there) as its only others.
    private static func spawn(_ command: [String], descriptors: [Int32: Int32]) throws(SystemFailure) -> pid_t {
        guard let executable = command.first else { throw SystemFailure("no relay command") }
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        for standard: Int32 in 0...2 {
            posix_spawn_file_actions_addopen(&actions, standard, "/dev/null", standard == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        // dup2 clears close-on-exec on the copy.
        for (here, there) in descriptors { posix_spawn_file_actions_adddup2(&actions, here, there) }
        // A session of its own: closing mvm's terminal (SIGHUP) or Ctrl-C
        // in it does not reach the relay. Default signal handlers and an
        // empty mask, whatever mvm had set.
        var defaults = sigset_t()
        sigfillset(&defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK) | spawnSetSessionFlag)
        var arguments: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { for argument in arguments { free(argument) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, &arguments, environ)
        guard status == 0 else {
            throw SystemFailure("cannot start the console relay \(executable)", underlying: Errno(rawValue: status))
        }
        return pid
    }

    /// Closes every descriptor numbered `lowest` or more, as listed in
    /// /proc/self/fd (close_range(2) goes through the variadic syscall(2),
    /// which Swift cannot call).
    private static func closeDescriptors(from lowest: Int32) {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        // The listing's own descriptor is among them, closed already.
        for number in entries.compactMap(Int32.init) where number >= lowest { close(number) }
    }

    /// glibc's POSIX_SPAWN_SETSID (spawn.h, under _GNU_SOURCE, which the
    /// Glibc module leaves out).
    private static let spawnSetSessionFlag: Int16 = 0x80

    /// Makes this process a relay's (`mvm console-relay`), before `serve`:
    /// no descriptor but the standard ones, the console (3) and the
    /// listener (4), since an inherited one (libvirt's embedded driver
    /// lock) would outlive mvm; no death by a closed client or terminal.
    package static func prepareRelayProcess() {
        signal(SIGPIPE, SIG_IGN)
        signal(SIGHUP, SIG_IGN)
        closeDescriptors(from: 5)
    }

    /// The relay process's work (`mvm console-relay`): returns once the
    /// console has ended, its socket removed.
    package static func serve(console: FileDescriptor, listener: FileDescriptor, socketPath: String) {
        var relay = Relay(console: console, listener: listener)
        relay.run()
        unlink(socketPath)
    }

    /// Connects to the relay at `socketPath`; the console, once the relay
    /// said it is this client's.
    package static func attach(socketPath: String) throws(ConsoleRelayError) -> SharedDescriptor {
        let connection: FileDescriptor
        do {
            connection = try UnixSocket.connect(to: socketPath)
        } catch {
            switch error.underlying as? Errno {
            case .noSuchFileOrDirectory?: throw .noRelay
            case .connectionRefused?: throw .relayGone
            default: throw .system(error)
            }
        }
        var line: [UInt8] = []
        var byte: [UInt8] = [0]
        let deadline = ContinuousClock.now + .seconds(5)
        // Byte by byte: what follows the greeting is the console's.
        while line.count < 128 {
            let outcome = try? pollReadable(connection, until: deadline)
            guard outcome == .readable, byte.withUnsafeMutableBytes({ try? connection.read(into: $0) }) == 1
            else { break }
            if byte[0] == UInt8(ascii: "\n") {
                let text = String(decoding: line, as: UTF8.self)
                if text == attachedGreeting { return SharedDescriptor(connection) }
                try? connection.close()
                if text.hasPrefix(busyGreeting) {
                    throw .busy(holder: Int32(text.dropFirst(busyGreeting.count + 1)))
                }
                throw .relayGone
            }
            line.append(byte[0])
        }
        try? connection.close()
        throw .relayGone
    }
}

/// Why `mvm console` cannot attach through a relay.
package enum ConsoleRelayError: Error {
    /// No relay listens for that instance.
    case noRelay
    /// A socket is left but its relay is gone (killed, or ending).
    case relayGone
    /// Another client is attached; its pid when the relay knew it.
    case busy(holder: Int32?)
    case system(SystemFailure)
}
