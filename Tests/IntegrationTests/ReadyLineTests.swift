import Foundation
import MVMCore
import Testing

extension RealInstances {
    /// `--ready-line`: readiness for workloads that print something else
    /// than mvm's line.
    @Suite struct ReadyLine {
        func json(_ text: String) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        }

        @Test func aContainerIsReadyAtTheFirstMatchingLine() async throws {
            try Fixtures.requireImages()
            // The isolation probe prints mvm-fact lines before mvm's own line.
            let result = try await runMVM([
                "run", "--json", "--ready-line", "^mvm-fact uid=", "--env", "mvm_probe=isolation",
            ])
            #expect(result.exitCode == 0, "\(result.stderr)")
            let report = try json(result.stdout)
            #expect(report["guest"] == nil || report["guest"] is NSNull, "\(result.stdout)")
            let list = try await runMVM(["list"])
            #expect(list.stdout.isEmpty, "\(list.stdout)")
        }

        @Test func aVMIsReadyAtAKernelLine() async throws {
            try Fixtures.requireImages()
            let result = try await runMVM([
                "boot", "--json", "--ready-line", "Run /init as init process", "--append", "loglevel=7",
            ])
            #expect(result.exitCode == 0, "\(result.stderr)")
            let report = try json(result.stdout)
            let footprint = try #require(report["footprint"] as? [String: Any])
            #expect(footprint["pss"] != nil && footprint["guest-used"] == nil, "\(footprint)")
            #expect(Fixtures.mvmQEMUProcesses().isEmpty)
        }

        @Test func aLineNeverPrintedTimesOutAndLeavesNothing() async throws {
            try Fixtures.requireImages()
            let result = try await runMVM(["run", "--ready-line", "never printed", "--timeout", "3"])
            #expect(result.exitCode == 1)
            #expect(result.stderr.contains("3"), "\(result.stderr)")
            let list = try await runMVM(["list"])
            #expect(list.stdout.isEmpty, "\(list.stdout)")
            #expect(Fixtures.consoleFiles().isEmpty)
        }

        @Test func aPatternThatDoesNotCompileIsOneLine() async throws {
            let result = try await runMVM(["compare", "-n", "1", "--ready-line", "(mvm"])
            #expect(result.exitCode == 64)
            #expect(
                result.stderr.hasPrefix("Error: --ready-line '(mvm' is not a regular expression ("), "\(result.stderr)")
            #expect(Fixtures.allQEMUProcesses().isEmpty)
        }
    }
}
