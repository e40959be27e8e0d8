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
    public var limits = InstanceLimits.standard
    public var accelerator: AcceleratorRequest = .auto
    /// Extra kernel command-line arguments, after mvm's own.
    public var extraKernelArguments: [String] = []
    /// What makes the guest ready: mvm's readiness line, or `--ready-line`.
    public var readiness: ReadinessRule = .mvmLine
    /// TCG's translation cache in MiB (`--tb-size`); nil: QEMU's default.
    public var translationCacheMiB: Int? = MicroVMConfiguration.defaultTranslationCacheMiB
    /// The QEMU binary; nil: `EmulatorChoice` picks one (the KVM-only
    /// microvm build where it can run, else libvirt's default).
    public var emulator: String?
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

extension MicroVMConfiguration {
    /// QEMU's default reserves 1 GiB for translated code and a boot fills
    /// about 18 MiB of it; BENCHMARKS.md measures what smaller caches save
    /// and cost.
    public static let defaultTranslationCacheMiB: Int? = nil

    /// What the user gives mvm ends up in libvirt's XML and in the guest
    /// kernel's command line. The XML escapes every value, but XML 1.0 cannot
    /// carry control characters at all; the command line is split at spaces
    /// and quotes group words, so one argument with a space or a quote would
    /// become others. Such input is refused, not mangled.
    func checkForInjection() throws(VMMError) {
        for (role, path) in [("kernel", kernelPath), ("initrd", initrdPath)]
        where path.unicodeScalars.contains(where: isControl) {
            throw .image(
                role: role, path: path.debugDescription,
                problem: "has a control character in its path (rename the file)")
        }
        for argument in extraKernelArguments {
            let printable = argument.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && $0 != "\"" }
            guard !argument.isEmpty, printable else {
                throw .invalidConfiguration(
                    "kernel argument \(argument.debugDescription) is invalid: give one argument at a time, printable ASCII without spaces or quotes"
                )
            }
        }
    }
}

private func isControl(_ scalar: Unicode.Scalar) -> Bool {
    scalar.value < 0x20 || scalar.value == 0x7F
}
