import Foundation
import History
import MVMCore
import SQLiteHistory
import Subprocess
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension RealInstances {
    /// `mvm nightly` end to end: five quiet recordings, two quiet runs that
    /// pass, a run on a host kept busy that is a regression, a recording
    /// killed mid-write, and the report and textfile read by their real
    /// consumers (Chromium, node_exporter).
    @Suite struct NightlyJobs {
        let directory: URL
        var history: String { directory.appendingPathComponent("history.sqlite").path }
        var report: String { directory.appendingPathComponent("report.html").path }
        var textfileDirectory: URL { directory.appendingPathComponent("textfiles") }
        var textfile: String { textfileDirectory.appendingPathComponent("mvm.prom").path }
        var json: String { directory.appendingPathComponent("nightly.json").path }

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "mvm-nightly-\(UUID().uuidString)")
            try FileManager.default.createDirectory(
                at: directory.appendingPathComponent("textfiles"), withIntermediateDirectories: true)
        }

        /// The same plan every night: only runs of one plan compare.
        func nightly(_ extra: [String] = [], environment: [String: String] = [:]) async throws -> CommandResult {
            try await runMVM(
                [
                    "nightly", "-n", "5", "--warmup", "1", "--no-reference", "--accel", "tcg", "--timeout", "90",
                    "--history", history,
                    "--report", report, "--export-prometheus", textfile, "--export-json", json,
                ] + extra, environment: environment)
        }

        func outcomeJSON() throws -> [String: Any] {
            let data = try Data(contentsOf: URL(fileURLWithPath: json))
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }

        func decisions() throws -> [String: String] {
            let verdicts = try #require(try outcomeJSON()["verdicts"] as? [[String: Any]])
            var decisions: [String: String] = [:]
            for verdict in verdicts {
                let series = try #require(verdict["series"] as? [String: Any])
                decisions["\(series["subject"] ?? "") \(series["metric"] ?? "")"] = verdict["decision"] as? String
            }
            return decisions
        }

        @Test func quietNightsPassAndABusyHostIsARegression() async throws {
            try Fixtures.requireImages()
            defer { try? FileManager.default.removeItem(at: directory) }

            for night in 1...5 {
                let result = try await nightly()
                #expect(result.exitCode == 0, "night \(night):\n\(result.stdout)\n\(result.stderr)")
                let decisions = try decisions()
                #expect(decisions.values.allSatisfy { $0 == "warming" }, "night \(night): \(decisions)")
            }

            // Two quiet nights judged: the spread of seven nights stands
            // behind the busy night's verdict (five alone ask for more).
            for _ in 1...2 {
                let quiet = try await nightly()
                #expect(quiet.exitCode == 0, "\(quiet.stdout)\n\(quiet.stderr)")
                #expect(quiet.stdout.contains("no regression"))
                let quietDecisions = try decisions()
                #expect(
                    quietDecisions["vm ready"] != nil && quietDecisions["vm ready"] != "warming", "\(quietDecisions)")
                #expect(!quietDecisions.values.contains("regression"), "\(quiet.stdout)")
            }

            // Both cores kept busy by other processes for the whole run, two
            // per core. The containers' times grow by half or more; the VM's
            // ready time by about a fifth only (libvirt runs QEMU in a cgroup
            // of its own, whose CPU share the spinners do not dilute), which
            // some baselines' spread covers: the test asks for regressions,
            // not for a particular one.
            let spinners = try (0..<4).map { _ in try startSpinner() }
            defer { for spinner in spinners { kill(spinner.processIdentifier, SIGKILL) } }
            try await Task.sleep(for: .seconds(2))
            let busy = try await nightly()
            for spinner in spinners { kill(spinner.processIdentifier, SIGKILL) }
            #expect(busy.exitCode == 1, "\(busy.stdout)\n\(busy.stderr)")
            #expect(busy.stdout.contains("REGRESSION"), "\(busy.stdout)")
            let regressed = try decisions().filter { $0.value == "regression" }.keys.sorted()
            #expect(!regressed.isEmpty)
            // Slower, not bigger: memory did not move.
            #expect(regressed.allSatisfy { !$0.hasSuffix(" pss") && !$0.hasSuffix(" rss") }, "\(regressed)")
            // The verdict table names every regressed series.
            for series in regressed {
                #expect(
                    busy.stdout.split(separator: "\n").contains {
                        $0.contains(series + " ") && $0.contains("regression")
                    }, "\(series): \(busy.stdout)")
            }
            #expect(try outcomeJSON()["exitStatus"] as? Int == 1)

            try await reportOpensInChromium(expecting: "regression")
            try await textfileIsScrapedByNodeExporter(regressed: regressed)

            let store = try SQLiteHistoryStore(path: history)
            #expect(try await store.runs(hostKey: nil, limit: 100).count == 8)
            let list = try await runMVM(["history", "list", "--history", history])
            #expect(
                list.exitCode == 0 && list.stdout.split(separator: "\n").count == 9, "\(list.stdout)\n\(list.stderr)")
            let hosts = try await runMVM(["history", "hosts", "--history", history])
            #expect(hosts.exitCode == 0 && hosts.stdout.contains(ProcessInfo.processInfo.hostName), "\(hosts.stdout)")
            let newest = try #require(try await store.runs(hostKey: nil, limit: 1).first)
            let show = try await runMVM(["history", "show", newest.id, "--history", history])
            #expect(show.exitCode == 0 && show.stdout.contains("regression"), "\(show.stdout)\n\(show.stderr)")
            let annotate = try await runMVM(["history", "annotate", "moved to a busy host", "--history", history])
            #expect(annotate.exitCode == 0, "\(annotate.stderr)")
            #expect(try await store.annotations(hostKey: newest.hostKey).map(\.message) == ["moved to a busy host"])

            try await killedRecordingLeavesTheStoreIntact(store: store, runsBefore: 8)
            #expect(Fixtures.allQEMUProcesses().isEmpty)
        }

        /// Baseline nights recorded while other processes kept both cores
        /// busy, then a quiet night: everything got faster (the containers
        /// most, so vm/container rises). Nothing regressed: exit 0.
        @Test func aNightWhereEverythingGotFasterExitsZero() async throws {
            try Fixtures.requireImages()
            defer { try? FileManager.default.removeItem(at: directory) }
            let spinners = try (0..<4).map { _ in try startSpinner() }
            defer { for spinner in spinners { kill(spinner.processIdentifier, SIGKILL) } }
            try await Task.sleep(for: .seconds(2))
            var busyContainerReady: [Double] = []
            for night in 1...5 {
                let result = try await nightly()
                #expect(result.exitCode == 0, "busy night \(night):\n\(result.stdout)\n\(result.stderr)")
                busyContainerReady.append(try median(of: "container", "ready"))
            }
            for spinner in spinners { kill(spinner.processIdentifier, SIGKILL) }
            try await Task.sleep(for: .seconds(5))
            let quiet = try await nightly()
            #expect(quiet.exitCode == 0, "\(quiet.stdout)\n\(quiet.stderr)")
            let decisions = try decisions()
            #expect(!decisions.values.contains("regression"), "\(quiet.stdout)")
            #expect(decisions["vm ready"] != "warming", "\(decisions)")
            // Not a vacuous pass: the containers really did get faster.
            let quietReady = try median(of: "container", "ready")
            let busyReady = try #require(busyContainerReady.sorted().dropFirst(2).first)
            #expect(quietReady < busyReady * 0.9, "container ready \(quietReady) s quiet, \(busyContainerReady) s busy")
            #expect(Fixtures.allQEMUProcesses().isEmpty)
        }

        /// The new run's median of one series, from the exported outcome.
        func median(of subject: String, _ metric: String) throws -> Double {
            let verdicts = try #require(try outcomeJSON()["verdicts"] as? [[String: Any]])
            let verdict = try #require(
                verdicts.first {
                    let series = $0["series"] as? [String: Any]
                    return series?["subject"] as? String == subject && series?["metric"] as? String == metric
                })
            return try #require(verdict["newMedian"] as? Double)
        }

        @Test func aFailedRunIsNeverABaseline() async throws {
            defer { try? FileManager.default.removeItem(at: directory) }
            // A load of 0 is never reached: the job refuses to measure, fails,
            // and records the failed run.
            let refused = try await nightly(["--require-quiet", "0"])
            #expect(refused.exitCode == 2, "\(refused.stdout)\n\(refused.stderr)")
            let store = try SQLiteHistoryStore(path: history)
            let failed = try #require(try await store.runs(hostKey: nil, limit: 1).first)
            #expect(failed.failed)
            let result = try await runMVM(["compare", "-n", "1", "--baseline", failed.id, "--history", history])
            #expect(result.exitCode == 2)
            #expect(result.stderr.contains("run \(failed.id) failed: it cannot be a baseline"), "\(result.stderr)")
            #expect(Fixtures.allQEMUProcesses().isEmpty)
        }

        @Test func anUnknownBaselineIsRefusedBeforeAnythingRuns() async throws {
            defer { try? FileManager.default.removeItem(at: directory) }
            let result = try await runMVM(["compare", "-n", "1", "--baseline", "no-such-label", "--history", history])
            #expect(result.exitCode == 2)
            #expect(result.stderr.contains("no good run labelled \"no-such-label\""), "\(result.stderr)")
            #expect(Fixtures.allQEMUProcesses().isEmpty)
        }

        /// SIGKILL while the run's transaction is open, all its rows written
        /// but not committed (a debug build of mvm holds it there when
        /// MVM_TEST_HOLD_RECORD_SECONDS is set; the tests run one): the store
        /// still opens, sound, with every earlier run and none of the killed
        /// one.
        func killedRecordingLeavesTheStoreIntact(store: SQLiteHistoryStore, runsBefore: Int) async throws {
            let stderrPath = directory.appendingPathComponent("killed.stderr")
            _ = FileManager.default.createFile(atPath: stderrPath.path, contents: nil)
            let process = Process()
            process.executableURL = mvmExecutable
            process.arguments = [
                "compare", "-n", "1", "--warmup", "0", "--no-reference", "--accel", "tcg", "--record", "--history",
                history,
            ]
            var environment = ProcessInfo.processInfo.environment
            environment["MVM_STATE_DIR"] = Fixtures.state.path
            environment["MVM_TEST_HOLD_RECORD_SECONDS"] = "60"
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: stderrPath)
            try process.run()
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline {
                if (try? String(contentsOf: stderrPath, encoding: .utf8))?.contains("holding the history transaction")
                    == true
                {
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(try String(contentsOf: stderrPath, encoding: .utf8).contains("holding the history transaction"))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal)

            let reopened = try SQLiteHistoryStore(path: history)
            #expect(try await reopened.integrityCheck() == "ok")
            #expect(try await reopened.runs(hostKey: nil, limit: 100).count == runsBefore)
            let list = try await runMVM(["history", "list", "--history", history])
            #expect(
                list.exitCode == 0 && list.stdout.split(separator: "\n").count == runsBefore + 1,
                "\(list.stdout)\n\(list.stderr)")
        }

        func reportOpensInChromium(expecting text: String) async throws {
            let screenshot = directory.appendingPathComponent("report.png").path
            let result = try await runProgram(
                "/usr/bin/chromium",
                [
                    "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,2000",
                    "--screenshot=\(screenshot)",
                    "file://\(report)",
                ])
            #expect(result.exitCode == 0, "\(result.stderr)")
            let size = (try? FileManager.default.attributesOfItem(atPath: screenshot)[.size] as? Int) ?? 0
            #expect(size > 20_000, "screenshot of \(size) bytes")
            let dom = try await runProgram(
                "/usr/bin/chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", "file://\(report)"])
            #expect(dom.stdout.contains("<svg") && dom.stdout.localizedCaseInsensitiveContains(text))
        }

        /// node_exporter's textfile collector, on loopback, reads the file;
        /// a file it cannot parse shows as node_textfile_scrape_error 1.
        func textfileIsScrapedByNodeExporter(regressed: [String]) async throws {
            let port = Int.random(in: 20_000..<40_000)
            let exporter = Process()
            exporter.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus-node-exporter")
            exporter.arguments = [
                "--web.listen-address=127.0.0.1:\(port)", "--collector.disable-defaults", "--collector.textfile",
                "--collector.textfile.directory=\(textfileDirectory.path)",
            ]
            exporter.standardOutput = FileHandle.nullDevice
            exporter.standardError = FileHandle.nullDevice
            try exporter.run()
            defer {
                exporter.terminate()
                exporter.waitUntilExit()
            }
            var body = ""
            for _ in 0..<50 {
                try await Task.sleep(for: .milliseconds(200))
                if let text = try? await fetch("http://127.0.0.1:\(port)/metrics") {
                    body = text
                    break
                }
            }
            #expect(body.contains("node_textfile_scrape_error 0"), "\(body.suffix(2000))")
            #expect(body.contains("mvm_boot_seconds{"))
            #expect(body.contains("mvm_footprint_bytes{"))
            #expect(body.contains("mvm_last_run_success{"))
            // Each regressed series is 1; vm pss, which did not move, is 0.
            func regressionLine(_ subject: Substring, _ metric: Substring) -> Substring? {
                body.split(separator: "\n").first {
                    $0.hasPrefix("mvm_regression{") && $0.contains("subject=\"\(subject)\"")
                        && $0.contains("metric=\"\(metric)\"")
                }
            }
            for series in regressed {
                let parts = series.split(separator: " ")
                #expect(regressionLine(parts[0], parts[1])?.hasSuffix(" 1") == true, "\(series)")
            }
            #expect(regressionLine("vm", "pss")?.hasSuffix(" 0") == true)
        }

        func fetch(_ address: String) async throws -> String {
            let url = try #require(URL(string: address))
            let (data, _) = try await URLSession.shared.data(from: url)
            return String(decoding: data, as: UTF8.self)
        }

        /// A process that keeps a core busy until it is killed or this test
        /// process is gone (it checks, so a crashed test leaves no spinner).
        func startSpinner() throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "while kill -0 \(getpid()) 2>/dev/null; do :; done"]
            try process.run()
            return process
        }
    }
}

/// Runs a program (not mvm) and captures what it prints.
func runProgram(_ path: String, _ arguments: [String]) async throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let output = Pipe()
    let error = Pipe()
    process.standardOutput = output
    process.standardError = error
    try process.run()
    async let out = output.fileHandleForReading.readToEnd()
    async let err = error.fileHandleForReading.readToEnd()
    let (stdout, stderr) = (try await out, try await err)
    process.waitUntilExit()
    return CommandResult(
        status: .exited(process.terminationStatus), stdout: String(decoding: stdout ?? Data(), as: UTF8.self),
        stderr: String(decoding: stderr ?? Data(), as: UTF8.self))
}
