import Foundation
import SystemPackage
import Testing

@testable import MVMCore

/// The relay's loop on a thread of the test, a socket pair playing the
/// guest: what the guest prints reaches the attached client, what the
/// client types reaches the guest, a second client is refused, and the
/// guest's end ends the relay and removes its socket.
@Suite struct ConsoleRelayTests {
    @Test func oneClientAtATimeBothWaysUntilTheConsoleEnds() async throws {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        let guest = FileDescriptor(rawValue: fds[1])
        let socket = FileManager.default.temporaryDirectory.appendingPathComponent("relay-\(getpid()).attach").path
        let listener = try UnixSocket.listen(at: socket)
        let console = FileDescriptor(rawValue: fds[0])
        let relay = Thread { ConsoleRelay.serve(console: console, listener: listener, socketPath: socket) }
        relay.start()

        // Before anyone attaches: read and dropped, never blocking the guest.
        _ = try guest.writeAll(Array("nobody reads this\n".utf8))
        let first = try ConsoleRelay.attach(socketPath: socket)
        defer { first.close() }
        var refusal: ConsoleRelayError?
        do {
            _ = try ConsoleRelay.attach(socketPath: socket)
        } catch {
            refusal = error
        }
        guard case .busy(let holder) = refusal else {
            Issue.record("a second client was not refused: \(String(describing: refusal))")
            return
        }
        #expect(holder == getpid())
        let client = try #require(first.withDescriptor { $0 })
        _ = try guest.writeAll(Array("/ # ".utf8))
        #expect(try read(client, until: "/ # ") == "/ # ")
        _ = try client.writeAll(Array("uname -r\r".utf8))
        #expect(try read(guest, until: "\r") == "uname -r\r")
        // The client detaches: the next one gets the console.
        first.close()
        try await Task.sleep(for: .milliseconds(100))
        let second = try ConsoleRelay.attach(socketPath: socket)
        defer { second.close() }
        // The guest ends: the client reads end of file, the socket goes.
        try guest.close()
        let secondClient = try #require(second.withDescriptor { $0 })
        #expect(try read(secondClient, until: "never") == "")
        for _ in 0..<50 where FileManager.default.fileExists(atPath: socket) {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(!FileManager.default.fileExists(atPath: socket))
        #expect(throws: ConsoleRelayError.self) { try ConsoleRelay.attach(socketPath: socket) }
    }

    /// What `descriptor` delivers until `text` has come or the end.
    private func read(_ descriptor: FileDescriptor, until text: String) throws -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while !String(decoding: bytes, as: UTF8.self).hasSuffix(text) {
            let got = try buffer.withUnsafeMutableBytes { try descriptor.read(into: $0) }
            if got == 0 { break }
            bytes += buffer[0..<got]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
