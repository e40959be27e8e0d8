import ArgumentParser
import Compare
import ContainerShim
import Foundation
import Jobs
import MVMCore
import Reports
import VMM

extension MVM {
    struct AB: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ab",
            abstract: "Measure one contender in two configurations, A and B, interleaved, and say whether B differs.",
            discussion: """
                The micro-VM by default (two kernels, command lines, initramfs images or QEMU binaries), or \
                with --container the container (two root filesystems or runtimes). Options a side does not \
                give are mvm's defaults. Each metric is judged as Firecracker's A/B tests judge: a \
                permutation test of the means (9,999 resamples), p < 0.01, and a change past the metric's \
                threshold (5 % unless --threshold). Exit status: 0 when B did not regress, 1 when it did, 2 \
                when runs failed.
                """)

        @OptionGroup var common: CommonOptions
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var limits: LimitOptions
        @OptionGroup var accelerator: AcceleratorOption
        @OptionGroup var tcg: TCGOptions
        @OptionGroup var readiness: ReadinessOption

        @Flag(help: "Measure the container in two configurations instead of the micro-VM.")
        var container = false

        @Option(name: .customLong("a-kernel"), help: ArgumentHelp("A's guest kernel.", valueName: "path"))
        var aKernel: String?
        @Option(name: .customLong("b-kernel"), help: ArgumentHelp("B's guest kernel.", valueName: "path"))
        var bKernel: String?
        @Option(name: .customLong("a-initrd"), help: ArgumentHelp("A's initramfs.", valueName: "path"))
        var aInitrd: String?
        @Option(name: .customLong("b-initrd"), help: ArgumentHelp("B's initramfs.", valueName: "path"))
        var bInitrd: String?
        @Option(
            name: .customLong("a-append"), parsing: .singleValue,
            help: ArgumentHelp("An extra kernel argument of A (repeatable).", valueName: "arg"))
        var aAppend: [String] = []
        @Option(
            name: .customLong("b-append"), parsing: .singleValue,
            help: ArgumentHelp("An extra kernel argument of B (repeatable).", valueName: "arg"))
        var bAppend: [String] = []
        @Option(name: .customLong("a-machine"), help: "A's QEMU machine type (microvm or pc).")
        var aMachine: MachineType?
        @Option(name: .customLong("b-machine"), help: "B's QEMU machine type (microvm or pc).")
        var bMachine: MachineType?
        @Option(name: .customLong("a-emulator"), help: ArgumentHelp("A's QEMU binary.", valueName: "path"))
        var aEmulator: String?
        @Option(name: .customLong("b-emulator"), help: ArgumentHelp("B's QEMU binary.", valueName: "path"))
        var bEmulator: String?
        @Option(
            name: .customLong("a-tb-size"),
            help: ArgumentHelp("A's TCG translation cache (0: QEMU's default).", valueName: "MiB"))
        var aTBSize: Int?
        @Option(
            name: .customLong("b-tb-size"),
            help: ArgumentHelp("B's TCG translation cache (0: QEMU's default).", valueName: "MiB"))
        var bTBSize: Int?
        @Option(name: .customLong("a-rootfs"), help: ArgumentHelp("A's container root filesystem.", valueName: "path"))
        var aRootfs: String?
        @Option(name: .customLong("b-rootfs"), help: ArgumentHelp("B's container root filesystem.", valueName: "path"))
        var bRootfs: String?
        @Option(name: .customLong("a-runtime"), help: ArgumentHelp("A's OCI runtime.", valueName: "runtime"))
        var aRuntime: String?
        @Option(name: .customLong("b-runtime"), help: ArgumentHelp("B's OCI runtime.", valueName: "runtime"))
        var bRuntime: String?
        @Option(
            name: .customLong("a-image"),
            help: ArgumentHelp("A's OCI image (a layout, LAYOUT:TAG, or a `docker save` archive).", valueName: "path"))
        var aImage: String?
        @Option(
            name: .customLong("b-image"),
            help: ArgumentHelp("B's OCI image (a layout, LAYOUT:TAG, or a `docker save` archive).", valueName: "path"))
        var bImage: String?
        @Flag(
            name: .customLong("ready-exit"),
            help: "With images: ready when the image's workload exits with status 0 (a run-to-completion job).")
        var readyExit = false

        @Option(
            name: .customLong("threshold"), parsing: .singleValue,
            help: ArgumentHelp(
                "A metric's noise threshold in percent, e.g. ready=2 (repeatable; default 5 for every metric).",
                valueName: "metric=percent"))
        var thresholdArguments: [String] = []

        @Option(name: [.customShort("n"), .customLong("runs")], help: "Measured runs per side.")
        var runs = 10
        @Option(help: "Warm-up runs per side, left out of the statistics.")
        var warmup = 1
        @Option(help: "Seed of the run order and of the permutation test.")
        var seed: UInt64 = 0x6D_766D

        @Option(name: .customLong("export-json"), help: ArgumentHelp("Write the report as JSON.", valueName: "file"))
        var exportJSON: String?
        @Option(
            name: .customLong("export-markdown"), help: ArgumentHelp("Write the table as Markdown.", valueName: "file"))
        var exportMarkdown: String?
        @Option(name: .customLong("report"), help: ArgumentHelp("Write the HTML report.", valueName: "file"))
        var report: String?

        /// `ready=2` as ("ready", 0.02).
        func thresholds() throws -> [String: Double] {
            var thresholds: [String: Double] = [:]
            let metrics = Set(ComparisonSummary.metricOrder.map(\.name))
            for argument in thresholdArguments {
                let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let percent = Double(parts[1]), percent.isFinite, (0..<100).contains(percent)
                else {
                    throw ValidationError(
                        "--threshold \(argument) is not of the form metric=percent (a percent from 0 to 100, e.g. ready=2)."
                    )
                }
                guard metrics.contains(parts[0]) else {
                    throw ValidationError(
                        "--threshold \(argument) names no metric: use one of \(ComparisonSummary.metricOrder.map(\.name).joined(separator: ", "))."
                    )
                }
                thresholds[parts[0]] = percent / 100
            }
            return thresholds
        }

        var files: ResultFiles { ResultFiles(json: exportJSON, markdown: exportMarkdown, htmlReport: report) }

        func validate() throws {
            _ = try thresholds()
            for (name, size) in [("a", aTBSize), ("b", bTBSize)] {
                if let size, !(0...4096).contains(size) {
                    throw ValidationError(
                        "--\(name)-tb-size \(size) is invalid: give 1 to 4096 MiB, or 0 for QEMU's default.")
                }
            }
            if runs < ABAnalysis.fewestRuns {
                throw ValidationError(
                    "-n \(runs) is too few: with \(runs) runs a side no permutation test reaches p < \(formatDecimal(ABAnalysis.alpha, places: 2)) (its smallest p is \(ABAnalysis.formatP(ABAnalysis.smallestPValue(runs: runs)))); use -n \(ABAnalysis.fewestRuns) or more."
                )
            }
            if let conflict = WorkloadImages.conflict(
                image: aImage != nil || bImage != nil,
                initrd: (aImage != nil && aInitrd != nil) || (bImage != nil && bInitrd != nil),
                rootfs: (aImage != nil && aRootfs != nil) || (bImage != nil && bRootfs != nil),
                readyLine: readiness.readyLine != nil, readyExit: readyExit)
            {
                throw ValidationError(conflict.replacing("--image", with: "an --a-image or --b-image") + ".")
            }
            do { try files.checkDirectories() } catch { throw ValidationError(error.description + ".") }
        }

        func run() async throws {
            common.bootstrapLogging()
            var settings = ComparisonSettings(stateDirectory: common.state, images: .defaultLocation())
            settings.connectURI = connection.uri
            settings.memoryMiB = limits.memory
            settings.vcpus = limits.vcpus
            settings.timeoutSeconds = limits.timeout
            settings.accelerator = accelerator.accel
            settings.translationCacheMiB = tcg.translationCache
            settings.contenders = ContenderSelection(names: [.vm, .container])
            settings.workload.readyLine = try readiness.pattern()
            settings.workload.readyExit = readyExit
            settings.plan = ComparisonPlan(runs: runs, warmup: warmup, concurrency: 1, seed: seed)
            let request: ComparisonRequest
            do { request = try ComparisonRequest(checking: settings) } catch { throw usageError(error) }
            var a = ABSide()
            (a.kernel, a.initrd, a.append, a.machine, a.emulator, a.rootfs, a.runtime) = (
                aKernel, aInitrd, aAppend, aMachine, aEmulator, aRootfs, aRuntime
            )
            var b = ABSide()
            (b.kernel, b.initrd, b.append, b.machine, b.emulator, b.rootfs, b.runtime) = (
                bKernel, bInitrd, bAppend, bMachine, bEmulator, bRootfs, bRuntime
            )
            (a.translationCacheMiB, b.translationCacheMiB) = (aTBSize, bTBSize)
            if let aImage { a.image = try await preparedImage(aImage, state: common.state, images: settings.images) }
            if let bImage { b.image = try await preparedImage(bImage, state: common.state, images: settings.images) }
            let job: ABJob
            do {
                job = try await ABJob(
                    request, subject: container ? .container : .vm, a: a, b: b, thresholds: try thresholds())
            } catch let error as ABRequestError {
                throw ValidationError(error.description + ".")
            } catch {
                // Exit status 1 means that B regressed: a side that cannot
                // start is the job's failure, 2.
                printError(error)
                throw ExitCode(2)
            }
            let session = MeasuringSession(announcesDimensions: false)
            let outcome = await session.run(job.run(observer:)) { samples, startedAt in
                let partial = await job.partialReport(samples: samples, startedAt: startedAt)
                print(ABRendering(partial).table())
                print("partial: interrupted; the figures above are those of the runs that completed")
            }
            print(ABRendering(outcome).table())
            try files.write(outcome)
            if let report { print("report: \(report)") }
            if outcome.hasFailures { throw ExitCode(2) }
            if outcome.bRegressed { throw ExitCode(1) }
        }
    }
}
