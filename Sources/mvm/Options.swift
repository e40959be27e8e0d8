import ArgumentParser
import ContainerShim
import Foundation
import Jobs
import Logging
import MVMCore
import OCIImages
import Reports
import VMM

extension AcceleratorRequest: ExpressibleByArgument {}
extension MachineType: ExpressibleByArgument {}
extension ConsoleTransport: ExpressibleByArgument {}

/// Options every subcommand shares.
struct CommonOptions: ParsableArguments {
    @Option(
        name: .customLong("state-dir"),
        help: ArgumentHelp(
            "Where mvm keeps libvirt's embedded root, consoles, bundles and the history (default: $MVM_STATE_DIR, /var/lib/mvm for root).",
            valueName: "dir"))
    var stateDirectory: String?

    @Flag(name: .shortAndLong, help: "Log what mvm does to stderr.")
    var verbose = false

    var state: StateDirectory {
        stateDirectory.map(StateDirectory.init(path:)) ?? .defaultLocation()
    }

    /// Sets up logging and interrupt handling, and warns about orphans.
    func bootstrapLogging(checkOrphans: Bool = true) {
        InterruptHandling.install()
        if checkOrphans { warnAboutOrphans(in: state) }
        let level: Logger.Level = verbose ? .debug : .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// Options that say where libvirt is.
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: .customLong("connect"),
        help: ArgumentHelp(
            "libvirt URI, e.g. qemu:///system (default: the embedded driver, qemu:///embed?root=<state-dir>/libvirt).",
            valueName: "uri"))
    var uri: String?
}

/// The VMs' accelerator: `mvm boot`, `mvm compare` and `mvm nightly`.
struct AcceleratorOption: ParsableArguments {
    @Option(help: "Accelerator of the VMs: auto (KVM where the host can run a standard guest, else TCG), kvm or tcg.")
    var accel: AcceleratorRequest = .auto
}

/// The containers' OCI runtime: `mvm run`, `mvm compare` and `mvm nightly`.
struct RuntimeOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "OCI runtime: runc, crun, runsc (gVisor), or the path of another OCI runtime binary.", valueName: "runtime")
    )
    var runtime = "runc"

    @Option(
        name: .customLong("runsc-platform"),
        help: ArgumentHelp(
            "gVisor's platform (how its kernel takes system calls): ptrace, kvm or systrap, where the installed runsc has it; for --runtime runsc and the gvisor contender.",
            valueName: "platform"))
    var runscPlatform = RuntimeSelection.defaultRunscPlatform

    var selection: RuntimeSelection { RuntimeSelection(argument: runtime, runscPlatform: runscPlatform) }

    func validate() throws {
        guard RunscPlatforms.known.contains(runscPlatform) else {
            throw ValidationError(
                "--runsc-platform \(runscPlatform) is not a gVisor platform: use \(RunscPlatforms.known.reversed().joined(separator: ", "))."
            )
        }
    }
}

/// What every instance is given, VM or container alike: `mvm boot`, `mvm
/// run` and `mvm compare` share them. Values are read even when they look
/// like options (`--memory -5`), so that a wrong number is called wrong
/// rather than missing. They are checked against the host once, by
/// `checked()` or by the comparison's request.
struct LimitOptions: ParsableArguments {
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Memory in MiB: the VM's RAM and the container's memory limit.", valueName: "MiB"))
    var memory = InstanceLimits.standard.memoryMiB

    @Option(parsing: .unconditional, help: "vCPUs of the VM; the container's CPU quota and cpuset, in CPUs.")
    var vcpus = InstanceLimits.standard.vcpus

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Seconds an instance may take to print its readiness line.", valueName: "seconds"))
    var timeout = InstanceLimits.standard.timeout.seconds

    /// The limits of one instance, checked against this host.
    func checked() throws -> InstanceLimits {
        do {
            return try InstanceLimits.checked(memoryMiB: memory, vcpus: vcpus, timeoutSeconds: timeout, host: .probe())
        } catch {
            throw usageError(error)
        }
    }
}

/// Output and lifetime options of `mvm boot` and `mvm run`.
struct InstanceOptions: ParsableArguments {
    @Flag(help: "Leave the instance running; print how to reach and remove it.")
    var keep = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Flag(
        name: .customLong("dry-run"), help: "Print what would be started (domain XML, config.json) and start nothing.")
    var dryRun = false

    func validate() throws {
        if dryRun && keep { throw ValidationError("--dry-run starts nothing, so --keep has nothing to keep.") }
    }
}

/// `mvm boot -it` and `mvm run -it`: a shell in the instance on this
/// terminal (the VM's serial console, the container's own terminal).
struct InteractiveOptions: ParsableArguments {
    @Flag(
        name: [.customShort("i"), .customLong("interactive")],
        help:
            "Once ready, hand this terminal to a shell in the instance, on its console (Ctrl-] detaches); without a terminal, pipe stdin and stdout."
    )
    var interactive = false

    @Flag(
        name: .customShort("t"),
        help: ArgumentHelp("The same as -i, so that -it works as in docker.", visibility: .hidden))
    var terminal = false

    var isInteractive: Bool { interactive || terminal }

    /// What the instance's init reads (the VM's kernel arguments, the
    /// container's environment): a shell after the readiness line, fed by a
    /// pipe when stdin is not a terminal.
    var guestEnvironment: [String] {
        guard isInteractive else { return [] }
        return isatty(STDIN_FILENO) == 1 ? ["mvm_mode=shell"] : ["mvm_mode=shell", "mvm_input=pipe"]
    }

    /// Checked against the instance's own output options.
    func check(_ instance: InstanceOptions) throws {
        if isInteractive && instance.dryRun {
            throw ValidationError("--dry-run starts nothing, so --interactive has no console to attach.")
        }
        if isInteractive && instance.json {
            throw ValidationError("--interactive hands stdout to the console: leave out --json.")
        }
    }
}

/// What only a TCG guest has: QEMU's translation cache.
struct TCGOptions: ParsableArguments {
    @Option(
        name: .customLong("tb-size"), parsing: .unconditional,
        help: ArgumentHelp(
            "TCG's translation cache of the VMs in MiB (QEMU's tb-size); 0: QEMU's default (1 GiB reserved).",
            valueName: "MiB"))
    var translationCacheMiB = MicroVMConfiguration.defaultTranslationCacheMiB ?? 0

    var translationCache: Int? { translationCacheMiB == 0 ? nil : translationCacheMiB }

    func validate() throws {
        guard (0...4096).contains(translationCacheMiB) else {
            throw ValidationError(
                "--tb-size \(translationCacheMiB) is invalid: give 1 to 4096 MiB, or 0 for QEMU's default.")
        }
    }
}

/// A setting the libraries refused, as a usage error (exit 64) that names
/// the option the user typed.
func usageError(_ violation: LimitViolation) -> ValidationError {
    ValidationError(violation.description(naming: optionName) + ".")
}

/// How the command line spells each setting.
private func optionName(_ setting: Setting) -> String {
    switch setting {
    case .memory: "--memory"
    case .vcpus: "--vcpus"
    case .timeout: "--timeout"
    case .runs: "--runs"
    case .warmup: "--warmup"
    case .concurrency: "--concurrency"
    case .dimensions: "--dimensions"
    case .workloadRuns: "--workload-runs"
    case .workloadSizes: "workload sizes"
    case .sweep: "--sweep"
    case .sweepRuns: "--sweep-runs"
    case .sweepMemoryCap: "--sweep-memory-cap"
    case .teardownRuns: "--teardown-runs"
    }
}

/// `--trace` and `--export-otlp`: `mvm boot`, `mvm run` and `mvm compare`.
struct TraceOptions: ParsableArguments {
    @Flag(
        help: ArgumentHelp(
            "Trace where a start spends its time: libvirt's steps, QEMU, the guest kernel's console lines (printk.time=1), the init's steps, the OCI runtime's debug log. Add --append initcall_debug --append loglevel=8 for the kernel's initcalls."
        ))
    var trace = false

    @Option(
        name: .customLong("export-otlp"),
        help: ArgumentHelp(
            "Write the traces as OpenTelemetry spans (OTLP JSON) to this file; implies --trace.", valueName: "file"))
    var otlpPath: String?

    var isOn: Bool { trace || otlpPath != nil }

    /// Checks, before anything runs, that the OTLP file lands in an existing directory.
    func check() throws {
        guard let otlpPath else { return }
        do { try ResultFiles.checkDirectory(of: otlpPath) } catch { throw ValidationError(error.description + ".") }
    }

    /// Writes the OTLP file, whole or not at all, when one was asked for.
    func write(_ starts: [TracedStart]) throws {
        guard let otlpPath, !starts.isEmpty else { return }
        try ResultFiles.write(renderOTLPTraces(starts, host: ProcessInfo.processInfo.hostName), to: otlpPath)
    }
}

/// `--ready-line`: `mvm boot`, `mvm run`, `mvm compare`, `mvm nightly`, `mvm ab`.
struct ReadinessOption: ParsableArguments {
    @Option(
        name: .customLong("ready-line"),
        help: ArgumentHelp(
            "Ready at the first console or stdout line that matches this regular expression, for a workload that does not print mvm's readiness line (its guest facts are then unknown).",
            valueName: "regex"))
    var readyLine: String?

    /// The rule, the pattern compiled; a pattern that does not compile is
    /// a usage error.
    func rule() throws -> ReadinessRule {
        try pattern().map { .matching($0) } ?? .mvmLine
    }

    /// The pattern, compiled; nil without `--ready-line`.
    func pattern() throws -> ReadyLinePattern? {
        guard let readyLine else { return nil }
        do {
            return try ReadyLinePattern(readyLine)
        } catch {
            throw ValidationError(error.description + ".")
        }
    }

    func validate() throws {
        _ = try rule()
    }
}

/// `--image`, `--a-image`, `--b-image`: the image read, checked and
/// unpacked (once per digest); what is wrong with it is a usage error.
func preparedImage(_ argument: String, state: StateDirectory, images: ImageSet) async throws -> PreparedImage {
    do {
        return try await ImagePreparer(stateDirectory: state, images: images).prepare(ImageReference(argument))
    } catch {
        throw ValidationError(error.description + ".")
    }
}
