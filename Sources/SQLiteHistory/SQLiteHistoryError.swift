import Foundation
import GRDB
import History
import MVMCore

/// A history file that could not be opened, read or written. Its
/// description is one line: what failed, in which file, and what to do
/// about it.
public typealias SQLiteHistoryError = HistoryStoreError<SQLiteHistoryErrorKind>

/// Which way a history file failed.
public enum SQLiteHistoryErrorKind: Sendable, Equatable {
    /// The file or its directory could not be made or opened.
    case cannotOpen
    /// This user may not write the file.
    case readOnly
    /// The file is not an SQLite database, or a damaged one.
    case damaged
    /// A newer mvm migrated the file; these are the migrations this mvm
    /// does not know.
    case newerSchema(unknownMigrations: [String])
    /// Another process held the file's write lock past the busy timeout.
    case busy
    /// No room left on the file's disk.
    case full
    /// A statement failed: a duplicate run, an I/O error.
    case query
}

extension SQLiteHistoryError {
    /// What went wrong while doing `action` on the file at `path`, with
    /// what to do about it.
    static func failed(
        _ action: String, at path: String, _ error: any Error,
        busyTimeout: Duration = SQLiteHistoryStore.defaultBusyTimeout
    ) -> SQLiteHistoryError {
        if let known = error as? SQLiteHistoryError { return known }
        guard let database = error as? DatabaseError else {
            return SQLiteHistoryError(.query, "\(action) in \(path): \(oneLine(error))")
        }
        let reason = database.message ?? database.resultCode.description
        switch database.resultCode {
        case .SQLITE_CANTOPEN:
            return cannotOpen(path, reason)
        case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_AUTH:
            return SQLiteHistoryError(
                .readOnly,
                "\(action) in \(path): this user may not write the file; run mvm as its owner, or use another history file"
            )
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            return SQLiteHistoryError(
                .damaged,
                "\(path) is not a sound history file (\(reason)); move it aside to start a new history, or use another history file"
            )
        case .SQLITE_BUSY:
            return SQLiteHistoryError(
                .busy,
                "\(action) in \(path): another process held the file's write lock for over \(formatSeconds(busyTimeout)); "
                    + "let the other mvm finish (pgrep -a mvm) and run again")
        case .SQLITE_FULL:
            return SQLiteHistoryError(.full, "\(action) in \(path): the disk is full; free space on it and run again")
        default:
            return SQLiteHistoryError(.query, "\(action) in \(path): \(oneLine(reason))")
        }
    }

    /// The file, or the directory it goes in, could not be made or opened.
    static func cannotOpen(_ path: String, _ reason: String) -> SQLiteHistoryError {
        SQLiteHistoryError(
            .cannotOpen,
            "cannot open the history file \(path) (\(oneLine(reason))); check that this user may create and write it there, "
                + "or use another history file")
    }

    static func newerSchema(_ path: String, unknownMigrations: [String]) -> SQLiteHistoryError {
        SQLiteHistoryError(
            .newerSchema(unknownMigrations: unknownMigrations),
            "the history file \(path) was migrated by a newer mvm (\(unknownMigrations.joined(separator: ", "))); upgrade mvm"
        )
    }

    /// What a FileManager error says happened: its POSIX error's words,
    /// since Foundation's own ("The operation could not be completed") do
    /// not say.
    static func fileReason(_ error: any Error) -> String {
        if let posix = (error as? CocoaError)?.underlying.map({ $0 as NSError }), posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code)))
        }
        return oneLine(error)
    }

    private static func oneLine(_ error: any Error) -> String {
        oneLine((error as? any LocalizedError)?.errorDescription ?? "\(error)")
    }

    private static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
