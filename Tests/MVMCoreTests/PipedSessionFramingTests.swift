import Compare
import Testing

@testable import MVMCore

/// The piped session's framing, fed what a guest prints in random chunks:
/// what it shows is exactly the shell's output between the markers, and it
/// never holds more than a marker, whatever comes.
@Suite struct PipedSessionFramingTests {
    static let start = ConsoleAttachment.sessionStartMarker
    static let end = ConsoleAttachment.sessionEndMarker

    /// Bytes made of pieces that look like the markers without being them.
    static func noise(_ random: inout Xoshiro256StarStar, pieces count: Int) -> [UInt8] {
        let pieces: [[UInt8]] =
            ["mvm-session-", "mvm-session-star", "mvm-session-en", "start", "end", "\n", "\r\n", "$ ", "m", "é"].map {
                Array($0.utf8)
            } + [[0], [0xFF], [0x1D], [0x04]]
        var bytes: [UInt8] = []
        for _ in 0..<count { bytes += pieces[Int(random.next() % UInt64(pieces.count))] }
        return bytes
    }

    /// Feeds `bytes` in random chunks of 1 to 40 bytes; what was shown,
    /// whether the end came, and the most it ever held back.
    static func feed(
        _ bytes: [UInt8], _ random: inout Xoshiro256StarStar, finish: Bool
    ) -> (shown: [UInt8], ended: Bool, mostHeld: Int) {
        var framing = PipedSessionFraming()
        var shown: [UInt8] = []
        var mostHeld = 0
        var offset = 0
        while offset < bytes.count {
            let next = min(bytes.count, offset + 1 + Int(random.next() % 40))
            let (piece, ended) = framing.feed(Array(bytes[offset..<next]))
            shown += piece
            mostHeld = max(mostHeld, framing.heldBack)
            if ended { return (shown, true, mostHeld) }
            offset = next
        }
        if finish { shown += framing.finish() }
        return (shown, false, mostHeld)
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func showsExactlyWhatComesBetweenTheMarkers(seed: UInt64) {
        var random = Xoshiro256StarStar(seed: seed)
        for _ in 0..<300 {
            let before = Self.noise(&random, pieces: Int(random.next() % 30))
            let session = Self.noise(&random, pieces: Int(random.next() % 60))
            let after = Self.noise(&random, pieces: Int(random.next() % 10))
            // The noise may spell a marker itself: then the first one counts.
            let framed = before + Self.start + session + Self.end + after
            let expected: [UInt8]? = {
                guard let start = framed.firstRange(of: Self.start) else { return nil }
                let rest = framed[start.upperBound...]
                guard let end = rest.firstRange(of: Self.end) else { return nil }
                return Array(rest[..<end.lowerBound])
            }()
            let (shown, ended, mostHeld) = Self.feed(framed, &random, finish: false)
            #expect(ended)
            #expect(shown == expected, "seed \(seed)")
            #expect(mostHeld < 40 + max(Self.start.count, Self.end.count))
        }
    }

    /// A guest that floods its console and never starts a session: nothing
    /// is shown and at most a marker's length is held, however much came.
    @Test func aFloodWithoutAStartMarkerIsDroppedNotHeld() {
        var framing = PipedSessionFraming()
        let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 16 * 1024)
        for _ in 0..<256 {  // 4 MiB
            let (shown, ended) = framing.feed(chunk)
            #expect(shown.isEmpty && !ended)
        }
        #expect(framing.heldBack < Self.start.count)
        #expect(framing.finish().isEmpty)
    }

    /// The console closing mid-session shows what was held back too.
    @Test func aConsoleClosedMidSessionShowsEverythingAfterTheStart() {
        var random = Xoshiro256StarStar(seed: 42)
        let session = Array("uname -r\n6.1.0\n$ ".utf8)
        let (shown, ended, _) = Self.feed(Array("boot noise\n".utf8) + Self.start + session, &random, finish: true)
        #expect(!ended)
        #expect(shown == session)
    }
}
