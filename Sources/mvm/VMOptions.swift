import ArgumentParser
import MVMCore
import VMM

extension AcceleratorRequest: ExpressibleByArgument {}
extension MachineType: ExpressibleByArgument {}

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
