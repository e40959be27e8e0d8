import Compare
import Foundation
import History
import MVMCore
import PostgresHistory
import Testing

extension RealInstances {
    /// Many hosts, one PostgreSQL: the test command starts a real server on
    /// loopback (scripts/test-postgres.sh).
    @Suite struct Fleet {
        static let url =
            ProcessInfo.processInfo.environment["MVM_TEST_POSTGRES_URL"]
            ?? "postgresql://mvm:mvm-test@127.0.0.1:55432/mvm_test"

        /// A database of the test's own, so nothing from an earlier run
        /// counts as a host (the test role may create databases).
        func freshDatabase() async throws -> String {
            let name = "mvm_fleet_\(UInt32.random(in: 0...UInt32.max))"
            let result = try await runProgram(
                "/usr/bin/psql", ["-v", "ON_ERROR_STOP=1", "-q", Self.url, "-c", "CREATE DATABASE \(name)"])
            #expect(result.exitCode == 0, "\(result.stderr)")
            return Self.url.replacingOccurrences(of: "/mvm_test", with: "/\(name)")
        }

        func dropDatabase(_ url: String) async {
            let name = url.split(separator: "/").last.map(String.init) ?? ""
            _ = try? await runProgram("/usr/bin/psql", ["-q", Self.url, "-c", "DROP DATABASE IF EXISTS \(name)"])
        }

        /// Two hosts record at the same moment: this one, and one in its own
        /// UTS and mount namespaces with another hostname and machine id.
        /// Both runs are stored whole, under two host keys.
        @Test func twoHostsRecordAtOnce() async throws {
            try Fixtures.requireImages()
            let database = try await freshDatabase()
            defer { Task { await dropDatabase(database) } }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "mvm-fleet-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let machineID = directory.appendingPathComponent("machine-id")
            try Data("0123456789abcdef0123456789abcdef\n".utf8).write(to: machineID)
            let compare = "compare -n 2 --warmup 0 --no-reference --accel tcg --record --history \(database)"
            let other = """
                hostname fleet-host-b && mount --bind \(machineID.path) /etc/machine-id && \
                exec \(mvmExecutable.path) \(compare) --state-dir /var/tmp/mvm-tests-fleet-b
                """
            async let hostB = runProgram(
                "/usr/bin/unshare", ["--uts", "--mount", "--propagation", "private", "/bin/sh", "-c", other])
            async let hostA = runMVM(
                compare.split(separator: " ").map(String.init) + ["--state-dir", "/var/tmp/mvm-tests-fleet-a"])
            let (a, b) = try await (hostA, hostB)
            #expect(a.exitCode == 0, "\(a.stdout)\(a.stderr)")
            #expect(b.exitCode == 0, "\(b.stdout)\(b.stderr)")

            let store = try await PostgresHistoryStore.connect(url: database)
            let hosts = try await store.hosts()
            #expect(
                Set(hosts.map(\.identity.hostname)) == [ProcessInfo.processInfo.hostName, "fleet-host-b"], "\(hosts)")
            #expect(hosts.allSatisfy { $0.runs == 1 })
            for header in try await store.runs(hostKey: nil, limit: 10) {
                let run = try #require(try await store.run(id: header.id))
                #expect(run.report.samples.count == 4 && run.report.samples.allSatisfy(\.ok))
            }
            await store.close()

            // The fleet report shows both hosts, in Chromium.
            let report = directory.appendingPathComponent("fleet.html").path
            let written = try await runMVM(["history", "report", "--all-hosts", report, "--history", database])
            #expect(written.exitCode == 0, "\(written.stderr)")
            let dom = try await runProgram(
                "/usr/bin/chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", "file://\(report)"])
            #expect(
                dom.stdout.contains("fleet-host-b") && dom.stdout.contains(ProcessInfo.processInfo.hostName)
                    && dom.stdout.contains("<svg"))

            // A host's offline file merged twice: its runs once.
            let offline = directory.appendingPathComponent("offline.sqlite").path
            let local = try await runMVM([
                "compare", "-n", "1", "--warmup", "0", "--no-reference", "--accel", "tcg", "--record", "--history",
                offline,
                "--state-dir", "/var/tmp/mvm-tests-fleet-a",
            ])
            #expect(local.exitCode == 0, "\(local.stderr)")
            let first = try await runMVM(["history", "merge", offline, "--into", database])
            #expect(first.stdout.contains(": 1 run added, 0 already there"), "\(first.stdout)\(first.stderr)")
            let second = try await runMVM(["history", "merge", offline, "--into", database])
            #expect(second.stdout.contains(": 0 runs added, 1 already there"), "\(second.stdout)\(second.stderr)")
            await dropDatabase(database)
        }

        /// A fleet database that cannot be reached: one line saying so, exit
        /// 2, and the run kept in the host's own file for `history merge`.
        @Test func anUnreachableDatabaseKeepsTheRunLocally() async throws {
            try Fixtures.requireImages()
            // Short: libvirt's monitor socket lives under it. Its history
            // file is the test's own, removed before and after.
            let state = "/var/tmp/mvm-tests-fleet-down"
            try? FileManager.default.removeItem(atPath: state + "/history.sqlite")
            defer { try? FileManager.default.removeItem(atPath: state + "/history.sqlite") }
            let result = try await runMVM([
                "compare", "-n", "1", "--warmup", "0", "--no-reference", "--accel", "tcg", "--record", "--history",
                "postgresql://mvm:secret-word@127.0.0.1:1/mvm", "--state-dir", state,
            ])
            #expect(result.exitCode == 2, "\(result.stdout)\(result.stderr)")
            #expect(
                result.stdout.contains("cannot reach the history database at postgresql://mvm@127.0.0.1:1/mvm"),
                "\(result.stdout)")
            #expect(result.stdout.contains("this run is kept in \(state)/history.sqlite"), "\(result.stdout)")
            #expect(!(result.stdout + result.stderr).contains("secret-word"))
            let local = try await runMVM(["history", "list", "--history", state + "/history.sqlite"])
            #expect(local.stdout.split(separator: "\n").count == 2, "\(local.stdout)\(local.stderr)")
        }
    }
}
