import ArgumentParser
import Compare
import Foundation
import History
import Jobs
import MVMCore
import Reports

/// Where runs are kept and what they are judged against: shared by
/// `mvm compare` and `mvm nightly`.
struct HistoryOptions: ParsableArguments {
    @Option(
        name: .customLong("history"),
        help: ArgumentHelp(
            "The history: a file, or a fleet's postgresql://user@host/db (default: $MVM_HISTORY, else <state-dir>/history.sqlite).",
            valueName: "file|url"))
    var historyPath: String?

    @Flag(help: "Keep this run in the history: every sample, the summary, the environment and the plan.")
    var record = false

    @Option(help: ArgumentHelp("Name the recorded run, to use it later as --baseline NAME.", valueName: "name"))
    var label: String?

    @Option(help: ArgumentHelp("Judge the run against auto (the last good runs), a label or a run id; sets the exit status.", valueName: "auto|label|run-id"))
    var baseline: String?

    @Option(name: .customLong("report"), help: ArgumentHelp("Write the HTML report (verdicts, trends, distributions, phases).", valueName: "file"))
    var reportPath: String?

    @Option(name: .customLong("export-prometheus"), help: ArgumentHelp("Write a textfile for node_exporter's textfile collector.", valueName: "file"))
    var prometheusPath: String?

    @Option(
        name: .customLong("noise-floor"), parsing: .singleValue,
        help: ArgumentHelp("A metric's noise floor in percent, e.g. ready=8 or pss=3 (default: 5 for times, 2 and 4 MiB for memory).", valueName: "metric=percent"))
    var noiseFloors: [String] = []

    @Option(name: .customLong("require-quiet"), help: ArgumentHelp("Refuse to measure (exit 2) when the one-minute load is above this.", valueName: "load"))
    var requireQuiet: Double?

    var outputPaths: [String] { [reportPath, prometheusPath].compactMap { $0 } }

    func validate() throws {
        _ = try settings()
        if let requireQuiet, !(requireQuiet >= 0) { throw ValidationError("--require-quiet \(requireQuiet) is invalid: give a load of 0 or more.") }
        if let label, label.isEmpty || label == "auto" { throw ValidationError("--label \"\(label)\" is reserved: choose another name.") }
    }

    func settings() throws -> VerdictSettings {
        var settings = VerdictSettings()
        for entry in noiseFloors {
            do { try settings.setNoiseFloor(entry) } catch { throw ValidationError("--noise-floor \(error).") }
        }
        return settings
    }

    /// The options with a nightly job's defaults filled in.
    func resolved(state: StateDirectory, nightly: Bool) throws -> ResolvedHistory {
        ResolvedHistory(
            location: HistoryLocation.resolve(historyPath, state: state),
            record: nightly || record, label: label,
            baseline: (baseline ?? (nightly ? "auto" : nil)).map(BaselineChoice.init(argument:)),
            reportPath: reportPath ?? (nightly ? state.subdirectory("nightly/report.html") : nil),
            prometheusPath: prometheusPath ?? (nightly ? state.subdirectory("nightly/mvm.prom") : nil),
            settings: try settings(), requireQuiet: requireQuiet, preflight: nightly)
    }
}

struct ResolvedHistory {
    var location: HistoryLocation
    var record: Bool
    var label: String?
    var baseline: BaselineChoice?
    var reportPath: String?
    var prometheusPath: String?
    var settings: VerdictSettings
    var requireQuiet: Double?
    /// Only `mvm nightly` refuses to share the host.
    var preflight: Bool
}

extension MVM {
    struct Nightly: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What cron or CI runs every night: compare, record, judge against the history, write the report.",
            discussion: """
                `mvm compare --record --baseline auto` with the pre-flight check, the HTML report at \
                <state-dir>/nightly/report.html and the Prometheus textfile at <state-dir>/nightly/mvm.prom \
                (options override them). Exit status: 0 no regression (ok, improvements, changed ratios, \
                unexplained steps, warming); 1 a contender regressed; 2 the job failed (a failed boot, a database \
                error, another mvm, QEMU or runc running).
                """)

        @OptionGroup var common: CommonOptions
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var limits: LimitOptions
        @OptionGroup var comparison: ComparisonOptions
        @OptionGroup var history: HistoryOptions

        func validate() throws {
            _ = try limits.limits(instancesAtOnce: comparison.concurrency)
            try checkWritableDirectories(comparison.exportPaths + history.outputPaths)
        }

        func run() async throws {
            common.bootstrapLogging()
            let resolved = try history.resolved(state: common.state, nightly: true)
            for path in [resolved.reportPath, resolved.prometheusPath].compactMap({ $0 }) {
                try? FileManager.default.createDirectory(
                    atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
            }
            let request = try comparison.request(common: common, connection: connection, limits: limits)
            try await runNightly(request, history: resolved, comparison: comparison)
        }
    }
}

/// Runs a recorded and judged comparison and writes everything it owes:
/// the verdict table and comparison table, the exports, the HTML report and
/// the textfile, in every case; then exits 0, 1 or 2.
func runNightly(_ comparisonRequest: ComparisonRequest, history: ResolvedHistory, comparison: ComparisonOptions) async throws {
    var request = NightlyRequest(
        comparison: comparisonRequest, history: history.location, record: history.record, label: history.label, baseline: history.baseline)
    request.settings = history.settings
    request.requireQuietLoad = history.requireQuiet
    request.preflight = history.preflight
    let job: NightlyJob
    do {
        job = try await NightlyJob(request)
    } catch {
        FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
        throw ExitCode(2)
    }
    let progress = ProgressBar(enabled: isatty(STDERR_FILENO) == 1)
    let log = SampleLog()
    let startedAt = Date()
    InterruptHandling.onInterrupt {
        progress.clear()
        let outcome = await job.interrupted(samples: log.snapshot, startedAt: startedAt)
        try? writeOutcome(outcome, history: history, comparison: comparison)
    }
    let outcome = await job.run(log: log) { progress.show($0) }
    InterruptHandling.onInterrupt(nil)
    progress.clear()
    try writeOutcome(outcome, history: history, comparison: comparison)
}

/// Prints an outcome and writes every file it owes; exits 1 or 2 as it says.
func writeOutcome(_ outcome: NightlyOutcome, history: ResolvedHistory, comparison: ComparisonOptions) throws {
    print(outcome.verdictTable())
    print("")
    print(ComparisonRendering(outcome.comparison).table())
    var writeFailed = false
    func write(_ body: () throws -> Void) {
        do { try body() } catch {
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            writeFailed = true
        }
    }
    write { try writeComparisonExports(outcome.comparison, verdicts: outcome, comparison) }
    if let path = history.reportPath {
        write { try writeAtomically(Data(renderHTMLReport(outcome).utf8), to: path) }
        print("report: \(path)")
    }
    if let path = history.prometheusPath {
        write { try writeAtomically(Data(renderPrometheusTextfile(outcome).utf8), to: path) }
    }
    let status = writeFailed ? 2 : outcome.exitStatus
    if status != 0 { throw ExitCode(status) }
}
