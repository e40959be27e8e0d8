import ArgumentParser
import Compare
import ContainerShim
import Foundation
import History
import Jobs
import MVMCore
import Reports
import VMM

/// What `mvm compare` and `mvm nightly` measure, and where plain results go.
struct ComparisonOptions: ParsableArguments {
    @Option(name: [.customShort("n"), .long], parsing: .unconditional, help: "Measured runs per contender.")
    var runs = 10

    @Option(parsing: .unconditional, help: "Warm-up runs per contender, left out of the statistics.")
    var warmup = 1

    @Option(parsing: .unconditional, help: "Instances of a contender started at once per run (density).")
    var concurrency = 1

    @Option(help: "Accelerator of the VMs: auto, kvm or tcg.")
    var accel: AcceleratorRequest = .auto

    @OptionGroup var tcg: TCGOptions

    @Option(help: ArgumentHelp("OCI runtime: runc, crun, or a path.", valueName: "runtime"))
    var runtime = "runc"

    @Flag(name: .customLong("no-reference"), help: "Leave out the qemu-direct and runc-direct rows.")
    var noReference = false

    @Flag(help: "Add vm-stock: Debian's cloud kernel as an ordinary VM.")
    var stock = false

    @Flag(help: "Add vm-warm: micro-VMs created paused ahead of each request and resumed on it (a warm pool).")
    var warm = false

    @Option(help: "Seed of the run order.")
    var seed: UInt64 = 0x6D_766D

    @Option(help: ArgumentHelp(
        "What to measure: boot, isolation, workload, scaling, size, teardown, as a comma-separated list, or all.",
        valueName: "list"))
    var dimensions = "boot"

    @Option(name: .customLong("workload-runs"), parsing: .unconditional, help: "Runs per side of the workload dimension.")
    var workloadRuns = 5

    @Option(help: ArgumentHelp("Concurrency levels of the scaling dimension, ascending.", valueName: "levels"))
    var sweep = "1,2,4,8,16"

    @Option(name: .customLong("sweep-runs"), parsing: .unconditional, help: "Batches per level and side of the scaling dimension.")
    var sweepRuns = 2

    @Option(name: .customLong("sweep-memory-cap"), parsing: .unconditional, help: ArgumentHelp(
        "Stop raising a side's level once its summed PSS passes this many MiB.", valueName: "MiB"))
    var sweepMemoryCap: Int?

    @Option(name: .customLong("teardown-runs"), parsing: .unconditional, help: "Runs per side of the teardown dimension.")
    var teardownRuns = 5

    @Option(name: .customLong("export-json"), help: ArgumentHelp("Write every sample, the statistics, the environment (and verdicts) as JSON.", valueName: "file"))
    var exportJSON: String?

    @Option(name: .customLong("export-csv"), help: ArgumentHelp("Write the statistics as CSV.", valueName: "file"))
    var exportCSV: String?

    @Option(name: .customLong("export-markdown"), help: ArgumentHelp("Write the table and all statistics as Markdown.", valueName: "file"))
    var exportMarkdown: String?

    var plan: ComparisonPlan {
        ComparisonPlan(runs: runs, warmup: warmup, concurrency: concurrency, seed: seed)
    }

    var exportPaths: [String] { [exportJSON, exportCSV, exportMarkdown].compactMap { $0 } }

    func dimensionSettings() throws(LimitViolation) -> DimensionSettings {
        var settings = DimensionSettings()
        settings.dimensions = try ComparisonDimension.parseList(dimensions)
        settings.workloadRuns = workloadRuns
        settings.sweep = try DimensionSettings.parseSweep(sweep)
        settings.sweepRuns = sweepRuns
        settings.sweepMemoryCapMiB = sweepMemoryCap
        settings.teardownRuns = teardownRuns
        try settings.check()
        return settings
    }

    func validate() throws {
        do {
            try plan.check()
            _ = try dimensionSettings()
        } catch { throw ValidationError(error.description + ".") }
    }

    func request(common: CommonOptions, connection: ConnectionOptions, limits: LimitOptions) throws -> ComparisonRequest {
        var request = ComparisonRequest(
            stateDirectory: common.state, images: .defaultLocation(), limits: try limits.limits(instancesAtOnce: concurrency), plan: plan)
        request.connectURI = connection.uri
        request.accelerator = accel
        request.runtime = RuntimeSelection(argument: runtime)
        request.includeReferences = !noReference
        request.includeStockVM = stock
        request.includeWarmVM = warm
        request.translationCacheMiB = tcg.translationCache
        request.dimensions = try dimensionSettings()
        return request
    }
}

/// Every file a path option names must land in an existing directory:
/// checked before anything runs.
func checkWritableDirectories(_ paths: [String]) throws {
    for path in paths {
        let directory = URL(fileURLWithPath: absolute(path)).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("cannot write \(path): \(directory) is not a directory.")
        }
    }
}

extension MVM {
    struct Compare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure the micro-VM and its equivalent container side by side, many times, with statistics.",
            discussion: """
                Contenders: vm (the micro-VM through libvirt), container (the same rootfs and /init through \
                the OCI runtime), and, unless --no-reference, qemu-direct (the same guest as a plain QEMU \
                process) and runc-direct (a plain `runc run` of the same bundle); --stock adds vm-stock \
                (Debian's cloud kernel as an ordinary VM). Runs are interleaved in a shuffled order. \
                With --record or --baseline the run is kept in, or judged against, the history \
                (see `mvm nightly`); the exit status is then 0 (ok), 1 (confirmed regression) or 2 (the \
                job failed).
                """)

        @OptionGroup var common: CommonOptions
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var limits: LimitOptions
        @OptionGroup var comparison: ComparisonOptions
        @OptionGroup var history: HistoryOptions

        func validate() throws {
            _ = try limits.limits(instancesAtOnce: comparison.concurrency)
            try checkWritableDirectories(comparison.exportPaths + history.outputPaths)
            if history.label != nil && !history.record {
                throw ValidationError("--label names a recorded run: add --record.")
            }
        }

        func run() async throws {
            common.bootstrapLogging()
            let request = try comparison.request(common: common, connection: connection, limits: limits)
            if history.record || history.baseline != nil {
                try await runNightly(
                    request, history: history.resolved(state: common.state, nightly: false), comparison: comparison)
                return
            }
            let job = try await ComparisonJob(request)
            let progress = ProgressBar(enabled: isatty(STDERR_FILENO) == 1)
            let log = SampleLog()
            let startedAt = Date()
            let comparison = self.comparison
            InterruptHandling.onInterrupt {
                progress.clear()
                let report = await job.partialReport(samples: log.snapshot, startedAt: startedAt)
                print(ComparisonRendering(report).table())
                print("partial: interrupted; the figures above are those of the runs that completed")
                do { try writeComparisonExports(report, verdicts: nil, comparison) } catch {
                    FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
                }
            }
            let report = await job.run(log: log, progress: { progress.show($0) }) { dimension in
                guard request.dimensions.dimensions != [.boot] else { return }
                progress.clear()
                FileHandle.standardError.write(Data("measuring \(dimension.rawValue)\n".utf8))
            }
            InterruptHandling.onInterrupt(nil)
            progress.clear()

            let rendering = ComparisonRendering(report)
            print(rendering.table())
            try writeComparisonExports(report, verdicts: nil, comparison)
            if let path = history.reportPath {
                try writeAtomically(Data(renderComparisonHTML(report).utf8), to: path)
                print("report: \(path)")
            }
            if report.summary.contenders.contains(where: { $0.failed > 0 }) || report.dimensions?.hasFailures == true {
                throw ExitCode(2)
            }
        }
    }
}

/// The JSON, CSV and Markdown exports of a comparison.
func writeComparisonExports(_ report: ComparisonReport, verdicts: NightlyOutcome?, _ options: ComparisonOptions) throws {
    let rendering = ComparisonRendering(report)
    if let path = options.exportJSON {
        let data = try verdicts.map { try mvmJSONData(ReportWithVerdicts(outcome: $0)) } ?? report.jsonData()
        try writeAtomically(data, to: path)
    }
    if let path = options.exportCSV { try writeAtomically(Data(rendering.csv().utf8), to: path) }
    if let path = options.exportMarkdown { try writeAtomically(Data(rendering.markdown().utf8), to: path) }
}

/// The comparison's JSON (schema 1) with the run, its host and plan
/// identity, its conditions and its verdicts added at the top level.
struct ReportWithVerdicts: Encodable {
    let outcome: NightlyOutcome

    enum Keys: String, CodingKey { case run, host, planIdentity, conditions, baseline, verdicts, failures, exitStatus }

    func encode(to encoder: any Encoder) throws {
        try outcome.comparison.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(outcome.run, forKey: .run)
        try container.encode(outcome.host, forKey: .host)
        try container.encode(outcome.plan, forKey: .planIdentity)
        try container.encode(outcome.conditions, forKey: .conditions)
        try container.encode(outcome.baseline, forKey: .baseline)
        try container.encode(outcome.verdicts, forKey: .verdicts)
        try container.encode(outcome.failures, forKey: .failures)
        try container.encode(outcome.exitStatus, forKey: .exitStatus)
    }
}
