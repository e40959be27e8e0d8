import MVMCore

/// What a contender is in a comparison, so that reports know which figures
/// to set against which without knowing contenders' names.
public enum ContenderRole: String, Sendable, Codable, CaseIterable {
    /// mvm's micro-VM: what the comparison is about.
    case microVM = "micro-vm"
    /// The micro-VM's equivalent container.
    case container
    /// An ordinary VM (a distribution kernel on a PC machine): what a
    /// micro-VM is usually held against.
    case ordinaryVM = "ordinary-vm"
    /// The micro-VM's guest as a plain hypervisor process: what the VM
    /// manager (libvirt and mvm) adds to the micro-VM.
    case microVMReference = "micro-vm-reference"
    /// The container as a plain runtime run: what mvm's way of starting it
    /// adds to the container.
    case containerReference = "container-reference"
    /// The micro-VM from a warm pool (`--warm`): created paused ahead of the
    /// request, resumed on it.
    case warmMicroVM = "warm-micro-vm"
    /// A container in a sandbox with a kernel of its own in user space
    /// (gVisor's runsc): the step between a container and a micro-VM.
    case sandboxedContainer = "sandboxed-container"
    /// The container through an engine people use (Podman, Docker), on the
    /// OCI runtime the engine names: what the engine adds to a bare runtime.
    case containerEngine = "container-engine"

    /// The contender this one is a reference for, if it is one.
    public var reference: ContenderRole? {
        switch self {
        case .microVMReference: .microVM
        case .containerReference: .container
        case .microVM, .container, .ordinaryVM, .warmMicroVM, .sandboxedContainer, .containerEngine: nil
        }
    }
}

/// One kind of instance to measure, under the name reports use
/// (`vm`, `container`, `qemu-direct`, `runc-direct`, `vm-stock`).
public struct Contender: Sendable {
    public let name: String
    public let role: ContenderRole
    public let launcher: any InstanceLauncher

    public init(name: String, role: ContenderRole, launcher: any InstanceLauncher) {
        self.name = name
        self.role = role
        self.launcher = launcher
    }
}

/// A ratio a comparison reports, as roles: the contender in role
/// `numerator` over the one in role `denominator`, in `metric`.
public struct RatioDeclaration: Sendable {
    public var metric: Metric
    public var numerator: ContenderRole
    public var denominator: ContenderRole

    public init(_ metric: Metric, _ numerator: ContenderRole, over denominator: ContenderRole) {
        self.metric = metric
        self.numerator = numerator
        self.denominator = denominator
    }

    /// The micro-VM against its container, and against an ordinary VM when
    /// one ran: in time to readiness and in memory; each step of the
    /// isolation ladder (a sandbox, an engine) against the bare container
    /// and against the micro-VM. Every contender of a role gets its ratios
    /// (Podman's and Docker's both).
    public static let standard: [RatioDeclaration] =
        [
            RatioDeclaration(.ready, .microVM, over: .container),
            RatioDeclaration(.pss, .microVM, over: .container),
            RatioDeclaration(.ready, .microVM, over: .ordinaryVM),
            RatioDeclaration(.pss, .microVM, over: .ordinaryVM),
            RatioDeclaration(.ready, .warmMicroVM, over: .microVM),
        ]
        + [ContenderRole.sandboxedContainer, .containerEngine].flatMap { role in
            [Metric.ready, .pss].flatMap { metric in
                [RatioDeclaration(metric, role, over: .container), RatioDeclaration(metric, role, over: .microVM)]
            }
        }
}
