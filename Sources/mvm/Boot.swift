import ArgumentParser
import Foundation
import Logging
import MVMCore
import Reports
import VMM

extension MVM {
    struct Boot: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Boot a micro-VM, wait for its readiness line, report its boot phases and memory, destroy it.")

        @OptionGroup var common: CommonOptions
        @OptionGroup var connection: ConnectionOptions

        @Option(
            help: ArgumentHelp("Guest kernel (default: the minimal vmlinux from images/build.sh).", valueName: "path"))
        var kernel: String?

        @Option(help: ArgumentHelp("Initramfs (default: the one from images/build.sh).", valueName: "path"))
        var initrd: String?

        @Option(help: "QEMU machine type: microvm (ELF kernels) or pc (bzImage); default: chosen from the kernel.")
        var machine: MachineType?

        @OptionGroup var limits: LimitOptions
        @OptionGroup var instance: InstanceOptions
        @OptionGroup var interactive: InteractiveOptions
        @OptionGroup var tcg: TCGOptions
        @OptionGroup var accelerator: AcceleratorOption

        @Option(
            name: .customLong("append"), parsing: .singleValue,
            help: ArgumentHelp("Extra kernel command-line argument (repeatable).", valueName: "arg"))
        var kernelArguments: [String] = []

        @Option(
            name: .customLong("console-transport"),
            help:
                "How to read the guest console: socket (local domains), stream (libvirt's console stream, for remote URIs), auto."
        )
        var consoleTransport: ConsoleTransport = .auto

        @Option(
            help: ArgumentHelp(
                "The QEMU binary libvirt runs (its <emulator>; default: mvm's choice for the accelerator).",
                valueName: "path"))
        var emulator: String?

        @Flag(help: "Stream the guest console to stderr while it boots.")
        var console = false

        @OptionGroup var tracing: TraceOptions
        @OptionGroup var readiness: ReadinessOption

        func validate() throws {
            try interactive.check(instance)
            try tracing.check()
        }

        func run() async throws {
            common.bootstrapLogging()
            let images = ImageSet.defaultLocation()
            var configuration = MicroVMConfiguration(
                connectURI: connection.uri, stateDirectory: common.state,
                kernelPath: absolutePath(kernel ?? images.minimalVmlinux),
                initrdPath: absolutePath(initrd ?? images.initramfs))
            configuration.machine = machine
            configuration.emulator = emulator.map(absolutePath)
            configuration.limits = try limits.checked()
            configuration.readiness = try readiness.rule()
            configuration.accelerator = accelerator.accel
            configuration.extraKernelArguments = kernelArguments + interactive.guestEnvironment
            configuration.translationCacheMiB = tcg.translationCache
            configuration.keep = instance.keep
            configuration.consoleTransport = consoleTransport
            if console {
                configuration.consoleEcho = { bytes in FileHandle.standardError.write(Data(bytes)) }
            }
            let launcher = try await MicroVMLauncher(configuration)
            if instance.dryRun {
                print(launcher.describeDomain().xml(), terminator: "")
                return
            }
            let vm = try await tracing.isOn ? launcher.launchTraced() : launcher.launch()
            if interactive.isInteractive {
                try await attachConsole(
                    to: vm, keep: instance.keep, stateOption: whereOptions,
                    report: { MicroVMReport(vm: vm, footprint: $0, kept: false).summary() },
                    kept: { keptInstructions(vm: vm) })
                return
            }
            let footprint = try await vm.measureThenRelease(keep: instance.keep)
            let report = MicroVMReport(vm: vm, footprint: footprint, kept: instance.keep)
            if let trace = vm.boot.trace {
                try tracing.write([TracedStart(contender: "vm", requestedAt: vm.boot.requestedAt, trace: trace)])
            }
            if instance.json {
                print(try report.jsonText())
            } else {
                print(report.summary())
                if let trace = vm.boot.trace { print(trace.summary()) }
                if instance.keep {
                    print(keptInstructions(vm: vm))
                }
            }
        }

        private func keptInstructions(vm: MicroVM) -> String {
            var lines = ["kept running: \(vm.name) on \(vm.uri)"]
            if let log = vm.description.consoleLogPath { lines.append("  console log: tail -f \(log)") }
            lines.append("  inspect:     virsh -c '\(vm.uri)' dominfo \(vm.name)")
            if case .libvirtStream = vm.description.console, interactive.isInteractive {
                lines.append("  console:     mvm console \(vm.name)\(whereOptions)")
            }
            lines.append("  destroy:     mvm destroy \(vm.name)\(whereOptions)")
            return lines.joined(separator: "\n")
        }

        /// The options that find the instance again, as given.
        private var whereOptions: String {
            var options = ""
            if let uri = connection.uri { options += " --connect '\(uri)'" }
            if let dir = common.stateDirectory { options += " --state-dir '\(dir)'" }
            return options
        }
    }
}
