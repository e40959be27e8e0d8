import ArgumentParser
import Foundation
import History
import Jobs

extension MVM.HistoryCommand {
    struct Merge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Load a host's history file into another history (a fleet's PostgreSQL), without duplicating runs.")

        @Argument(
            help: ArgumentHelp("The history file to load (a host's <state-dir>/history.sqlite).", valueName: "file"))
        var source: String

        @Option(
            help: ArgumentHelp("Where to load it: postgresql://user@host/db or another file.", valueName: "url|file"))
        var into: String

        func run() async throws {
            let from = try await HistoryLocation(source).openExisting()
            let target = HistoryLocation(into)
            let summary = try await merge(from: from, into: try await target.open())
            print(
                "merged \(source) into \(target): \(summary.added) run\(summary.added == 1 ? "" : "s") added, "
                    + "\(summary.alreadyThere) already there, \(summary.annotationsAdded) annotation\(summary.annotationsAdded == 1 ? "" : "s") added"
            )
        }
    }
}
