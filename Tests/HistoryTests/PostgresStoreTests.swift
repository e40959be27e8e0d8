import Foundation
import History
import MVMTesting
import Testing

@testable import PostgresHistory

/// What only the server store does: log in, refuse, migrate once.
@Suite struct PostgresStoreTests {
    /// The tests' URL with another password or port.
    func testURL(password: String? = nil, port: Int? = nil) throws -> String {
        let url = try PostgresURL(Backend.postgresURL)
        return
            "postgresql://\(url.user):\(password ?? url.password ?? "")@\(url.host):\(port ?? url.port)/\(url.database)"
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
            #expect(
                !error.description.contains(secret) && !"\(error)".contains(secret)
                    && !String(reflecting: error).contains(secret))
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func anUnreachableServerIsOneLineWithoutThePassword() async throws {
        let secret = "secret-2718"
        do {
            _ = try await PostgresHistoryStore.connect(
                url: "postgresql://mvm:\(secret)@127.0.0.1:1/mvm", environment: [:])
            Issue.record("port 1 answered")
        } catch let error as PostgresHistoryError {
            #expect(error.kind == .unreachable)
            #expect(
                error.description
                    == "cannot reach the history database at postgresql://mvm@127.0.0.1:1/mvm: connection refused")
            #expect(!String(reflecting: error).contains(secret))
        }
    }

    /// TLS when the URL asks for it. The test server offers TLS with a
    /// self-signed certificate: `require` connects, and the session is
    /// encrypted (pg_stat_ssl); `verify-full` refuses a certificate no CA
    /// signed.
    @Test func tlsWhenTheURLAsksForIt() async throws {
        let schema = "mvm_tls_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let store = try await PostgresHistoryStore.connect(
            url: Backend.postgresURL + "?sslmode=require", schema: schema)
        #expect(try await store.runs(hostKey: nil, limit: 1).isEmpty)
        // Through the store's own pool, so that it is the store's session
        // that is asked about.
        try await store.execute([
            "DO $$ BEGIN IF NOT (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) THEN RAISE EXCEPTION 'not encrypted'; END IF; END $$"
        ])
        try await store.execute([StoreStatement(verbatim: "DROP SCHEMA \(schema) CASCADE")])
        await store.close()
        do {
            _ = try await PostgresHistoryStore.connect(
                url: Backend.postgresURL + "?sslmode=verify-full", schema: schema)
            Issue.record("verify-full accepted a self-signed certificate")
        } catch let error as PostgresHistoryError {
            #expect(!error.description.contains("mvm-test") && !error.description.contains("\n"), "\(error)")
        }
    }

    @Test func aNewerSchemaIsRefused() async throws {
        try await FreshHistory.with(.postgres) { history, store in
            let postgres = try #require(store as? PostgresHistoryStore)
            try await postgres.execute(["UPDATE mvm_schema SET version = 99"])
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
        try "other:*:*:*:nope\n\(url.host):\(url.port):*:\(url.user):\(url.password ?? "")\n".write(
            toFile: file, atomically: true, encoding: .utf8)
        try await FreshHistory.with(.postgres) { history, _ in
            let fromEnvironment = try await PostgresHistoryStore.connect(
                url: bare, environment: ["PGPASSWORD": url.password ?? ""], schema: history.schema)
            await fromEnvironment.close()
            let fromFile = try await PostgresHistoryStore.connect(
                url: bare, environment: ["PGPASSFILE": file], schema: history.schema)
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
        for text in [
            "mysql://mvm:s3cret@host/db", "postgresql://mvm:s3cret@host/",
            "postgresql://mvm:s3cret@host/db?sslmode=prefer",
        ] {
            #expect {
                _ = try PostgresURL(text)
            } throws: { error in
                let description = "\(error)"
                return (error as? PostgresHistoryError)?.kind == .badURL && !description.contains("s3cret")
                    && !description.contains("\n")
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
        #expect(
            PostgresURL.passwordFromPassFile(file, host: "db.example", port: 5432, database: "history", user: "ann")
                == "pa:ss\\word")
        #expect(
            PostgresURL.passwordFromPassFile(file, host: "elsewhere", port: 1, database: "x", user: "bob") == "fallback"
        )
        #expect(PostgresURL.passwordFromPassFile("h:1:d:u:p", host: "h", port: 2, database: "d", user: "u") == nil)
    }

    @Test func theURLsPasswordComesFirstThenTheEnvironment() throws {
        let withPassword = try PostgresURL("postgresql://u:url-pw@h/d").resolvingPassword(environment: [
            "PGPASSWORD": "env-pw"
        ])
        #expect(withPassword.password == "url-pw")
        let without = try PostgresURL("postgresql://u@h/d").resolvingPassword(environment: [
            "PGPASSWORD": "env-pw", "PGPASSFILE": "/nonexistent",
        ])
        #expect(without.password == "env-pw")
        #expect(without.description == "postgresql://u@h/d")
    }
}
