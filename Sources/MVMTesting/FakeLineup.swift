import Compare
import Jobs
import MVMCore

/// A stack that names fake tools: what a report of fake contenders records.
public struct FakeStack: ContenderStack {
    public init() {}

    public var accelerator: String { "tcg" }
    public var acceleratorReason: String { "fake contenders run no hypervisor" }
    public func versions() async -> [String: String] { ["qemu": "fake", "libvirt": "fake", "runtime": "fake"] }
    public var domainXML: String { "<domain type='fake'/>" }
}

extension ContenderLineup {
    /// The micro-VM and its container as fakes, under their usual names
    /// and roles.
    public static func fake(vm: FakeLauncher, container: FakeLauncher) -> ContenderLineup {
        ContenderLineup(
            contenders: [
                Contender(name: "vm", role: .microVM, launcher: vm),
                Contender(name: "container", role: .container, launcher: container),
            ],
            stack: FakeStack())
    }
}

extension HostFacts {
    /// A host of 2 cores and 4 GiB, whatever machine runs the tests.
    public static let fake = HostFacts(
        kernelRelease: "6.1.0-fake", cpuModel: "Fake CPU", cores: 2, memoryBytes: 4 << 30)
}
