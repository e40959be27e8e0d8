import Foundation
import MVMTesting
import SQLiteHistory
import Testing

@testable import History

/// What only the history file does: its permissions, and errors that say
/// what is wrong and what to do.
@Suite struct SQLiteStoreTests {
    typealias F = VerdictFixtures

    @Test func theFileIsSoundAndItsOwnersOnly() async throws {
        let history = FreshHistory(.sqlite)
        let store = try SQLiteHistoryStore(path: history.path)
        try await store.record(F.recorded(1, vmReady: 1.2, label: "first"))
        #expect(try await store.integrityCheck() == "ok")
        // The file is its owner's only.
        let attributes = try FileManager.default.attributesOfItem(atPath: history.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        await history.finish()
    }

    @Test func anUnopenableStoreSaysWhereAndWhatToDo() {
        #expect {
            try SQLiteHistoryStore(path: "/proc/mvm-no/history.sqlite")
        } throws: { error in
            guard let error = error as? SQLiteHistoryError else { return false }
            return error.kind == .cannotOpen
                && error.description.hasPrefix("cannot open the history file /proc/mvm-no/history.sqlite (")
                && error.description.hasSuffix("or use another history file")
                && !error.description.contains("\n")
        }
    }

    @Test func aFileThatIsNotAHistoryIsRefusedAsDamaged() throws {
        let history = FreshHistory(.sqlite)
        let directory = URL(fileURLWithPath: history.path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data(String(repeating: "not a database\n", count: 400).utf8).write(to: URL(fileURLWithPath: history.path))
        #expect {
            try SQLiteHistoryStore(path: history.path)
        } throws: { error in
            guard let error = error as? SQLiteHistoryError else { return false }
            return error.kind == .damaged && error.description.hasPrefix("\(history.path) is not a sound history file")
                && error.description.contains("move it aside")
        }
    }

    /// A file a newer mvm migrated is refused, as the server store refuses
    /// a newer schema: this mvm cannot know what the new migration changed.
    @Test func aFileFromANewerMVMIsRefused() async throws {
        try await FreshHistory.with(.sqlite) { history, store in
            let sqlite = try #require(store as? SQLiteHistoryStore)
            try await sqlite.execute(["INSERT INTO grdb_migrations (identifier) VALUES ('v99')"])
            #expect {
                try SQLiteHistoryStore(path: history.path)
            } throws: { error in
                guard let error = error as? SQLiteHistoryError else { return false }
                return error.kind == .newerSchema(unknownMigrations: ["v99"])
                    && error.description
                        == "the history file \(history.path) was migrated by a newer mvm (v99); upgrade mvm"
            }
        }
    }

    /// A failed statement names the action and the file, on one line.
    @Test func aDuplicateRunSaysWhichRunAndWhere() async throws {
        try await FreshHistory.with(.sqlite) { history, store in
            try await store.record(F.recorded(1, vmReady: 1.2))
            do {
                try await store.record(F.recorded(1, vmReady: 1.2))
                Issue.record("a run was recorded twice")
            } catch let error as SQLiteHistoryError {
                #expect(error.kind == .query)
                #expect(
                    error.description.hasPrefix(
                        "cannot record run \(F.header(1).id) in \(history.path): UNIQUE constraint failed"), "\(error)")
            }
        }
    }
}
