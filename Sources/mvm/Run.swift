import ArgumentParser
import ContainerEngines
import ContainerShim
import Foundation
import MVMCore
import Reports

extension UserNamespaceMode: ExpressibleByArgument {}
extension EngineKind: ExpressibleByArgument {}

extension MVM {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Run the container equivalent of the micro-VM (same rootfs, same /init, same memory limit), report its phases and memory, remove it."
        )

        @OptionGroup var common: CommonOptions
        @OptionGroup var limits: LimitOptions
        @OptionGroup var instance: InstanceOptions
        @OptionGroup var interactive: InteractiveOptions

        @OptionGroup var runtime: RuntimeOption

        @Option(help: ArgumentHelp("Root filesystem (default: the rootfs from images/build.sh).", valueName: "path"))
        var rootfs: String?

        @Option(help: "User namespace: auto (where the host allows one; always for a non-root user), on or off.")
        var userns: UserNamespaceMode = .auto

        @Option(
            name: .customLong("env"), parsing: .singleValue,
            help: ArgumentHelp("Extra KEY=value for the container's environment (repeatable).", valueName: "KEY=value"))
        var environment: [String] = []

        @Flag(help: "Copy the container's stdout to stderr while it starts.")
        var console = false

        @Option(
            help: ArgumentHelp(
                "Run it through a container engine instead of the OCI runtime: podman or docker (mvm's contenders of the same name).",
                valueName: "engine"))
        var engine: EngineKind?

        @OptionGroup var tracing: TraceOptions
        @OptionGroup var readiness: ReadinessOption

        func validate() throws {
            if let engine {
                let refused = [
                    (instance.keep, "--keep"), (instance.dryRun, "--dry-run"), (instance.json, "--json"),
                    (interactive.isInteractive, "-i"),
                    (tracing.isOn, "--trace"), (userns != .auto, "--userns"), (console, "--console"),
                ].first { $0.0 }
                if let (_, option) = refused {
                    throw ValidationError(
                        "--engine \(engine.rawValue) runs, measures and removes one container: leave out \(option).")
                }
            }
            try interactive.check(instance)
            try tracing.check()
            if let bad = environment.first(where: { !$0.contains("=") || $0.hasPrefix("=") }) {
                throw ValidationError("--env \(bad) is not of the form KEY=value.")
            }
        }

        func run() async throws {
            common.bootstrapLogging()
            var configuration = ContainerConfiguration(
                stateDirectory: common.state, rootfsPath: absolutePath(rootfs ?? ImageSet.defaultLocation().rootfs))
            configuration.runtime = runtime.selection
            configuration.limits = try limits.checked()
            configuration.readiness = try readiness.rule()
            configuration.keep = instance.keep
            configuration.userNamespace = userns
            configuration.environment = environment + interactive.guestEnvironment
            configuration.terminal = interactive.isInteractive
            if console {
                configuration.outputEcho = { bytes in FileHandle.standardError.write(Data(bytes)) }
            }
            if let engine {
                try await runThroughEngine(engine, configuration: configuration)
                return
            }
            let launcher = try ContainerLauncher(configuration, host: .probe())
            if instance.dryRun {
                print(String(decoding: try launcher.describeSpec().jsonData(), as: UTF8.self))
                return
            }
            let container = try await tracing.isOn ? launcher.launchTraced() : launcher.launch()
            if interactive.isInteractive {
                let runtimeVersion = await launcher.runtimeVersion()
                try await attachConsole(
                    to: container, keep: instance.keep, stateOption: stateOption,
                    report: {
                        ContainerReport(
                            container: container, footprint: $0, launcher: launcher, runtimeVersion: runtimeVersion,
                            kept: false
                        ).summary()
                    },
                    kept: { keptInstructions(container: container) })
                return
            }
            let footprint = try await container.measureThenRelease(keep: instance.keep)
            let report = ContainerReport(
                container: container, footprint: footprint, launcher: launcher,
                runtimeVersion: await launcher.runtimeVersion(), kept: instance.keep)
            if let trace = container.boot.trace {
                try tracing.write([
                    TracedStart(contender: "container", requestedAt: container.boot.requestedAt, trace: trace)
                ])
            }
            if instance.json {
                print(try report.jsonText())
            } else {
                print(report.summary())
                if let trace = container.boot.trace { print(trace.summary()) }
                if instance.keep {
                    print(keptInstructions(container: container))
                }
            }
        }

        /// One container through Podman or Docker: measured, removed (and
        /// Docker's imported tree with it).
        private func runThroughEngine(_ kind: EngineKind, configuration: ContainerConfiguration) async throws {
            let launcher = try await EngineLauncher(kind, configuration: configuration, host: .probe())
            let footprint: Footprint
            let container: EngineContainer
            do {
                container = try await launcher.launch()
                do {
                    footprint = try await container.footprint()
                    try await container.stop()
                } catch {
                    try? await container.stop()
                    throw error
                }
            } catch {
                await launcher.drain()
                throw error
            }
            await launcher.drain()
            print(
                container.summary(
                    footprint: footprint, version: await launcher.engine.version(), limits: configuration.limits))
        }

        private func keptInstructions(container: Container) -> String {
            [
                "kept running: \(container.name)",
                "  inspect:     \(container.runtimePath) --root \(container.runtimeStateRoot) state \(container.name)",
                "  remove:      mvm destroy \(container.name)\(stateOption)",
            ].joined(separator: "\n")
        }

        /// The state directory as given, for the commands that find the
        /// container again.
        private var stateOption: String {
            common.stateDirectory.map { " --state-dir '\($0)'" } ?? ""
        }
    }
}
