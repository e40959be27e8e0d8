import ArgumentParser
import Compare
import ContainerShim
import Foundation
import Jobs
import MVMCore
import VMM

extension MVM {
    struct Compare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure the micro-VM and its equivalent container side by side, many times, with statistics.",
            discussion: """
                Contenders: vm (the micro-VM through libvirt), container (the same rootfs and /init through \
                the OCI runtime), and, unless --no-reference, qemu-direct (the same guest as a plain QEMU \
                process) and runc-direct (a plain `runc run` of the same bundle); --stock adds vm-stock \
                (Debian's cloud kernel as an ordinary VM). Runs are interleaved in a shuffled order.
                """)

        @OptionGroup var common: CommonOptions
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var limits: LimitOptions

        @Option(name: [.customShort("n"), .long], parsing: .unconditional, help: "Measured runs per contender.")
        var runs = 10

        @Option(parsing: .unconditional, help: "Warm-up runs per contender, left out of the statistics.")
        var warmup = 1

        @Option(parsing: .unconditional, help: "Instances of a contender started at once per run (density).")
        var concurrency = 1

        @Option(help: "Accelerator of the VMs: auto, kvm or tcg.")
        var accel: AcceleratorRequest = .auto

        @Option(help: ArgumentHelp("OCI runtime: runc, crun, or a path.", valueName: "runtime"))
        var runtime = "runc"

        @Flag(name: .customLong("no-reference"), help: "Leave out the qemu-direct and runc-direct rows.")
        var noReference = false

        @Flag(help: "Add vm-stock: Debian's cloud kernel as an ordinary VM.")
        var stock = false

        @Option(help: "Seed of the run order.")
        var seed: UInt64 = 0x6D_766D

        @Option(name: .customLong("export-json"), help: ArgumentHelp("Write every sample, the statistics and the environment as JSON.", valueName: "file"))
        var exportJSON: String?

        @Option(name: .customLong("export-csv"), help: ArgumentHelp("Write the statistics as CSV.", valueName: "file"))
        var exportCSV: String?

        @Option(name: .customLong("export-markdown"), help: ArgumentHelp("Write the table and all statistics as Markdown.", valueName: "file"))
        var exportMarkdown: String?

        var plan: ComparisonPlan {
            ComparisonPlan(runs: runs, warmup: warmup, concurrency: concurrency, seed: seed)
        }

        func validate() throws {
            do { try plan.check() } catch { throw ValidationError(error.description + ".") }
            _ = try limits.limits(instancesAtOnce: concurrency)
            for path in [exportJSON, exportCSV, exportMarkdown].compactMap({ $0 }) {
                let directory = URL(fileURLWithPath: absolute(path)).deletingLastPathComponent().path
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                    throw ValidationError("cannot write \(path): \(directory) is not a directory.")
                }
            }
        }

        func run() async throws {
            common.bootstrapLogging()
            var request = ComparisonRequest(
                stateDirectory: common.state, images: .defaultLocation(),
                limits: try limits.limits(instancesAtOnce: concurrency), plan: plan)
            request.connectURI = connection.uri
            request.accelerator = accel
            request.runtime = RuntimeSelection(argument: runtime)
            request.includeReferences = !noReference
            request.includeStockVM = stock
            let job = try await ComparisonJob(request)

            let progress = ProgressBar(enabled: isatty(STDERR_FILENO) == 1)
            let report = await job.run { progress.show($0) }
            progress.clear()

            let rendering = ComparisonRendering(report)
            print(rendering.table())
            if let exportJSON { try writeAtomically(report.jsonData(), to: exportJSON) }
            if let exportCSV { try writeAtomically(Data(rendering.csv().utf8), to: exportCSV) }
            if let exportMarkdown { try writeAtomically(Data(rendering.markdown().utf8), to: exportMarkdown) }
            if report.summary.contenders.contains(where: { $0.failed > 0 }) {
                throw ExitCode(2)
            }
        }
    }
}
