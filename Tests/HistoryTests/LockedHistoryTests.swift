import Foundation
import History
import MVMTesting
import Testing

@testable import SQLiteHistory

/// A history file whose write lock another process holds (sqlite3 in an
/// open exclusive transaction) for longer than the busy timeout: recording
/// fails in one line that says so and what to do, and records once the
/// lock is gone.
@Suite struct LockedHistoryTests {
    @Test func aWriteLockHeldPastTheBusyTimeoutIsOneClearLine() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("locked-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("history.sqlite").path
        let store = try SQLiteHistoryStore(path: path, busyTimeout: .seconds(1))
        // sqlite3 holds the lock until its input ends.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        holder.arguments = [path]
        let input = Pipe()
        holder.standardInput = input
        holder.standardOutput = FileHandle.nullDevice
        try holder.run()
        defer { if holder.isRunning { holder.terminate() } }
        input.fileHandleForWriting.write(Data("BEGIN EXCLUSIVE;\nSELECT 1;\n".utf8))
        try await Task.sleep(for: .milliseconds(500))
        // The message names the busy timeout it gave up after: no clock here.
        do {
            try await store.record(VerdictFixtures.recorded(1, vmReady: 1.2, label: "locked"))
            Issue.record("recorded while another process held the write lock")
        } catch {
            let text = "\(error)"
            #expect(text.contains("held the file's write lock for over 1 s"), "\(text)")
            #expect(!text.contains("\n"), "\(text)")
        }
        try input.fileHandleForWriting.close()
        holder.waitUntilExit()
        try await store.record(VerdictFixtures.recorded(2, vmReady: 1.2, label: "after"))
        #expect(try await store.run(id: VerdictFixtures.recorded(2, vmReady: 1.2, label: "after").header.id) != nil)
    }
}
