import ArgumentParser
import MVMCore
import VMM

extension AcceleratorRequest: ExpressibleByArgument {}
extension MachineType: ExpressibleByArgument {}
extension ConsoleTransport: ExpressibleByArgument {}

/// Options that say where libvirt is.
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: .customLong("connect"),
        help: ArgumentHelp(
            "libvirt URI, e.g. qemu:///system (default: the embedded driver, qemu:///embed?root=<state-dir>/libvirt).",
            valueName: "uri"))
    var uri: String?
}

extension CommonOptions {
    var state: StateDirectory {
        stateDirectory.map(StateDirectory.init(path:)) ?? .defaultLocation()
    }
}

/// Parses a number of seconds given on the command line.
func seconds(_ value: Double) -> Duration {
    .milliseconds(Int64((value * 1000).rounded()))
}

/// Options `mvm boot` and `mvm run` share: the same limits and the same
/// output, so that a VM and its container are asked for alike.
struct InstanceOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Memory in MiB (the guest's RAM, or the container's memory limit).", valueName: "MiB"))
    var memory = 128

    @Option(help: "Number of vCPUs (for a container: its CPU quota, in CPUs).")
    var vcpus = 1

    @Option(help: ArgumentHelp("Seconds to wait for the readiness line.", valueName: "seconds"))
    var timeout = 60.0

    @Flag(help: "Leave the instance running; print how to reach and remove it.")
    var keep = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Flag(name: .customLong("dry-run"), help: "Print what would be started (domain XML, config.json) and start nothing.")
    var dryRun = false

    func validate() throws {
        guard memory >= 4 else { throw ValidationError("--memory \(memory) is too small.") }
        guard (1...64).contains(vcpus) else { throw ValidationError("--vcpus must be between 1 and 64.") }
        guard timeout > 0 else { throw ValidationError("--timeout must be a positive number of seconds.") }
        if dryRun && keep { throw ValidationError("--dry-run starts nothing, so --keep has nothing to keep.") }
    }
}
