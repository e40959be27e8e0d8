import Foundation
import History
import PostgresNIO

/// A PostgreSQL history that could not be reached, logged into, migrated,
/// read or written. Its description is one line, says which database by its
/// redacted URL, and never holds the password: postgres-nio's own errors
/// describe themselves generically, so the server's message is taken from
/// them here.
public typealias PostgresHistoryError = HistoryStoreError<PostgresHistoryErrorKind>

/// Which way a PostgreSQL history failed.
public enum PostgresHistoryErrorKind: Sendable, Equatable {
    /// Not a postgresql:// URL mvm can use, or a bad schema name.
    case badURL
    /// No connection: refused, timed out, no such host.
    case unreachable
    /// The server refused the user: wrong password, no such role, or
    /// pg_hba.conf said no.
    case authentication
    /// The database was migrated by a newer mvm.
    case newerSchema(found: Int, known: Int)
    /// A statement failed (a duplicate run, a lost connection).
    case query
}

extension PostgresHistoryError {
    /// What went wrong while connecting to `url`, as one line.
    static func connecting(to url: PostgresURL, _ error: any Error) -> PostgresHistoryError {
        if let psql = error as? PSQLError {
            if psql.code == .server, let state = psql.serverInfo?[.sqlState] {
                // 28P01 invalid_password, 28000 invalid_authorization_specification.
                if state == "28P01" {
                    return PostgresHistoryError(
                        .authentication, "the history database at \(url) refused user \(url.user): wrong password")
                }
                if state == "28000" || state.hasPrefix("28") {
                    return PostgresHistoryError(
                        .authentication,
                        "the history database at \(url) refused user \(url.user): \(serverMessage(psql))")
                }
            }
            if psql.code == .authMechanismRequiresPassword {
                return PostgresHistoryError(
                    .authentication,
                    "the history database at \(url) refused user \(url.user): it wants a password (none in the URL, PGPASSWORD or the pgpass file)"
                )
            }
            if psql.code == .connectionError || psql.code == .serverClosedConnection || psql.code == .sslUnsupported {
                return PostgresHistoryError(
                    .unreachable, "cannot reach the history database at \(url): \(reason(psql))")
            }
            return PostgresHistoryError(.query, "cannot open the history database at \(url): \(reason(psql))")
        }
        return PostgresHistoryError(.unreachable, "cannot reach the history database at \(url): \(reason(error))")
    }

    /// What went wrong while doing `action` on `url`, as one line.
    static func failed(_ action: String, at url: PostgresURL, _ error: any Error) -> PostgresHistoryError {
        if let known = error as? PostgresHistoryError { return known }
        if let transaction = error as? PostgresTransactionError,
            let known = transaction.closureError as? PostgresHistoryError
        {
            return known
        }
        return PostgresHistoryError(.query, "\(action) in the history database at \(url): \(reason(error))")
    }

    /// The most telling words for `error`, on one line.
    static func reason(_ error: any Error) -> String {
        let text: String
        switch error {
        case let transaction as PostgresTransactionError:
            let inner =
                transaction.closureError ?? transaction.commitError ?? transaction.beginError
                ?? transaction.rollbackError
            return inner.map(reason) ?? "the transaction failed"
        case let psql as PSQLError:
            switch psql.code {
            case .server: text = serverMessage(psql)
            case .connectionError: text = psql.underlying.map(reason) ?? "connection failed"
            case .sslUnsupported: text = "the server does not offer TLS (sslmode requires it)"
            case .serverClosedConnection: text = "the server closed the connection"
            case .clientClosedConnection, .poolClosed: text = "the store is closed"
            default: text = psql.underlying.map(reason) ?? psql.code.description
            }
        case let connection as NIOConnectionError:
            let first = connection.connectionErrors.first?.error
            text =
                first.map(reason) ?? connection.dnsAAAAError.map(reason) ?? connection.dnsAError.map(reason)
                ?? "connection failed"
        case let address as SocketAddressError:
            if case .unknown(let host, _) = address { text = "no such host \(host)" } else { text = "\(address)" }
        case let io as IOError:
            text =
                io.errnoCode == ECONNREFUSED
                ? "connection refused" : String(cString: strerror(io.errnoCode)).lowercased()
        case is ChannelError:
            text = "\(error)".contains("connectTimeout") ? "connection timed out" : "\(error)"
        default:
            text = "\(error)"
        }
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    private static func serverMessage(_ error: PSQLError) -> String {
        let message = error.serverInfo?[.message] ?? "server error"
        guard let detail = error.serverInfo?[.detail] else { return message }
        return "\(message) (\(detail))"
    }
}
