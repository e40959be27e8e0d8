import ArgumentParser
import Compare
import ContainerShim
import Foundation
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

    @OptionGroup var accelerator: AcceleratorOption
    @OptionGroup var tcg: TCGOptions
    @OptionGroup var runtime: RuntimeOption
    @OptionGroup var tracing: TraceOptions
    @OptionGroup var readiness: ReadinessOption

    @Option(
        help: ArgumentHelp(
            "The micro-VM's kernel, in place of mvm's minimal vmlinux (qemu-direct boots it too).", valueName: "path"))
    var kernel: String?

    @Option(help: ArgumentHelp("The micro-VM's initramfs, in place of mvm's.", valueName: "path"))
    var initrd: String?

    @Option(
        name: .customLong("append"), parsing: .singleValue,
        help: ArgumentHelp("Extra kernel command-line argument of the VMs (repeatable).", valueName: "arg"))
    var kernelArguments: [String] = []

    @Option(help: "The micro-VM's QEMU machine type: microvm (ELF kernels) or pc (bzImage); default: from the kernel.")
    var machine: MachineType?

    @Option(
        help: ArgumentHelp(
            "The container's root filesystem, in place of mvm's (runc-direct runs it too); it must hold the command /init.",
            valueName: "path"))
    var rootfs: String?

    @Option(
        help: ArgumentHelp(
            "An OCI image (a layout directory, LAYOUT:TAG, or a `docker save` archive) as both the container and the micro-VM, each running its entrypoint and cmd under mvm's image init; never pulled.",
            valueName: "path"))
    var image: String?

    @Flag(
        name: .customLong("ready-exit"),
        help: "With --image: ready when the image's workload exits with status 0 (a run-to-completion job).")
    var readyExit = false

    @Option(
        help: ArgumentHelp(
            "The contenders, as a comma-separated list of vm, container, qemu-direct, runc-direct, vm-warm, vm-stock, gvisor, podman and docker (vm and container always), or default, or all (every one this host can run).",
            valueName: "list"))
    var contenders: String?

    @Flag(
        name: .customLong("no-reference"),
        help: "Leave out the qemu-direct and runc-direct rows (--contenders vm,container).")
    var noReference = false

    @Flag(help: "Add vm-stock: Debian's cloud kernel as an ordinary VM.")
    var stock = false

    @Flag(help: "Add vm-warm: micro-VMs created paused ahead of each request and resumed on it (a warm pool).")
    var warm = false

    /// `--contenders`, or the shorthands' selection.
    func contenderSelection(images: ImageSet) throws -> ContenderSelection {
        guard let contenders else { return ContenderSelection(references: !noReference, stock: stock, warm: warm) }
        do {
            return try ContenderSelection(
                parsing: contenders, stockKernelExists: FileManager.default.fileExists(atPath: images.stockKernel),
                usable: ContenderSelection.isInstalled)
        } catch {
            throw ValidationError(error.description + ".")
        }
    }

    @Option(help: "Seed of the run order.")
    var seed: UInt64 = 0x6D_766D

    @Option(
        help: ArgumentHelp(
            "What to measure: boot, isolation, workload, scaling, size, teardown, as a comma-separated list, or all.",
            valueName: "list"))
    var dimensions = "boot"

    @Option(
        name: .customLong("workload-runs"), parsing: .unconditional, help: "Runs per side of the workload dimension.")
    var workloadRuns = 5

    @Option(help: ArgumentHelp("Concurrency levels of the scaling dimension, ascending.", valueName: "levels"))
    var sweep = "1,2,4,8,16"

    @Option(
        name: .customLong("sweep-runs"), parsing: .unconditional,
        help: "Batches per level and side of the scaling dimension.")
    var sweepRuns = 2

    @Option(
        name: .customLong("sweep-memory-cap"), parsing: .unconditional,
        help: ArgumentHelp(
            "Stop raising a side's level once its summed PSS passes this many MiB.", valueName: "MiB"))
    var sweepMemoryCap: Int?

    @Option(
        name: .customLong("teardown-runs"), parsing: .unconditional, help: "Runs per side of the teardown dimension.")
    var teardownRuns = 5

    @Option(
        name: .customLong("export-json"),
        help: ArgumentHelp(
            "Write every sample, the statistics, the environment (and verdicts) as JSON.", valueName: "file"))
    var exportJSON: String?

    @Option(name: .customLong("export-csv"), help: ArgumentHelp("Write the statistics as CSV.", valueName: "file"))
    var exportCSV: String?

    @Option(
        name: .customLong("export-markdown"),
        help: ArgumentHelp("Write the table and all statistics as Markdown.", valueName: "file"))
    var exportMarkdown: String?

    /// The comparison as asked for, checked against this host (one probe).
    /// `recorded`: the run goes into the history, which keeps one trace per
    /// contender of every run.
    func request(
        common: CommonOptions, connection: ConnectionOptions, limits: LimitOptions, recorded: Bool = false
    ) async throws -> ComparisonRequest {
        var settings = ComparisonSettings(stateDirectory: common.state, images: .defaultLocation())
        settings.connectURI = connection.uri
        settings.memoryMiB = limits.memory
        settings.vcpus = limits.vcpus
        settings.timeoutSeconds = limits.timeout
        settings.accelerator = accelerator.accel
        settings.runtime = runtime.selection
        settings.runscPlatform = runtime.runscPlatform
        settings.contenders = try contenderSelection(images: settings.images)
        settings.translationCacheMiB = tcg.translationCache
        settings.trace = tracing.isOn || recorded
        settings.workload.kernel = kernel
        settings.workload.initrd = initrd
        settings.workload.kernelArguments = kernelArguments
        settings.workload.machine = machine
        settings.workload.rootfs = rootfs
        settings.workload.readyLine = try readiness.pattern()
        settings.workload.readyExit = readyExit
        if let image {
            settings.workload.image = try await preparedImage(image, state: common.state, images: settings.images)
        }
        settings.plan = ComparisonPlan(runs: runs, warmup: warmup, concurrency: concurrency, seed: seed)
        do {
            settings.dimensions.dimensions = try ComparisonDimension.parseList(dimensions)
            settings.dimensions.workloadRuns = workloadRuns
            settings.dimensions.sweep = try DimensionSettings.parseSweep(sweep)
            settings.dimensions.sweepRuns = sweepRuns
            settings.dimensions.sweepMemoryCapMiB = sweepMemoryCap
            settings.dimensions.teardownRuns = teardownRuns
            return try ComparisonRequest(checking: settings)
        } catch {
            throw usageError(error)
        }
    }

    func validate() throws {
        if contenders != nil && (noReference || stock || warm) {
            throw ValidationError(
                "--contenders names every contender: leave out --no-reference, --stock and --warm, which are its shorthands."
            )
        }
        _ = try contenderSelection(images: .defaultLocation())
        if let conflict = WorkloadImages.conflict(
            image: image != nil, initrd: initrd != nil, rootfs: rootfs != nil, readyLine: readiness.readyLine != nil,
            readyExit: readyExit)
        {
            throw ValidationError(conflict + ".")
        }
    }

    /// The result files, checked to land in existing directories.
    func files(htmlReport: String? = nil, prometheus: String? = nil) throws -> ResultFiles {
        try tracing.check()
        let files = ResultFiles(
            json: exportJSON, csv: exportCSV, markdown: exportMarkdown, htmlReport: htmlReport, prometheus: prometheus)
        do { try files.checkDirectories() } catch { throw ValidationError(error.description + ".") }
        return files
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
                (Debian's cloud kernel as an ordinary VM) and --warm adds vm-warm (micro-VMs from a warm \
                pool, resumed on request). --contenders LIST names them all at once (default, all). Runs \
                are interleaved in a shuffled order. \
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
            if history.label != nil && !history.record {
                throw ValidationError("--label names a recorded run: add --record.")
            }
        }

        func run() async throws {
            common.bootstrapLogging()
            let recorded = history.record || history.baseline != nil
            let request = try await comparison.request(
                common: common, connection: connection, limits: limits, recorded: recorded)
            // Checked whether or not the run is recorded: a mistyped option
            // is an error, not an option ignored.
            let historySettings = try history.settings()
            if history.record || history.baseline != nil {
                let nightly = NightlyRequest(comparison: request, history: historySettings, nightly: false)
                try await runNightly(
                    nightly,
                    files: try comparison.files(htmlReport: nightly.reportPath, prometheus: nightly.prometheusPath),
                    tracing: comparison.tracing)
                return
            }
            let files = try comparison.files(htmlReport: history.reportPath)
            let job = try await ComparisonJob(request)
            let session = MeasuringSession(announcesDimensions: request.dimensions.dimensions != [.boot])
            let report = await session.run(job.run(observer:)) { samples, startedAt in
                let report = await job.partialReport(samples: samples, startedAt: startedAt)
                print(ComparisonRendering(report).table())
                print("partial: interrupted; the figures above are those of the runs that completed")
                do { try files.write(report) } catch { printError(error) }
            }
            print(ComparisonRendering(report).table())
            try files.write(report)
            try comparison.tracing.write(report.tracedStarts)
            if let path = files.htmlReport { print("report: \(path)") }
            if report.summary.contenders.contains(where: { $0.failed > 0 }) || report.dimensions?.hasFailures == true {
                throw ExitCode(2)
            }
        }
    }
}

extension ComparisonReport {
    /// The traced starts, in contender order, for an OTLP file.
    var tracedStarts: [TracedStart] {
        contenders.compactMap { name in
            guard let traced = traces?[name], let trace = traced.trace else { return nil }
            return TracedStart(contender: name, requestedAt: traced.requestedAt, trace: trace)
        }
    }
}
