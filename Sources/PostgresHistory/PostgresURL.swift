import Foundation
import History

/// Where a PostgreSQL history lives, parsed from
/// `postgresql://user[:password]@host[:port]/database[?sslmode=…]` (or
/// `postgres://`), the form libpq and most tools take.
///
/// The password is kept apart from everything that is shown: `redacted` is
/// what error messages, descriptions and logs say, so a URL with a password
/// in it can be passed on a command line or in a config file without the
/// password ever being printed back.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    /// How the connection is encrypted. Only the modes whose meaning is clear
    /// without libpq's fallbacks: no TLS, TLS without checking the server's
    /// certificate, or TLS with the certificate and host name checked.
    public enum SSLMode: String, Sendable, Equatable {
        case disable
        case require
        case verifyFull = "verify-full"
    }

    public var user: String
    /// From the URL only; `resolvingPassword` adds PGPASSWORD or the pgpass file.
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    public var sslMode: SSLMode
    /// The URL without its password: what is shown.
    public var redacted: String

    public var description: String { redacted }

    public init(_ text: String) throws(PostgresHistoryError) {
        let redacted = Self.redact(text)
        // One line whatever the text holds: control characters escaped.
        let shown = redacted.unicodeScalars.map {
            $0.properties.generalCategory == .control ? $0.escaped(asASCII: true) : String($0)
        }.joined()
        func bad(_ why: String) -> PostgresHistoryError {
            PostgresHistoryError(
                .badURL,
                "not a PostgreSQL URL \(shown): \(why) (expected postgresql://user[:password]@host[:port]/database)")
        }
        guard text.hasPrefix("postgresql://") || text.hasPrefix("postgres://") else {
            throw bad("it must start with postgresql:// or postgres://")
        }
        guard let components = URLComponents(string: text) else { throw bad("it does not parse") }
        guard let user = components.user, !user.isEmpty else { throw bad("no user") }
        guard let host = components.host, !host.isEmpty else { throw bad("no host") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else { throw bad("no database") }
        let port = components.port ?? 5432
        // A port out of range would reach the network layer's UInt16.
        guard (1...65535).contains(port) else { throw bad("port \(port) is not between 1 and 65535") }
        var mode = SSLMode.disable
        for item in components.queryItems ?? [] {
            guard item.name == "sslmode" else { throw bad("unknown parameter \(item.name)") }
            guard let value = item.value, let parsed = SSLMode(rawValue: value) else {
                throw bad("sslmode must be disable, require or verify-full")
            }
            mode = parsed
        }
        self.user = user
        self.password = components.password.flatMap { $0.isEmpty ? nil : $0 }
        self.host = host
        self.port = port
        self.database = database.removingPercentEncoding ?? database
        self.sslMode = mode
        self.redacted = redacted
    }

    /// `text` with the password of its user-info part removed, whether or
    /// not it parses: the user info runs from "://" to the last "@" (a
    /// password may hold an unescaped "/" or "@", a database name rarely
    /// does), and everything from its first ":" on is the password.
    /// Without a scheme (`user:secret@host/db`, the scheme forgotten) the
    /// user info runs from the start.
    public static func redact(_ text: String) -> String {
        let start = schemeEnd(of: text) ?? text.startIndex
        guard let at = text.range(of: "@", options: .backwards, range: start..<text.endIndex) else { return text }
        let userInfo = text[start..<at.lowerBound]
        guard let colon = userInfo.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + String(text[at.lowerBound...])
    }

    /// Where a leading `scheme://` ends; nil when the text has none (a
    /// "://" further on belongs to something else).
    private static func schemeEnd(of text: String) -> String.Index? {
        guard let separator = text.range(of: "://") else { return nil }
        let scheme = text[..<separator.lowerBound]
        guard let first = scheme.first, first.isLetter,
            scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
        else { return nil }
        return separator.upperBound
    }

    /// This URL with its password: the URL's own, else `PGPASSWORD`, else
    /// the first matching line of the pgpass file (`PGPASSFILE`, or
    /// ~/.pgpass), as libpq looks for it.
    public func resolvingPassword(environment: [String: String]) -> PostgresURL {
        guard password == nil else { return self }
        var resolved = self
        if let fromEnvironment = environment["PGPASSWORD"], !fromEnvironment.isEmpty {
            resolved.password = fromEnvironment
        } else if let file = environment["PGPASSFILE"] ?? environment["HOME"].map({ $0 + "/.pgpass" }),
            let contents = try? String(contentsOfFile: file, encoding: .utf8)
        {
            resolved.password = Self.passwordFromPassFile(
                contents, host: host, port: port, database: database, user: user)
        }
        return resolved
    }

    /// The password of the first line of a pgpass file that matches:
    /// `host:port:database:user:password`, where `*` in the first four
    /// fields matches anything and `\:` and `\\` stand for ":" and "\".
    public static func passwordFromPassFile(_ contents: String, host: String, port: Int, database: String, user: String)
        -> String?
    {
        for line in contents.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("#") { continue }
            let fields = splitPassLine(line)
            guard fields.count == 5 else { continue }
            let wanted = [host, String(port), database, user]
            if zip(fields.prefix(4), wanted).allSatisfy({ $0 == "*" || $0 == $1 }) { return fields[4] }
        }
        return nil
    }

    private static func splitPassLine(_ line: Substring) -> [String] {
        var fields: [String] = []
        var current = ""
        var escaped = false
        for character in line {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == ":" && fields.count < 4 {
                fields.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        fields.append(current)
        return fields
    }
}
