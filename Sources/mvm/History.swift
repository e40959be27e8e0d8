import ArgumentParser
import Compare
import Foundation
import History
import Jobs
import MVMCore
import Reports

/// Which store the `mvm history` commands read.
struct StoreOptions: ParsableArguments {
    @OptionGroup var common: CommonOptions
    @OptionGroup var history: HistoryLocationOption

    var location: HistoryLocation {
        HistoryLocation.resolve(history.path, state: common.state)
    }

    func open() async throws -> any HistoryStore {
        try await location.openExisting()
    }

    func recordedRun(_ id: String) async throws -> RecordedRun {
        guard let recorded = try await open().run(id: id) else {
            throw NightlyError("no run \(id) in the history: see `mvm history list`")
        }
        return recorded
    }
}

extension MVM {
    struct HistoryCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "history",
            abstract:
                "Read the recorded runs: list, show, export, annotate a deliberate change, list hosts, report on the fleet.",
            subcommands: [ListRuns.self, Show.self, Export.self, Annotate.self, Hosts.self, Report.self, Merge.self])
    }
}

extension MVM.HistoryCommand {
    struct ListRuns: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List recorded runs, newest first.")

        @OptionGroup var store: StoreOptions

        @Flag(help: "Every host's runs, not only this host's.")
        var allHosts = false

        @Option(help: "How many runs.")
        var limit = 30

        func run() async throws {
            let hostKey = allHosts ? nil : HostIdentity(host: HostFacts.probe()).key
            let listing = try await HistoryListing(
                store: try await store.open(), hostKey: hostKey, limit: max(limit, 1))
            guard !listing.runs.isEmpty else {
                print(allHosts ? "no runs recorded" : "no runs recorded on this host (--all-hosts lists the others)")
                return
            }
            print(alignColumns(listing.rows).joined(separator: "\n"))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one recorded run: verdicts, stack, conditions and its table.")

        @OptionGroup var store: StoreOptions

        @Argument(help: "The run id (see `mvm history list`).")
        var runID: String

        func run() async throws {
            let recorded = try await store.recordedRun(runID)
            let outcome = recorded.outcome
            print(outcome.verdictTable())
            print("")
            print("plan: \(recorded.plan.description) (\(recorded.header.planKey))")
            print("stack: " + recorded.header.stack.entries.map { "\($0.0) \($0.1)" }.joined(separator: ", "))
            print("")
            print(ComparisonRendering(recorded.report).table())
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write one recorded run as JSON (the compare schema with verdicts).")

        @OptionGroup var store: StoreOptions

        @Argument(help: "The run id (see `mvm history list`).")
        var runID: String

        @Option(
            name: .shortAndLong, help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file")
        )
        var output: String?

        func run() async throws {
            let recorded = try await store.recordedRun(runID)
            let outcome = recorded.outcome
            let data = try outcome.jsonData()
            if let output {
                try writeFileAtomically(data, to: absolutePath(output))
            } else {
                FileHandle.standardOutput.write(data)
                print("")
            }
        }
    }

    struct Annotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mark a deliberate change (a QEMU upgrade, a new kernel): later runs get a fresh baseline.")

        @OptionGroup var store: StoreOptions

        @Argument(help: "What changed, for the report.")
        var message: String

        @Option(
            help: ArgumentHelp("Only this contender's series (default: every series of the host).", valueName: "name"))
        var contender: String?

        @Option(help: ArgumentHelp("The host key (default: this host's; see `mvm history hosts`).", valueName: "key"))
        var host: String?

        func validate() throws {
            if message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                throw ValidationError("the message is empty: say what changed, e.g. \"QEMU 8.0\".")
            }
        }

        func run() async throws {
            let store = try await store.open()
            let key = host ?? HostIdentity(host: HostFacts.probe()).key
            try await store.annotate(Annotation(hostKey: key, subject: contender, at: Date(), message: message))
            print(
                "annotated host \(key)\(contender.map { " (\($0))" } ?? ""): \(message); the next runs start a new baseline"
            )
        }
    }

    struct Hosts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the hosts and plans in the history: only runs of one host and plan compare.")

        @OptionGroup var store: StoreOptions

        func run() async throws {
            let store = try await store.open()
            let own = HostIdentity(host: HostFacts.probe()).key
            var rows: [[String]] = [["host key", "hostname", "cpu", "cores", "memory", "runs", "last run", "plans"]]
            for host in try await store.hosts() {
                rows.append([
                    host.key + (host.key == own ? " *" : ""), host.identity.hostname, host.identity.cpuModel,
                    "\(host.identity.cores)",
                    "\(host.identity.memoryGiB) GiB", "\(host.runs)", host.lastRun?.formatted(.iso8601) ?? "-",
                    host.plans.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.description)" }.joined(
                        separator: "; "),
                ])
            }
            print(alignColumns(rows).joined(separator: "\n"))
            print("* this host")
        }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the fleet report: every host's latest figures, rankings and trends, as one HTML file.",
            discussion: "--all-hosts is required for now: the report always covers every host in the history.")

        @OptionGroup var store: StoreOptions

        @Flag(help: "Every host in the history (required for now; a one-host report may follow).")
        var allHosts = false

        @Option(help: "How many recent runs of each host to draw.")
        var runsPerHost = 30

        @Argument(help: ArgumentHelp("Where to write the HTML file.", valueName: "file.html"))
        var output: String

        func validate() throws {
            guard allHosts else {
                throw ValidationError("pass --all-hosts: the fleet report covers every host (the only kind for now)")
            }
            guard runsPerHost > 0 else { throw ValidationError("--runs-per-host must be at least 1") }
        }

        func run() async throws {
            let report = try await FleetReport.load(from: try store.open(), runsPerHost: runsPerHost)
            try writeFileAtomically(Data(renderFleetHTML(report).utf8), to: absolutePath(output))
            print(absolutePath(output))
        }
    }
}
