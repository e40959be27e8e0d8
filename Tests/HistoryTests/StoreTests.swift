import Compare
import Foundation
import SQLiteHistory
import Testing

@testable import History
@testable import PostgresHistory

/// The history stores the same tests run against.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// The tests' PostgreSQL, as scripts/test-postgres.sh makes it.
    static var postgresURL: String {
        ProcessInfo.processInfo.environment["MVM_TEST_POSTGRES_URL"] ?? "postgresql://mvm:mvm-test@127.0.0.1:55432/mvm_test"
    }
}

/// A history of its own for one test: a fresh SQLite file, or a fresh
/// schema in the tests' PostgreSQL database. `open` gives another store on
/// the same history (as a second process would have); `finish` closes them
/// and removes the history.
actor FreshHistory {
    let backend: Backend
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("mvm-history-\(UUID().uuidString)/history.sqlite").path
    let schema = "mvm_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    private var opened: [PostgresHistoryStore] = []

    init(_ backend: Backend) { self.backend = backend }

    func open() async throws -> any HistoryStore {
        switch backend {
        case .sqlite:
            return try SQLiteHistoryStore(path: path)
        case .postgres:
            let store = try await PostgresHistoryStore.connect(url: Backend.postgresURL, schema: schema)
            opened.append(store)
            return store
        }
    }

    func finish() async {
        switch backend {
        case .sqlite:
            try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path)
        case .postgres:
            if let store = opened.first { try? await store.executeForTests("DROP SCHEMA \(schema) CASCADE") }
            for store in opened { await store.close() }
            opened = []
        }
    }

    /// Runs `body` on a store of a fresh history, removing it after, pass or fail.
    static func with(_ backend: Backend, _ body: (FreshHistory, any HistoryStore) async throws -> Void) async throws {
        let history = FreshHistory(backend)
        do {
            try await body(history, try await history.open())
        } catch {
            await history.finish()
            throw error
        }
        await history.finish()
    }
}

@Suite struct StoreTests {
    typealias F = VerdictFixtures

    @Test(arguments: Backend.allCases) func aRecordedRunReadsBackWhole(_ backend: Backend) async throws {
        try await FreshHistory.with(backend) { _, store in
            var run = F.recorded(1, vmReady: 1.2, label: "first")
            run.failures = ["none really"]
            try await store.record(run)
            let back = try #require(try await store.run(id: run.header.id))
            #expect(back == run)
            #expect(back.report == run.report)
            #expect(back.header.label == "first")
            #expect(back.failures == ["none really"])
            #expect(back.host == F.host)
            #expect(try await store.run(id: "no-such-run") == nil)
        }
    }

    @Test(arguments: Backend.allCases) func observationsComeOldestFirstWithTheirSamples(_ backend: Backend) async throws {
        try await FreshHistory.with(backend) { _, store in
            let key = SeriesKey(hostKey: F.host.key, planKey: F.plan.key, subject: "vm", metric: "ready", unit: .seconds)
            // The verdict given on run 2 comes back with its observation: the
            // rules read it to know which steps were explained.
            var judged = SeriesVerdict(
                series: key, decision: .regression, rule: .nights, baselineRunIDs: [F.header(1).id], baselineMedian: 1.1, newMedian: 1.2,
                stackChanges: [], reason: "the last 2 nights together")
            judged.stepRunID = F.header(1).id
            judged.nights = 2
            for index in [3, 1, 2] {
                var run = F.recorded(index, vmReady: 1.0 + Double(index) / 10)
                if index == 2 { run.verdicts = [judged] }
                try await store.record(run)
            }
            try await store.record(F.recorded(4, vmReady: 1.2, partial: true))
            let observations = try await store.observations(of: key)
            #expect(observations.map(\.run.id) == [1, 2, 3, 4].map { F.header($0).id })
            #expect(observations.last?.run.partial == true)
            #expect(observations.first?.values.samples.count == 8)
            #expect(observations.map(\.verdict) == [nil, judged, nil, nil])
            let ratio = SeriesKey(hostKey: F.host.key, planKey: F.plan.key, subject: "vm/container", metric: "ready", unit: .ratio)
            #expect(try await store.observations(of: ratio).count == 4)
            #expect(try await store.runs(hostKey: F.host.key, limit: 2).map(\.id) == [4, 3].map { F.header($0).id })
            #expect(try await store.runs(hostKey: nil, limit: 10).count == 4)
            #expect(try await store.runs(hostKey: "other", limit: 10).isEmpty)
            let hosts = try await store.hosts()
            #expect(hosts.count == 1 && hosts.first?.runs == 4 && hosts.first?.plans[F.plan.key] == F.plan)
            #expect(hosts.first?.firstRun == F.header(1).startedAt && hosts.first?.lastRun == F.header(4).startedAt)
        }
    }

    @Test(arguments: Backend.allCases) func annotationsAreKeptPerHost(_ backend: Backend) async throws {
        try await FreshHistory.with(backend) { _, store in
            try await store.annotate(Annotation(hostKey: F.host.key, subject: "vm", at: Date(timeIntervalSince1970: 7), message: "QEMU 8.0"))
            try await store.annotate(Annotation(hostKey: F.host.key, subject: nil, at: Date(timeIntervalSince1970: 5), message: "kernel 6.1"))
            try await store.annotate(Annotation(hostKey: "other", subject: nil, at: Date(timeIntervalSince1970: 6), message: "elsewhere"))
            let notes = try await store.annotations(hostKey: F.host.key)
            #expect(notes.map(\.message) == ["kernel 6.1", "QEMU 8.0"])
            #expect(notes.last?.subject == "vm" && notes.first?.subject == nil)
            #expect(notes.allSatisfy { $0.id != nil })
        }
    }

    /// Two writers on one history (as two nightly jobs, or two hosts of a
    /// fleet, would be): every run of both lands.
    @Test(arguments: Backend.allCases) func twoWritersAtOnceLoseNothing(_ backend: Backend) async throws {
        try await FreshHistory.with(backend) { history, first in
            let second = try await history.open()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (offset, store) in [(0, first), (100, second)] {
                    group.addTask {
                        for index in 0..<15 { try await store.record(F.recorded(offset + index, vmReady: 1.2)) }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await first.runs(hostKey: nil, limit: 100).count == 30)
            #expect(try await second.runs(hostKey: nil, limit: 100).count == 30)
            if let sqlite = second as? SQLiteHistoryStore { #expect(try await sqlite.integrityCheck() == "ok") }
        }
    }

    @Test(arguments: Backend.allCases) func recordingTheSameRunTwiceFailsAndKeepsTheFirst(_ backend: Backend) async throws {
        try await FreshHistory.with(backend) { _, store in
            let run = F.recorded(1, vmReady: 1.2)
            try await store.record(run)
            await #expect(throws: (any Error).self) { try await store.record(F.recorded(1, vmReady: 9)) }
            #expect(try await store.run(id: run.header.id)?.report == run.report)
            let key = SeriesKey(hostKey: F.host.key, planKey: F.plan.key, subject: "vm", metric: "ready", unit: .seconds)
            #expect(try await store.observations(of: key).count == 1)
        }
    }
}

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

    @Test func anUnopenableStoreSaysWhere() {
        #expect(throws: HistoryStoreError.self) { try SQLiteHistoryStore(path: "/proc/mvm-no/history.sqlite") }
    }
}

/// What only the server store does: log in, refuse, migrate once.
@Suite struct PostgresStoreTests {
    /// The tests' URL with another password or port.
    func testURL(password: String? = nil, port: Int? = nil) throws -> String {
        let url = try PostgresURL(Backend.postgresURL)
        return "postgresql://\(url.user):\(password ?? url.password ?? "")@\(url.host):\(port ?? url.port)/\(url.database)"
    }

    @Test func aWrongPasswordIsRefusedInOneLineWithoutThePassword() async throws {
        let secret = "not-the-password-3141"
        let url = try testURL(password: secret)
        do {
            _ = try await PostgresHistoryStore.connect(url: url, environment: [:])
            Issue.record("a wrong password was accepted")
        } catch let error as PostgresHistoryError {
            #expect(error.kind == .authentication)
            #expect(error.description.hasSuffix("refused user mvm: wrong password"))
            #expect(!error.description.contains(secret) && !"\(error)".contains(secret) && !String(reflecting: error).contains(secret))
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func anUnreachableServerIsOneLineWithoutThePassword() async throws {
        let secret = "secret-2718"
        do {
            _ = try await PostgresHistoryStore.connect(url: "postgresql://mvm:\(secret)@127.0.0.1:1/mvm", environment: [:])
            Issue.record("port 1 answered")
        } catch let error as PostgresHistoryError {
            #expect(error.kind == .unreachable)
            #expect(error.description == "cannot reach the history database at postgresql://mvm@127.0.0.1:1/mvm: connection refused")
            #expect(!String(reflecting: error).contains(secret))
        }
    }

    /// TLS when the URL asks for it. The test server offers TLS with a
    /// self-signed certificate: `require` connects, and the session is
    /// encrypted (pg_stat_ssl); `verify-full` refuses a certificate no CA
    /// signed.
    @Test func tlsWhenTheURLAsksForIt() async throws {
        let schema = "mvm_tls_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let store = try await PostgresHistoryStore.connect(url: Backend.postgresURL + "?sslmode=require", schema: schema)
        #expect(try await store.runs(hostKey: nil, limit: 1).isEmpty)
        try await store.executeForTests(
            "DO $$ BEGIN IF NOT (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) THEN RAISE EXCEPTION 'not encrypted'; END IF; END $$")
        try await store.executeForTests("DROP SCHEMA \(schema) CASCADE")
        await store.close()
        do {
            _ = try await PostgresHistoryStore.connect(url: Backend.postgresURL + "?sslmode=verify-full", schema: schema)
            Issue.record("verify-full accepted a self-signed certificate")
        } catch let error as PostgresHistoryError {
            #expect(!error.description.contains("mvm-test") && !error.description.contains("\n"), "\(error)")
        }
    }

    @Test func aNewerSchemaIsRefused() async throws {
        try await FreshHistory.with(.postgres) { history, store in
            let postgres = try #require(store as? PostgresHistoryStore)
            try await postgres.executeForTests("UPDATE mvm_schema SET version = 99")
            do {
                _ = try await history.open()
                Issue.record("a schema from a newer mvm was used")
            } catch let error as PostgresHistoryError {
                #expect(error.kind == .newerSchema(found: 99, known: PostgresSchema.version))
                #expect(error.description.hasSuffix("has history schema 99, newer than this mvm (1): upgrade mvm"))
                #expect(!error.description.contains("mvm-test"))
            }
        }
    }

    /// Many hosts starting at once against an empty database: one migrates,
    /// the others wait on the advisory lock and find the schema current.
    @Test func manyStoresOpeningAtOnceMigrateOnce() async throws {
        try await FreshHistory.with(.postgres) { history, store in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { _ = try await history.open() } }
                try await group.waitForAll()
            }
            try await store.record(VerdictFixtures.recorded(1, vmReady: 1.2))
            #expect(try await store.runs(hostKey: nil, limit: 10).count == 1)
        }
        // Into a schema that does not exist yet, all at once.
        let history = FreshHistory(.postgres)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { _ = try await history.open() } }
                try await group.waitForAll()
            }
        } catch {
            await history.finish()
            throw error
        }
        await history.finish()
    }

    @Test func aClosedStoreSaysSo() async throws {
        try await FreshHistory.with(.postgres) { history, _ in
            let store = try #require(try await history.open() as? PostgresHistoryStore)
            await store.close()
            do {
                _ = try await store.runs(hostKey: nil, limit: 1)
                Issue.record("a closed store answered")
            } catch let error as PostgresHistoryError {
                #expect(error.description.hasSuffix("is closed"))
            }
        }
    }

    @Test func thePasswordComesFromTheEnvironmentOrThePassFile() async throws {
        let url = try PostgresURL(Backend.postgresURL)
        let bare = "postgresql://\(url.user)@\(url.host):\(url.port)/\(url.database)"
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mvm-pgpass-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try "other:*:*:*:nope\n\(url.host):\(url.port):*:\(url.user):\(url.password ?? "")\n".write(toFile: file, atomically: true, encoding: .utf8)
        try await FreshHistory.with(.postgres) { history, _ in
            let fromEnvironment = try await PostgresHistoryStore.connect(
                url: bare, environment: ["PGPASSWORD": url.password ?? ""], schema: history.schema)
            await fromEnvironment.close()
            let fromFile = try await PostgresHistoryStore.connect(url: bare, environment: ["PGPASSFILE": file], schema: history.schema)
            await fromFile.close()
        }
    }
}

/// The URL's parts, and the password kept out of everything shown.
@Suite struct PostgresURLTests {
    @Test func theURLParses() throws {
        let url = try PostgresURL("postgres://ann:p%40ss@db.example:6543/history?sslmode=verify-full")
        #expect(url.user == "ann" && url.password == "p@ss" && url.host == "db.example" && url.port == 6543)
        #expect(url.database == "history" && url.sslMode == .verifyFull)
        let plain = try PostgresURL("postgresql://mvm@127.0.0.1/mvm")
        #expect(plain.port == 5432 && plain.password == nil && plain.sslMode == .disable)
        #expect(try PostgresURL("postgresql://u:pw@h/d?sslmode=require").sslMode == .require)
    }

    @Test(arguments: [
        ("postgresql://mvm:s3cret@127.0.0.1:1/mvm", "postgresql://mvm@127.0.0.1:1/mvm"),
        ("postgres://mvm:s3cret@host/db?sslmode=require", "postgres://mvm@host/db?sslmode=require"),
        ("postgresql://mvm:s3/cr@et@host/db", "postgresql://mvm@host/db"),
        ("postgresql://mvm@host/db", "postgresql://mvm@host/db"),
        ("postgresql://host/db", "postgresql://host/db"),
    ])
    func thePasswordIsRedacted(_ url: String, _ redacted: String) {
        #expect(PostgresURL.redact(url) == redacted)
    }

    @Test func aBadURLSaysSoWithoutThePassword() {
        for text in ["mysql://mvm:s3cret@host/db", "postgresql://mvm:s3cret@host/", "postgresql://mvm:s3cret@host/db?sslmode=prefer"] {
            #expect {
                _ = try PostgresURL(text)
            } throws: { error in
                let description = "\(error)"
                return (error as? PostgresHistoryError)?.kind == .badURL && !description.contains("s3cret") && !description.contains("\n")
            }
        }
    }

    @Test func thePassFileMatchesLikeLibpq() {
        let file = """
            # comment
            db.example:5432:other:ann:wrong-db
            db.example:*:history:ann:pa\\:ss\\\\word
            *:*:*:*:fallback
            """
        #expect(PostgresURL.passwordFromPassFile(file, host: "db.example", port: 5432, database: "history", user: "ann") == "pa:ss\\word")
        #expect(PostgresURL.passwordFromPassFile(file, host: "elsewhere", port: 1, database: "x", user: "bob") == "fallback")
        #expect(PostgresURL.passwordFromPassFile("h:1:d:u:p", host: "h", port: 2, database: "d", user: "u") == nil)
    }

    @Test func theURLsPasswordComesFirstThenTheEnvironment() throws {
        let withPassword = try PostgresURL("postgresql://u:url-pw@h/d").resolvingPassword(environment: ["PGPASSWORD": "env-pw"])
        #expect(withPassword.password == "url-pw")
        let without = try PostgresURL("postgresql://u@h/d").resolvingPassword(environment: ["PGPASSWORD": "env-pw", "PGPASSFILE": "/nonexistent"])
        #expect(without.password == "env-pw")
        #expect(without.description == "postgresql://u@h/d")
    }
}
