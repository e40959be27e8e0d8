import Compare
import History
import Testing

@testable import PostgresHistory

/// The history URL comes from a command line, a cron line or an
/// environment: whatever it holds, parsing gives a URL or a one-line error,
/// never a crash, and no message shows the password.
@Suite struct PostgresURLFuzzTests {
    static let pieces = [
        "postgresql://", "postgres://", "user", ":", "@", "host", "[::1]", "127.0.0.1", ":5432",
        ":0", ":65536", ":-1", ":99999999999999999999", "/", "db", "?", "sslmode=", "require", "&", "x=y", "%",
        "%2F", "%zz", "é", " ", "\n", "#",
    ]

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func randomTextsParseOrFailInOneLine(seed: UInt64) {
        var random = Xoshiro256StarStar(seed: seed)
        for _ in 0..<500 {
            var text = ""
            for _ in 0..<Int(random.next() % 12) { text += Self.pieces[Int(random.next() % UInt64(Self.pieces.count))] }
            do {
                let url = try PostgresURL(text)
                #expect((1...65535).contains(url.port), "\(text)")
                #expect(!url.host.isEmpty && !url.user.isEmpty && !url.database.isEmpty, "\(text)")
            } catch {
                #expect(!error.description.contains("\n"), "\(text.debugDescription): \(error.description)")
            }
        }
    }

    /// A password in its place, the rest at random, the scheme sometimes
    /// forgotten: neither the error nor the redacted form shows it.
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func thePasswordNeverShows(seed: UInt64) {
        var random = Xoshiro256StarStar(seed: seed)
        let password = "s3cr:et/p@ss"
        for _ in 0..<500 {
            var tail = ""
            for _ in 0..<Int(random.next() % 8) { tail += Self.pieces[Int(random.next() % UInt64(Self.pieces.count))] }
            let scheme = ["postgresql://", "postgres://", "", "http://"][Int(random.next() % 4)]
            let text = scheme + "user:" + password + "@" + tail
            #expect(!PostgresURL.redact(text).contains(password), "\(text)")
            do {
                let url = try PostgresURL(text)
                #expect(!url.redacted.contains(password), "\(text)")
            } catch {
                #expect(!error.description.contains(password), "\(error.description)")
            }
        }
    }

    @Test func aPortOutOfRangeIsRefused() {
        for port in ["0", "65536", "99999"] {
            #expect(throws: PostgresHistoryError.self) { try PostgresURL("postgresql://u@h:\(port)/db") }
        }
    }
}
