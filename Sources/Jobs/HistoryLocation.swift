import Foundation
import History
import MVMCore
import PostgresHistory
import SQLiteHistory

/// Where a history lives: an SQLite file on this host, or a PostgreSQL
/// database a fleet shares (`postgresql://user@host/db`).
public enum HistoryLocation: Sendable, Equatable, CustomStringConvertible {
    case file(String)
    case server(String)

    /// A URL with a postgres scheme is a server; anything else a file path
    /// (made absolute).
    public init(_ text: String) {
        if text.hasPrefix("postgresql://") || text.hasPrefix("postgres://") {
            self = .server(text)
        } else {
            self = .file(absolutePath(text))
        }
    }

    /// `--history`, else `MVM_HISTORY`, else `<state>/history.sqlite`.
    public static func resolve(
        _ option: String?, state: StateDirectory, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> HistoryLocation {
        if let option { return HistoryLocation(option) }
        if let shared = environment["MVM_HISTORY"], !shared.isEmpty { return HistoryLocation(shared) }
        return .file(NightlyRequest.defaultHistoryPath(in: state))
    }

    /// The path, or the URL without its password.
    public var description: String {
        switch self {
        case .file(let path): path
        case .server(let url): PostgresURL.redact(url)
        }
    }

    /// Opens the store, creating an SQLite file (or the server's tables)
    /// when there is none yet.
    public func open() async throws -> any HistoryStore {
        switch self {
        case .file(let path): try SQLiteHistoryStore.open(path: path)
        case .server(let url): try await PostgresHistoryStore.connect(url: url)
        }
    }

    /// Opens an existing history only: reading commands must not create one.
    public func openExisting() async throws -> any HistoryStore {
        if case .file(let path) = self, !FileManager.default.fileExists(atPath: path) {
            throw NightlyError(
                "no history at \(path): record runs with `mvm nightly` or `mvm compare --record`, or name another history"
            )
        }
        return try await open()
    }
}
