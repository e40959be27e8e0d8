import Compare
import Foundation
import SystemPackage
import Testing

@testable import MVMCore

/// What a hostile guest can print at mvm: its console is parsed (the
/// readiness line, `mvm-fact` and `mvm-mark` lines), so it must neither
/// crash mvm nor take its memory.
@Suite struct HostileConsoleTests {
    static let readyLine = "mvm-ready uptime=0.50 release=6.1 cpus=1 mem_total_kb=100 mem_available_kb=60\n"

    @Test func anEndlessLineIsCutAndTheReadinessLineAfterItIsStillFound() {
        var scanner = ConsoleScanner()
        let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
        for _ in 0..<64 { #expect(scanner.feed(chunk).isEmpty) }
        // 64 MiB in one line: what is kept of it is bounded.
        #expect(scanner.lastLines.last?.utf8.count == ConsoleScanner.maximumLineLength)
        let events = scanner.feed(Array(("\n" + Self.readyLine).utf8))
        #expect(events.count == 1)
        #expect(scanner.lastLines.allSatisfy { $0.utf8.count <= ConsoleScanner.maximumLineLength })
    }

    static let values = [
        "-1", "0", "1", "0.5", "1e309", "-0", "nan", "inf", "99999999999999999999999", "18446744073709551615",
        "18014398509481984", "", "6.1", "x", "=",
    ]

    @Test func floodsOfFactsAndMarksAreBounded() throws {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        let (reader, guest) = (FileDescriptor(rawValue: fds[0]), FileDescriptor(rawValue: fds[1]))
        defer {
            try? reader.close()
            try? guest.close()
        }
        var text = ""
        for index in 0..<2000 { text += "mvm-fact k\(index)=v\nmvm-mark m\(index)\n" }
        let flood = Array((text + Self.readyLine).utf8)
        let writer = Thread { _ = try? guest.writeAll(flood) }
        writer.start()
        var scanner = ConsoleScanner()
        let observation = try waitForReadiness(on: reader, until: .now + .seconds(30), scanner: &scanner).get()
        #expect(observation.reported.count == 1024)
        #expect(observation.marks.count == 1024)
    }

    /// Random mixes of mvm's own line prefixes, separators, numbers out of
    /// range and bytes that are not UTF-8, in random chunks: no crash, no
    /// readiness from a line that does not parse, the tail bounded. A seeded
    /// generator, so that a failure can be replayed.
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func randomConsolesNeverCrashTheScanner(seed: UInt64) {
        var random = Xoshiro256StarStar(seed: seed)
        let pieces: [[UInt8]] =
            [
                "mvm-ready ", "mvm-fact ", "mvm-mark ", "uptime=", "release=", "cpus=", "mem_total_kb=",
                "mem_available_kb=", "=", " ", "\n", "\r", "\r\n", "-1", "0", "1e309", "nan", "inf",
                "99999999999999999999999", "18446744073709551615", "0.5", "Kernel panic - not syncing: ", "\u{0}", "é",
                "mvm-ready",
            ].map { Array($0.utf8) } + [[0xFF], [0xC3], [0xE2, 0x82], [0x80]]
        for _ in 0..<200 {
            var scanner = ConsoleScanner(tailLimit: 5)
            var bytes: [UInt8] = []
            for _ in 0..<Int(random.next() % 200) {
                bytes += pieces[Int(random.next() % UInt64(pieces.count))]
            }
            // And readiness lines whose every value is hostile.
            for _ in 0..<3 {
                let fields = ["uptime", "release", "cpus", "mem_total_kb", "mem_available_kb"].map { key in
                    key + "=" + Self.values[Int(random.next() % UInt64(Self.values.count))]
                }
                bytes += Array(("mvm-ready " + fields.joined(separator: " ") + "\n").utf8)
            }
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + 1 + Int(random.next() % 17))
                for event in scanner.feed(bytes[offset..<end]) {
                    if case .ready(let facts?) = event {
                        #expect(facts.cpus > 0 && facts.uptimeSeconds.isFinite, "\(facts)")
                        #expect(facts.usedBytes <= facts.memTotalKiB * 1024, "\(facts)")
                    }
                }
                offset = end
            }
            #expect(scanner.lastLines.count <= 5)
        }
    }
}
