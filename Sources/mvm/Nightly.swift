import ArgumentParser
import Compare
import Foundation
import History
import Jobs
import MVMCore
import Reports

/// Where the history is: `mvm compare`, `mvm nightly` and `mvm history`.
struct HistoryLocationOption: ParsableArguments {
    @Option(
        name: .customLong("history"),
        help: ArgumentHelp(
            "The history: a file, or a fleet's postgresql://user@host/db (default: $MVM_HISTORY, else <state-dir>/history.sqlite).",
            valueName: "file|url"))
    var path: String?
}

/// Where runs are kept and what they are judged against: shared by
/// `mvm compare` and `mvm nightly`.
struct HistoryOptions: ParsableArguments {
    @OptionGroup var location: HistoryLocationOption

    @Flag(help: "Keep this run in the history: every sample, the summary, the environment and the plan.")
    var record = false

    @Option(help: ArgumentHelp("Name the recorded run, to use it later as --baseline NAME.", valueName: "name"))
    var label: String?

    @Option(
        help: ArgumentHelp(
            "Judge the run against auto (the last good runs), a label or a run id; sets the exit status.",
            valueName: "auto|label|run-id"))
    var baseline: String?

    @Option(
        name: .customLong("report"),
        help: ArgumentHelp("Write the HTML report (verdicts, trends, distributions, phases).", valueName: "file"))
    var reportPath: String?

    @Option(
        name: .customLong("export-prometheus"),
        help: ArgumentHelp("Write a textfile for node_exporter's textfile collector.", valueName: "file"))
    var prometheusPath: String?

    @Option(
        name: .customLong("noise-floor"), parsing: .singleValue,
        help: ArgumentHelp(
            "A metric's noise floor in percent, e.g. ready=8 or pss=3 (default: 5 for times, 2 and 4 MiB for memory).",
            valueName: "metric=percent"))
    var noiseFloors: [String] = []

    @Option(
        name: .customLong("require-quiet"),
        help: ArgumentHelp("Refuse to measure (exit 2) when the one-minute load is above this.", valueName: "load"))
    var requireQuiet: Double?

    func validate() throws {
        if let requireQuiet, !(requireQuiet >= 0) {
            throw ValidationError("--require-quiet \(requireQuiet) is invalid: give a load of 0 or more.")
        }
        if let label, label.isEmpty || label == "auto" {
            throw ValidationError("--label \"\(label)\" is reserved: choose another name.")
        }
    }

    /// The settings as given, the noise floors parsed.
    func settings() throws -> HistorySettings {
        var settings = HistorySettings()
        settings.location = location.path
        settings.record = record
        settings.label = label
        settings.baseline = baseline
        settings.reportPath = reportPath
        settings.prometheusPath = prometheusPath
        settings.requireQuietLoad = requireQuiet
        for entry in noiseFloors {
            do { try settings.verdicts.setNoiseFloor(entry) } catch { throw ValidationError("--noise-floor \(error).") }
        }
        return settings
    }
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

        func run() async throws {
            common.bootstrapLogging()
            let request = NightlyRequest(
                comparison: try await comparison.request(
                    common: common, connection: connection, limits: limits, recorded: true),
                history: try history.settings(), nightly: true)
            // The default report and textfile go to a folder of mvm's own,
            // made here; a folder the user names must exist.
            let defaulted = [
                history.reportPath == nil ? request.reportPath : nil,
                history.prometheusPath == nil ? request.prometheusPath : nil,
            ]
            for path in defaulted.compactMap({ $0 }) {
                try? FileManager.default.createDirectory(
                    atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path,
                    withIntermediateDirectories: true)
            }
            try await runNightly(
                request,
                files: try comparison.files(htmlReport: request.reportPath, prometheus: request.prometheusPath),
                tracing: comparison.tracing)
        }
    }
}

/// Runs a recorded and judged comparison and writes everything it owes:
/// the verdict table and comparison table, the exports, the HTML report and
/// the textfile, in every case; then exits 0, 1 or 2.
func runNightly(_ request: NightlyRequest, files: ResultFiles, tracing: TraceOptions) async throws {
    let job: NightlyJob
    do {
        job = try await NightlyJob(request)
    } catch {
        printError(error)
        throw ExitCode(2)
    }
    let session = MeasuringSession(announcesDimensions: request.comparison.dimensions.dimensions != [.boot])
    let outcome = await session.run(job.run(observer:)) { samples, startedAt in
        let outcome = await job.interrupted(samples: samples, startedAt: startedAt)
        _ = finish(outcome, files: files, tracing: tracing)
    }
    let status = finish(outcome, files: files, tracing: tracing)
    if status != 0 { throw ExitCode(status) }
}

/// Prints an outcome and writes every file it owes; returns the exit
/// status (2 when a file could not be written).
private func finish(_ outcome: NightlyOutcome, files: ResultFiles, tracing: TraceOptions) -> Int32 {
    print(outcome.verdictTable())
    print("")
    print(ComparisonRendering(outcome.comparison).table())
    var failures = files.write(outcome)
    do { try tracing.write(outcome.comparison.tracedStarts) } catch { failures.append(error) }
    for failure in failures { printError(failure) }
    if let path = files.htmlReport { print("report: \(path)") }
    return failures.isEmpty ? outcome.exitStatus : 2
}
