import Foundation
import SystemPackage
import Testing

@testable import MVMCore

/// A console without a guest: one end of a socket pair plays the guest.
@Suite struct ConsoleAttachmentTests {
    func socketPair() throws -> (SharedDescriptor, FileDescriptor) {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        return (SharedDescriptor(FileDescriptor(rawValue: fds[0])), FileDescriptor(rawValue: fds[1]))
    }

    func read(_ descriptor: FileDescriptor, count: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while bytes.count < count {
            let got = try buffer.withUnsafeMutableBytes { try descriptor.read(into: $0) }
            if got == 0 { break }
            bytes += buffer[0..<got]
        }
        return bytes
    }

    static let readyLine = "mvm-ready uptime=0.5 release=6.1.0 cpus=1 mem_total_kb=1000 mem_available_kb=900\n"

    @Test func whatCameWithTheReadinessLineIsKeptForTheNextReader() throws {
        let (console, guest) = try socketPair()
        defer {
            console.close()
            try? guest.close()
        }
        _ = try guest.writeAll(Array(("booting\n" + Self.readyLine + "mvm-session-start\nhel").utf8))
        let result = console.withDescriptor { descriptor in
            var scanner = ConsoleScanner()
            return try? waitForReadiness(on: descriptor, until: .now + .seconds(10), scanner: &scanner).get()
        }
        let observation = try #require(result ?? nil)
        #expect(observation.facts?.kernelRelease == "6.1.0")
        #expect(String(decoding: observation.rest, as: UTF8.self) == "mvm-session-start\nhel")
    }

    @Test func aPipedSessionWaitsForTheShellAndEndsAtItsMarker() async throws {
        let (console, guest) = try socketPair()
        let input = try FileDescriptor.pipe()
        let output = try FileDescriptor.pipe()
        defer {
            console.close()
            for descriptor in [guest, input.readEnd, output.readEnd] { try? descriptor.close() }
        }
        // Typed before the shell is ready: held until its start marker.
        _ = try input.writeEnd.writeAll(Array("echo hi\n".utf8))
        try input.writeEnd.close()
        console.unread(Array("init's own line\n".utf8))
        let attachment = Task {
            await onDedicatedThreadTyped { () throws(Never) in
                ConsoleAttachment.run(console: console, input: input.readEnd, output: output.writeEnd)
            }
        }
        _ = try guest.writeAll(Array("mvm-session-start\n".utf8))
        // The command, then the end of input as Ctrl-D.
        #expect(try read(guest, count: 9) == Array("echo hi\n".utf8) + [0x04])
        _ = try guest.writeAll(Array("hi\nmvm-session-end\nreboot: Restarting system\n".utf8))
        #expect(await attachment.value == .sessionEnded)
        try output.writeEnd.close()
        #expect(String(decoding: try read(output.readEnd, count: 100), as: UTF8.self) == "hi\n")
    }
}
