import Compare
import Foundation
import MVMCore
import Testing

extension RealInstances {
    /// `mvm compare` end to end: real QEMU through libvirt, plain QEMU, runc.
    @Suite struct CompareCommand {
        @Test func comparisonPrintsTheTableAndItsJSONReproducesTheMedians() async throws {
            try Fixtures.requireImages()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "mvm-compare-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let json = directory.appendingPathComponent("r.json").path
            let csv = directory.appendingPathComponent("r.csv").path
            let markdown = directory.appendingPathComponent("r.md").path

            let result = try await runMVM([
                "compare", "-n", "2", "--warmup", "1", "--accel", "tcg", "--timeout", "90",
                "--export-json", json, "--export-csv", csv, "--export-markdown", markdown,
            ])
            #expect(result.exitCode == 0, "\(result.stdout)\n\(result.stderr)")
            // Not a terminal: nothing but results (no progress bar).
            #expect(result.stderr.isEmpty, "\(result.stderr)")
            let table = result.stdout
            for row in ["ready", "pss", "ok runs"] {
                #expect(table.split(separator: "\n").contains { $0.hasPrefix(row) }, "no \(row) row in:\n\(table)")
            }
            #expect(table.contains("container ready "))
            #expect(table.contains("accelerator: tcg ("))

            let report = try ComparisonReport.decode(Data(contentsOf: URL(fileURLWithPath: json)))
            #expect(report.schema == ComparisonReport.schemaVersion)
            #expect(report.contenders == ["vm", "container", "qemu-direct", "runc-direct"])
            #expect(
                report.roles == [
                    "vm": .microVM, "container": .container, "qemu-direct": .microVMReference,
                    "runc-direct": .containerReference,
                ])
            // The caveat comes from the VM launchers (TCG), once.
            #expect(report.caveats.count == 1 && report.caveats[0].hasPrefix("the VMs ran under TCG"))
            #expect(report.samples.count == 4 * 3)
            #expect(report.samples.allSatisfy { $0.ok }, "\(report.samples.compactMap { $0.failure })")
            #expect(report.environment.accelerator == "tcg")
            #expect(report.environment.images["vmlinux"]?.count == 64)
            #expect(report.environment.versions["qemu"] != nil && report.environment.versions["runtime"] != nil)
            // The samples alone give back every printed statistic.
            let recomputed = ComparisonSummary(
                samples: report.samples, contenders: report.contenders, roles: report.roles, bootstrap: report.bootstrap
            )
            #expect(recomputed == report.summary)
            for contender in ["vm", "container"] {
                let readies = report.samples.filter { $0.contender == contender && !$0.warmup }.compactMap {
                    $0.phases["ready"]
                }
                #expect(report.summary.contender(contender)?.metric(.ready)?.summary?.median == median(readies))
            }
            let printedReady = ComparisonRendering(report).table().split(separator: "\n").first {
                $0.hasPrefix("ready")
            }
            #expect(table.split(separator: "\n").first { $0.hasPrefix("ready") } == printedReady)

            #expect(try String(contentsOfFile: csv, encoding: .utf8).hasPrefix("contender,metric,unit,n,"))
            #expect(try String(contentsOfFile: markdown, encoding: .utf8).hasPrefix("# mvm compare"))
            #expect(Fixtures.mvmQEMUProcesses().isEmpty)
            #expect(Fixtures.allQEMUProcesses().isEmpty)
            let list = try await runMVM(["list"])
            #expect(list.stdout.isEmpty)
        }

        /// --warm: vm-warm's domains are created paused before each run's
        /// clock starts and resumed on the request; none is left behind.
        @Test func warmPoolResumesPreparedDomainsAndLeavesNone() async throws {
            try Fixtures.requireImages()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "mvm-warm-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let json = directory.appendingPathComponent("r.json").path
            let result = try await runMVM([
                "compare", "-n", "2", "--warmup", "0", "--no-reference", "--warm", "--accel", "tcg", "--timeout", "90",
                "--export-json", json,
            ])
            #expect(result.exitCode == 0, "\(result.stdout)\n\(result.stderr)")
            let report = try ComparisonReport.decode(Data(contentsOf: URL(fileURLWithPath: json)))
            #expect(report.contenders == ["vm", "container", "vm-warm"])
            #expect(report.roles["vm-warm"] == .warmMicroVM)
            let warm = report.samples.filter { $0.contender == "vm-warm" }
            #expect(warm.count == 2 && warm.allSatisfy(\.ok), "\(warm.compactMap(\.failure))")
            for sample in warm {
                // The request is the resume: no libvirt start in it.
                let resumed = try #require(sample.phases["resumed"])
                let ready = try #require(sample.phases["ready"])
                #expect(sample.phases["started"] == nil && resumed <= ready)
                #expect(sample.guest?.kernelRelease.isEmpty == false)
            }
            #expect(result.stdout.contains("vm-warm ready "))
            #expect(Fixtures.allQEMUProcesses().isEmpty)
            let list = try await runMVM(["list"])
            #expect(list.stdout.isEmpty)
        }

        /// A write that fails after the runs is an ordinary error (exit 1),
        /// not a usage error: no usage text, and the table was printed.
        @Test func aFailedWriteIsNotAUsageError() async throws {
            try Fixtures.requireImages()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "mvm-write-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            // An existing directory where the file should go: its parent
            // exists, so only the write itself can fail.
            let result = try await runMVM([
                "compare", "-n", "1", "--warmup", "0", "--no-reference", "--accel", "tcg", "--timeout", "90",
                "--export-json", directory.path,
            ])
            #expect(result.exitCode == 1, "\(result.stderr)")
            #expect(result.stderr.hasPrefix("Error: cannot write \(directory.path): "), "\(result.stderr)")
            #expect(!result.stderr.contains("Usage:"))
            #expect(result.stdout.contains("container ready "))
            #expect(Fixtures.allQEMUProcesses().isEmpty)
        }

        /// `--contenders` picks the columns: runc-direct without qemu-direct.
        @Test func theContendersListPicksTheColumns() async throws {
            try Fixtures.requireImages()
            let result = try await runMVM([
                "compare", "-n", "1", "--warmup", "0", "--contenders", "vm,container,runc-direct", "--timeout", "90",
            ])
            #expect(result.exitCode == 0, "\(result.stdout)\(result.stderr)")
            let header = result.stdout.split(separator: "\n").first { $0.contains("container") && $0.hasPrefix(" ") }
            #expect(header?.split(separator: " ") == ["vm", "container", "runc-direct"], "\(result.stdout)")
            #expect(Fixtures.allQEMUProcesses().isEmpty)
        }

        @Test(arguments: [
            (["--contenders", "vm,container,gvisr"], "--contenders names 'gvisr', which mvm does not know: use vm, "),
            (["--contenders", "vm,qemu-direct"], "leaves out vm or container, against which every ratio is declared"),
            (["--contenders", "default", "--stock"], "leave out --no-reference, --stock and --warm"),
        ])
        func aBadContendersListIsOneLine(arguments: [String], message: String) async throws {
            let result = try await runMVM(["compare", "-n", "1"] + arguments)
            #expect(result.exitCode == 64)
            #expect(result.stderr.hasPrefix("Error: ") && result.stderr.contains(message), "\(result.stderr)")
            #expect(Fixtures.allQEMUProcesses().isEmpty)
        }

        @Test func badExportPathFailsBeforeAnythingRuns() async throws {
            let result = try await runMVM(["compare", "--export-json", "/nonexistent/dir/r.json"])
            #expect(result.exitCode == 64)
            #expect(
                result.stderr.contains("cannot write /nonexistent/dir/r.json: /nonexistent/dir is not a directory."))
            #expect(Fixtures.allQEMUProcesses().isEmpty)
        }
    }
}
