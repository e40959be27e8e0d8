import ArgumentParser
import Compare
import ContainerShim
import Foundation
import MVMCore
import Subprocess
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

        @Option(name: [.customShort("n"), .long], help: "Measured runs per contender.")
        var runs = 10

        @Option(help: "Warm-up runs per contender, left out of the statistics.")
        var warmup = 1

        @Option(help: "Instances of a contender started at once per run (density).")
        var concurrency = 1

        @Option(help: ArgumentHelp("Memory in MiB: the VM's RAM and the container's limit.", valueName: "MiB"))
        var memory = 128

        @Option(help: "vCPUs of the VM, CPUs of the container.")
        var vcpus = 1

        @Option(help: "Accelerator of the VMs: auto, kvm or tcg.")
        var accel: AcceleratorRequest = .auto

        @Option(help: ArgumentHelp("OCI runtime: runc, crun, or a path.", valueName: "runtime"))
        var runtime = "runc"

        @Option(help: ArgumentHelp("Seconds one instance may take to become ready.", valueName: "seconds"))
        var timeout = 60.0

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

        func validate() throws {
            guard runs >= 1 else { throw ValidationError("--runs must be at least 1.") }
            guard warmup >= 0 else { throw ValidationError("--warmup cannot be negative.") }
            guard (1...16).contains(concurrency) else { throw ValidationError("--concurrency must be between 1 and 16.") }
            guard memory >= 16 else { throw ValidationError("--memory \(memory) is too small: a guest needs at least 16 MiB.") }
            guard (1...64).contains(vcpus) else { throw ValidationError("--vcpus must be between 1 and 64.") }
            guard timeout > 0 else { throw ValidationError("--timeout must be a positive number of seconds.") }
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
            let images = ImageSet.defaultLocation()
            let startedAt = Date()

            var vmConfiguration = MicroVMConfiguration(
                connectURI: connection.uri, stateDirectory: common.state,
                kernelPath: images.minimalVmlinux, initrdPath: images.initramfs)
            vmConfiguration.memoryMiB = memory
            vmConfiguration.vcpus = vcpus
            vmConfiguration.accelerator = accel
            vmConfiguration.timeout = seconds(timeout)
            let vm = try await MicroVMLauncher(vmConfiguration)

            var containerConfiguration = ContainerConfiguration(stateDirectory: common.state, rootfsPath: images.rootfs)
            containerConfiguration.runtime = RuntimeSelection(argument: runtime)
            containerConfiguration.memoryMiB = memory
            containerConfiguration.vcpus = vcpus
            containerConfiguration.timeout = seconds(timeout)
            let container = try ContainerLauncher(containerConfiguration)

            var contenders = [Contender(name: "vm", launcher: vm), Contender(name: "container", launcher: container)]
            if !noReference {
                contenders.append(Contender(name: "qemu-direct", launcher: try DirectQEMULauncher(matching: vm)))
                contenders.append(Contender(name: "runc-direct", launcher: DirectRuncLauncher(matching: container)))
            }
            if stock {
                var stockConfiguration = vmConfiguration
                stockConfiguration.kernelPath = images.stockKernel
                contenders.append(Contender(name: "vm-stock", launcher: try await MicroVMLauncher(stockConfiguration)))
            }

            let plan = ComparisonPlan(runs: runs, warmup: warmup, concurrency: concurrency, seed: seed)
            let progress = ProgressBar(enabled: isatty(STDERR_FILENO) == 1)
            let samples = await ComparisonRunner(plan: plan, contenders: contenders).run { progress.show($0) }
            progress.clear()

            let host = HostFacts.probe()
            let versions = vm.versions()
            var toolVersions: [String: String] = [:]
            toolVersions["qemu"] = versions.hypervisor
            toolVersions["libvirt"] = versions.libvirt
            toolVersions["runtime"] = await container.runtimeVersion()
            let environment = EnvironmentFingerprint(
                hostKernel: host.kernelRelease, cpuModel: host.cpuModel, cores: host.cores, memoryBytes: host.memoryBytes,
                accelerator: vm.acceleratorChoice.accelerator.rawValue, acceleratorReason: vm.acceleratorChoice.reason,
                versions: toolVersions, images: images.manifestHashes(), mvmVersion: mvmVersion,
                gitCommit: await gitCommit(of: images.checkoutDirectory), startedAt: startedAt, finishedAt: Date())
            let report = ComparisonReport(
                environment: environment, plan: plan, contenders: contenders.map(\.name), samples: samples)
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

/// Writes a whole file or nothing: a temporary file renamed into place.
func writeAtomically(_ data: Data, to path: String) throws {
    do {
        try data.write(to: URL(fileURLWithPath: absolute(path)), options: .atomic)
    } catch {
        throw ValidationError("cannot write \(path): \(error.localizedDescription)")
    }
}

/// The commit of the checkout mvm was built from, or "unknown".
func gitCommit(of directory: String) async -> String {
    let result = try? await run(
        .name("git"), arguments: ["-C", directory, "rev-parse", "HEAD"], output: .string(limit: 256), error: .discarded)
    guard let result, result.terminationStatus.isSuccess else { return "unknown" }
    return result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// A one-line progress bar on stderr, only when stderr is a terminal.
struct ProgressBar: Sendable {
    let enabled: Bool

    func show(_ progress: ComparisonProgress) {
        guard enabled else { return }
        let width = 30
        let filled = progress.totalBatches == 0 ? 0 : width * progress.completedBatches / progress.totalBatches
        let eta = progress.remaining.map { " ETA " + clock($0) } ?? ""
        let failures = progress.failures > 0 ? ", \(progress.failures) failed" : ""
        let line = "\r[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            + "] \(progress.completedBatches)/\(progress.totalBatches) runs\(failures), \(clock(progress.elapsed)) elapsed\(eta)  "
        FileHandle.standardError.write(Data(line.utf8))
    }

    func clear() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    private func clock(_ duration: Duration) -> String {
        let total = Int(duration.seconds.rounded())
        return "\(total / 60):" + (total % 60 < 10 ? "0" : "") + "\(total % 60)"
    }
}
