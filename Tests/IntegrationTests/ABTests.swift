import Foundation
import MVMCore
import Testing

extension RealInstances {
    /// `mvm ab` on real guests: the difference it must find, the one it
    /// must call a regression, and the inputs it must refuse.
    @Suite struct ABCommand {
        struct Report: Decodable {
            struct Result: Decodable {
                var metric: String
                var outcome: String
                var pValue: Double
                var relativeChange: Double
            }
            var results: [Result]
        }

        func run(_ arguments: [String]) async throws -> (exitCode: Int32?, report: Report?, output: String) {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mvm-ab-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let json = directory.appendingPathComponent("ab.json").path
            let html = directory.appendingPathComponent("ab.html").path
            let result = try await runMVM(
                ["ab", "--export-json", json, "--report", html, "--timeout", "90"] + arguments)
            let report = try? JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: json)))
            if report != nil {
                let page = try String(contentsOfFile: html, encoding: .utf8)
                #expect(page.contains("<h2>A against B</h2>"))
            }
            return (result.exitCode, report, result.stdout + result.stderr)
        }

        /// Under TCG, noapictimer spares the guest the local APIC timer's
        /// calibration, about 0.2 s: B must come out faster, p < 0.01.
        /// 20 runs a side: with 8, one CI run on a busy host gave B 18 %
        /// faster at p = 0.027, since TCG boots there spread by ±100 ms.
        @Test func noapictimerIsAnImprovement() async throws {
            try Fixtures.requireImages()
            let (exitCode, report, output) = try await run(["-n", "20", "--b-append", "noapictimer"])
            #expect(exitCode == 0, "\(output)")
            let ready = try #require(report?.results.first { $0.metric == "ready" }, "\(output)")
            #expect(ready.outcome == "improvement" && ready.pValue < 0.01 && ready.relativeChange < -0.1, "\(output)")
            #expect(output.contains("B did not regress"))
            #expect(Fixtures.mvmQEMUProcesses().isEmpty)
        }

        /// Debian's stock kernel on a PC machine boots several times slower
        /// than mvm's: as B, a regression, exit status 1.
        @Test func theStockKernelIsARegression() async throws {
            try Fixtures.requireImages()
            let (exitCode, report, output) = try await run([
                "-n", "6", "--b-kernel", Fixtures.images.stockKernel,
            ])
            #expect(exitCode == 1, "\(output)")
            let ready = try #require(report?.results.first { $0.metric == "ready" }, "\(output)")
            #expect(ready.outcome == "regression" && ready.pValue < 0.01, "\(output)")
            #expect(output.contains("B regressed: "))
            #expect(Fixtures.mvmQEMUProcesses().isEmpty)
        }

        @Test(arguments: [
            (["--a-rootfs", "/tmp"], "--a-rootfs configures a container"),
            (["--b-append", "quiet", "--a-append", "quiet"], "A and B are the same configuration"),
            (["--container", "--b-append", "x"], "--b-append configures a micro-VM"),
            (["--threshold", "ready"], "--threshold ready is not of the form metric=percent"),
            (["--threshold", "speed=2"], "--threshold speed=2 names no metric"),
            (["--b-kernel", "/nonexistent/vmlinux"], "/nonexistent/vmlinux"),
            (
                ["--b-append", "noapictimer", "-n", "4"],
                "-n 4 is too few: with 4 runs a side no permutation test reaches p < 0.01 (its smallest p is 0.029); use -n 5 or more"
            ),
        ])
        func badInputIsOneLineAndStartsNothing(arguments: [String], message: String) async throws {
            let result = try await runMVM(["ab", "-n", "5"] + arguments)
            #expect(result.exitCode != 0 && result.exitCode != 1, "\(result.stdout)")
            #expect(result.stderr.contains(message), "\(result.stderr)")
            #expect(Fixtures.mvmQEMUProcesses().isEmpty)
            #expect(Fixtures.consoleFiles().isEmpty)
        }
    }
}
