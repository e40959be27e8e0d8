import Foundation
import History
import MVMCore
import PostgresHistory
import SQLiteHistory
import Subprocess
import SystemPackage
import Testing

extension RealInstances.Fleet {
    /// The test command's own cluster (scripts/test-postgres.sh); a server
    /// named by MVM_TEST_POSTGRES_URL is not the test's to restart.
    static let clusterData = "/var/tmp/mvm-tests/postgres/data"
    static var canRestartTheServer: Bool {
        ProcessInfo.processInfo.environment["MVM_TEST_POSTGRES_URL"] == nil
            && FileManager.default.fileExists(atPath: clusterData + "/postmaster.pid")
    }

    /// PostgreSQL restarted while a nightly job writes its run: the write
    /// fails and leaves nothing in the database, the run is kept in the
    /// host's history file, mvm exits 2 and says so, and `history merge`
    /// adds the run to the database once it is back (once: a second merge
    /// finds it there).
    @Test(.enabled(if: canRestartTheServer)) func aRestartDuringTheRecordingKeepsTheRunLocally() async throws {
        try Fixtures.requireImages()
        let database = try await freshDatabase()
        defer { Task { await dropDatabase(database) } }
        let state = "/var/tmp/mvm-tests-pg-restart-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: state) }
        let job = Process()
        job.executableURL = mvmExecutable
        job.arguments = [
            "nightly", "-n", "3", "--warmup", "0", "--no-reference", "--accel", "tcg", "--history", database,
            "--state-dir", state,
        ]
        // Into a file: a pipe that this test read would need a thread of
        // the test's pool, which the waits below may all hold.
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let printed = state + "/printed"
        _ = FileManager.default.createFile(atPath: printed, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: printed))
        job.standardOutput = output
        job.standardError = output
        try job.run()
        try output.close()

        // Hold the run table against writes (reads go on: the baseline is
        // read first), so that the job's recording waits inside its
        // transaction; then restart the server under it.
        let ready = try await poll { try await psql(database, "SELECT to_regclass('run') IS NOT NULL") == "t" }
        try #require(ready, "the job never created its schema")
        let locker = Process()
        locker.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        locker.arguments = [
            "-q", database, "-c", "BEGIN", "-c", "LOCK TABLE run IN EXCLUSIVE MODE", "-c", "SELECT pg_sleep(600)",
        ]
        locker.standardOutput = FileHandle.nullDevice
        locker.standardError = FileHandle.nullDevice
        try locker.run()
        defer { if locker.isRunning { locker.terminate() } }
        let name = try #require(database.split(separator: "/").last.map(String.init))
        let waiting = try await poll(seconds: 300) {
            try await psql(
                database,
                "SELECT count(*) FROM pg_stat_activity WHERE datname = '\(name)' AND wait_event_type = 'Lock'") == "1"
        }
        try #require(waiting, "the job's recording never waited on the lock")
        try await Self.restartServer()

        // Bounded: the database calls give up after 30 s, so 90 s is a hang.
        let deadline = ContinuousClock.now + .seconds(90)
        while job.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        if job.isRunning {
            job.interrupt()
            Issue.record("mvm nightly still ran 90 s after the restart")
            while job.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        }
        let text = (try? String(contentsOfFile: printed, encoding: .utf8)) ?? ""
        #expect(job.terminationStatus == 2, "\(text)")
        let local = state + "/history.sqlite"
        #expect(text.contains("this run is kept in \(local) (`mvm history merge` uploads it)"), "\(text)")

        let store = try await PostgresHistoryStore.connect(url: database)
        #expect(try await store.runs(hostKey: nil, limit: 10).isEmpty, "the failed write left a run behind")
        let kept = try await SQLiteHistoryStore.open(path: local).runs(hostKey: nil, limit: 10).map(\.id)
        #expect(kept.count == 1, "\(kept)")

        let merged = try await runMVM(["history", "merge", local, "--into", database])
        #expect(merged.exitCode == 0, "\(merged.stderr)")
        #expect(merged.stdout.contains(": 1 run added, 0 already there"), "\(merged.stdout)")
        #expect(try await store.runs(hostKey: nil, limit: 10).map(\.id) == kept)
        let again = try await runMVM(["history", "merge", local, "--into", database])
        #expect(again.stdout.contains(": 0 runs added, 1 already there"), "\(again.stdout)")
        await store.close()
    }

    /// Restarts the test cluster as its administrator would (a fast
    /// shutdown ends every session), with the options it was started with.
    /// The run's record of the daemons it started follows the new pid.
    static func restartServer() async throws {
        let old = try #require(postmasterPID())
        let restarted = try await Subprocess.run(
            .path("/usr/sbin/runuser"),
            arguments: [
                "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl", "-D", clusterData, "-w", "-t", "30",
                "-m", "fast", "-l", "/var/tmp/mvm-tests/postgres/logfile", "restart",
            ], output: .discarded, error: .string(limit: 4096))
        try #require(restarted.terminationStatus.isSuccess, "pg_ctl restart: \(restarted.standardError)")
        let new = try #require(postmasterPID())
        if let file = ProcessInfo.processInfo.environment["MVM_STARTED_DAEMONS"],
            let recorded = try? String(contentsOfFile: file, encoding: .utf8)
        {
            let updated = recorded.replacingOccurrences(of: "\(old) postgres", with: "\(new) postgres")
            try? updated.write(toFile: file, atomically: true, encoding: .utf8)
        }
    }

    private static func postmasterPID() -> Int32? {
        readSmallFile(clusterData + "/postmaster.pid")?.split(separator: "\n").first.flatMap { Int32($0) }
    }

    /// One value from psql; nil when the query failed (the server restarting).
    private func psql(_ url: String, _ query: String) async throws -> String? {
        let result = try await runProgram("/usr/bin/psql", ["-qtA", url, "-c", query])
        return result.exitCode == 0 ? result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) : nil
    }

    private func poll(seconds: Double = 60, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}
