import Foundation
import MVMCore
import SystemPackage
import Testing

@testable import ContainerShim

#if canImport(Glibc)
    import Glibc
#endif

/// The socket runc's `--console-socket` connects to, with a stand-in for
/// runc that sends what the test says (runc itself: IntegrationTests'
/// ContainerConsole).
@Suite struct TerminalSocketTests {
    let directory: String

    init() throws {
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent(
                "mvm-tty-\(UUID().uuidString.prefix(8))"
            ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func socketPath() -> String { directory + "/mvm-00000000.tty" }

    func leftovers() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    }

    /// Waits for the terminal on a thread of its own, as the launcher does.
    func receive(_ socket: TerminalSocket, within timeout: Duration = .seconds(10)) async throws(ContainerError)
        -> SharedDescriptor
    {
        let deadline = ContinuousClock.now + timeout
        return try await onDedicatedThreadTyped { () throws(ContainerError) in
            try socket.receiveTerminal(until: deadline, runtime: "runc")
        }
    }

    @Test func receivesTheMasterARuntimeSendsAndRemovesItsFile() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = try TerminalSocket(path: socketPath())
        let master = try openPTYMaster()
        defer { try? master.close() }
        let sent = Sending(to: socketPath(), descriptors: [master], message: "/dev/pts/99")
        let terminal = try await receive(socket)
        try await sent.finish()
        // What came is a terminal of this process's own.
        #expect(terminal.withDescriptor { isatty($0.rawValue) } == 1)
        // The file was for the handover only.
        #expect(leftovers().isEmpty)
        socket.close()
        #expect(terminal.isClosed)
        socket.close()
    }

    @Test func aRuntimeThatNeverConnectsIsAnErrorAtTheDeadline() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = try TerminalSocket(path: socketPath())
        let error = await #expect(throws: ContainerError.self) {
            _ = try await receive(socket, within: .milliseconds(200))
        }
        #expect(
            error?.description.hasPrefix("runc did not connect to the terminal socket") == true,
            "\(String(describing: error))")
        socket.close()
        #expect(leftovers().isEmpty)
    }

    @Test func closeWakesAReceiverThatWaits() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = try TerminalSocket(path: socketPath())
        async let closed: Void = {
            try? await Task.sleep(for: .milliseconds(200))
            socket.close()
        }()
        // Woken by the close, not by its deadline: the error says which.
        let error = await #expect(throws: ContainerError.self) { _ = try await receive(socket, within: .seconds(600)) }
        await closed
        #expect(
            error?.description.hasPrefix("the terminal socket was closed while mvm waited") == true,
            "\(String(describing: error))")
        #expect(leftovers().isEmpty)
    }

    @Test func aDescriptorThatIsNotATerminalIsRefused() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = try TerminalSocket(path: socketPath())
        let pipe = try FileDescriptor.pipe()
        defer {
            try? pipe.readEnd.close()
            try? pipe.writeEnd.close()
        }
        let sent = Sending(to: socketPath(), descriptors: [pipe.readEnd], message: "pipe")
        let error = await #expect(throws: ContainerError.self) { _ = try await receive(socket) }
        try await sent.finish()
        #expect(error?.description.contains("not a terminal") == true, "\(String(describing: error))")
        socket.close()
        #expect(leftovers().isEmpty)
    }

    @Test func twoDescriptorsAreRefused() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = try TerminalSocket(path: socketPath())
        let first = try openPTYMaster()
        let second = try openPTYMaster()
        defer {
            try? first.close()
            try? second.close()
        }
        let sent = Sending(to: socketPath(), descriptors: [first, second], message: "two")
        let error = await #expect(throws: ContainerError.self) { _ = try await receive(socket) }
        try await sent.finish()
        #expect(
            error?.description.contains("2 descriptors came instead of one") == true, "\(String(describing: error))")
        socket.close()
    }

    @Test func aPathLongerThanASocketAddressIsRefusedAndMakesNothing() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/" + String(repeating: "x", count: 120) + ".tty"
        let error = #expect(throws: ContainerError.self) { try TerminalSocket(path: path) }
        #expect(
            error?.description
                == "terminal socket path \(path) is longer than 107 bytes; use a state directory with a shorter path")
        #expect(leftovers().isEmpty)
    }

    @Test func controlSpaceIsGlibcsCMSGSpace() {
        // CMSG_SPACE(sizeof(int)) and CMSG_SPACE(4 * sizeof(int)) on x86-64 and arm64.
        #expect(controlSpace(forDescriptors: 1) == 24)
        #expect(controlSpace(forDescriptors: 4) == 32)
    }
}

/// A pty master, as runc's init makes one (/dev/ptmx).
private func openPTYMaster() throws -> FileDescriptor {
    try FileDescriptor.open(
        "/dev/ptmx", .readWrite, options: [FileDescriptor.OpenOptions(rawValue: O_NOCTTY), .closeOnExec])
}

/// Connects to `path` and sends `descriptors` with SCM_RIGHTS and `message`
/// as the data, as runc's `SendFd` does, from a thread of its own.
/// A stand-in runtime's send, on a thread started at once: an `async let`
/// child task waits for a thread of the cooperative pool, which other tests
/// of the same process may hold for seconds, and the receiver's deadline
/// ran out first in one CI run.
private final class Sending: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var failure: Errno?

    init(to path: String, descriptors: [FileDescriptor], message: String) {
        let raw = descriptors.map(\.rawValue)
        Thread { [self] in
            do throws(Errno) { try sendDescriptors(to: path, raw, message: message) } catch { failure = error }
            done.signal()
        }.start()
    }

    /// Waits for the send to end, on a thread of its own; rethrows its error.
    func finish() async throws(Errno) {
        try await onDedicatedThreadTyped { () throws(Errno) in
            self.done.wait()
            if let failure = self.failure { throw failure }
        }
    }
}

private func sendDescriptors(to path: String, _ descriptors: [Int32], message: String) throws(Errno) {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw Errno(rawValue: errno) }
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { bytes in
        bytes.copyBytes(from: path.utf8)
        bytes[path.utf8.count] = 0
    }
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
        }
    }
    guard connected == 0 else { throw Errno(rawValue: errno) }
    let headerSize = MemoryLayout<cmsghdr>.size
    let space = controlSpace(forDescriptors: descriptors.count)
    let control = UnsafeMutableRawBufferPointer.allocate(byteCount: space, alignment: MemoryLayout<cmsghdr>.alignment)
    defer { control.deallocate() }
    control.initializeMemory(as: UInt8.self, repeating: 0)
    var header = cmsghdr()
    header.cmsg_len = headerSize + descriptors.count * MemoryLayout<Int32>.size
    header.cmsg_level = SOL_SOCKET
    header.cmsg_type = Int32(SCM_RIGHTS)
    control.storeBytes(of: header, toByteOffset: 0, as: cmsghdr.self)
    for (index, descriptor) in descriptors.enumerated() {
        control.storeBytes(of: descriptor, toByteOffset: headerSize + index * MemoryLayout<Int32>.size, as: Int32.self)
    }
    var data = Array(message.utf8)
    let sent = data.withUnsafeMutableBytes { bytes -> Int in
        var vector = iovec(iov_base: bytes.baseAddress, iov_len: bytes.count)
        return withUnsafeMutablePointer(to: &vector) { vectorPointer -> Int in
            var message = msghdr()
            message.msg_iov = vectorPointer
            message.msg_iovlen = 1
            message.msg_control = control.baseAddress
            message.msg_controllen = space
            return sendmsg(fd, &message, 0)
        }
    }
    guard sent >= 0 else { throw Errno(rawValue: errno) }
}
