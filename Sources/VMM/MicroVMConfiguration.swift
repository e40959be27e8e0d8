import MVMCore

/// What to boot and how.
public struct MicroVMConfiguration: Sendable {
    /// libvirt URI; nil means the embedded QEMU driver under the state dir.
    public var connectURI: String?
    public var stateDirectory: StateDirectory
    public var kernelPath: String
    public var initrdPath: String
    /// nil: microvm for an ELF kernel (PVH entry), pc for anything else.
    public var machine: MachineType?
    /// Memory, vCPUs and the readiness timeout: the same as the container's.
    public var limits = InstanceLimits()
    public var accelerator: AcceleratorRequest = .auto
    /// Extra kernel command-line arguments, after mvm's own.
    public var extraKernelArguments: [String] = []
    /// Leave the domain running when mvm exits (no libvirt auto-destroy).
    public var keep = false
    /// How to read the serial console.
    public var consoleTransport: ConsoleTransport = .auto
    /// Receives console bytes as they arrive (`--console`).
    public var consoleEcho: (@Sendable ([UInt8]) -> Void)?

    public init(
        connectURI: String? = nil, stateDirectory: StateDirectory = .defaultLocation(),
        kernelPath: String, initrdPath: String
    ) {
        self.connectURI = connectURI
        self.stateDirectory = stateDirectory
        self.kernelPath = kernelPath
        self.initrdPath = initrdPath
    }
}
