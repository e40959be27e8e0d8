import ArgumentParser
import Foundation
import Logging
import MVMCore
import VMM

extension AcceleratorRequest: ExpressibleByArgument {}
extension MachineType: ExpressibleByArgument {}
extension ConsoleTransport: ExpressibleByArgument {}

/// Options every subcommand shares.
struct CommonOptions: ParsableArguments {
    @Option(
        name: .customLong("state-dir"),
        help: ArgumentHelp(
            "Where mvm keeps libvirt's embedded root, consoles and bundles (default: $MVM_STATE_DIR, /var/lib/mvm for root).",
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

/// What every instance is given, VM or container alike: `mvm boot`, `mvm
/// run` and `mvm compare` share them. Values are read even when they look
/// like options (`--memory -5`), so that a wrong number is called wrong
/// rather than missing.
struct LimitOptions: ParsableArguments {
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Memory in MiB: the VM's RAM and the container's memory limit.", valueName: "MiB"))
    var memory = 128

    @Option(parsing: .unconditional, help: "vCPUs of the VM; the container's CPU quota and cpuset, in CPUs.")
    var vcpus = 1

    @Option(parsing: .unconditional, help: ArgumentHelp("Seconds an instance may take to print its readiness line.", valueName: "seconds"))
    var timeout = 60.0

    func validate() throws {
        _ = try limits()
    }

    /// The limits, checked against this host for `instancesAtOnce`
    /// instances running together.
    func limits(instancesAtOnce: Int = 1) throws -> InstanceLimits {
        do {
            return try InstanceLimits.checked(
                memoryMiB: memory, vcpus: vcpus, timeoutSeconds: timeout, instancesAtOnce: instancesAtOnce)
        } catch {
            throw ValidationError(error.description + ".")
        }
    }
}

/// Output and lifetime options of `mvm boot` and `mvm run`.
struct InstanceOptions: ParsableArguments {
    @Flag(help: "Leave the instance running; print how to reach and remove it.")
    var keep = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Flag(name: .customLong("dry-run"), help: "Print what would be started (domain XML, config.json) and start nothing.")
    var dryRun = false

    func validate() throws {
        if dryRun && keep { throw ValidationError("--dry-run starts nothing, so --keep has nothing to keep.") }
    }
}

/// What only a TCG guest has: QEMU's translation cache.
struct TCGOptions: ParsableArguments {
    @Option(name: .customLong("tb-size"), parsing: .unconditional, help: ArgumentHelp(
        "TCG's translation cache of the VMs in MiB (QEMU's tb-size); 0: QEMU's default (1 GiB reserved).", valueName: "MiB"))
    var translationCacheMiB = MicroVMConfiguration.defaultTranslationCacheMiB ?? 0

    var translationCache: Int? { translationCacheMiB == 0 ? nil : translationCacheMiB }

    func validate() throws {
        guard (0...4096).contains(translationCacheMiB) else {
            throw ValidationError("--tb-size \(translationCacheMiB) is invalid: give 1 to 4096 MiB, or 0 for QEMU's default.")
        }
    }
}

/// Makes a path given on the command line absolute (libvirt needs that).
func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
}

/// Writes a whole file or nothing, readable by its owner only (results
/// name the host, its kernel and its CPU).
func writeAtomically(_ data: Data, to path: String) throws {
    try writeFileAtomically(data, to: absolute(path))
}
