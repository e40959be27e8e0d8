import ArgumentParser
import Foundation
import Jobs
import MVMCore

extension MVM {
    struct GC: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc",
            abstract:
                "Remove what killed or crashed mvm processes left: domains, QEMU processes, containers, bundles, consoles, cgroups.",
            discussion: """
                Every instance records its owner (pid and start time) in <state-dir>/owners before it starts. \
                gc removes the instances whose owner is gone, and files and cgroups no live instance owns. \
                Instances kept with --keep, and those of an mvm still running, are never touched.
                """)

        @OptionGroup var common: CommonOptions
        @OptionGroup var connection: ConnectionOptions

        @Flag(name: .customLong("dry-run"), help: "List what would be removed; remove nothing.")
        var dryRun = false

        @Flag(help: "Print the result as JSON.")
        var json = false

        func run() async throws {
            common.bootstrapLogging(checkOrphans: false)
            let report = await GarbageCollector(stateDirectory: common.state, connectURI: connection.uri).collect(
                dryRun: dryRun)
            if json {
                print(String(decoding: try mvmJSONData(report), as: UTF8.self))
            } else {
                let verb = dryRun ? "would remove" : "removed"
                if report.orphans.isEmpty { print("nothing to remove") }
                for orphan in report.orphans { print("\(verb) \(orphan.description)") }
                for unowned in report.unowned {
                    print("left \(unowned): no owner record (kept by an older mvm?); mvm destroy removes it")
                }
                for problem in report.problems { FileHandle.standardError.write(Data("warning: \(problem)\n".utf8)) }
            }
            if !report.problems.isEmpty { throw ExitCode(1) }
        }
    }
}

/// Warns, without removing anything, when the state directory holds what a
/// dead mvm left: every command but gc checks this first.
func warnAboutOrphans(in state: StateDirectory) {
    let names = GarbageCollector(stateDirectory: state).quickScan()
    guard !names.isEmpty else { return }
    let shown = names.prefix(3).joined(separator: ", ") + (names.count > 3 ? ", …" : "")
    FileHandle.standardError.write(
        Data(
            "warning: \(names.count) instance\(names.count == 1 ? "" : "s") left by an mvm that is gone (\(shown)): run `mvm gc --state-dir \(state.path)`\n"
                .utf8))
}
