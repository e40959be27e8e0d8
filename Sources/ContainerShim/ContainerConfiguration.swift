import MVMCore

/// Which OCI runtime runs the container.
public enum RuntimeSelection: Sendable, Hashable, CustomStringConvertible {
    case runc
    case crun
    /// gVisor's runsc: a sandbox with a kernel of its own in user space (the
    /// Sentry), on `platform` (how the Sentry takes the workload's system
    /// calls: ptrace, kvm or systrap, where the installed runsc has it).
    case runsc(platform: String)
    /// Any OCI runtime binary that speaks runc's command line.
    case path(String)

    /// The platform runsc uses unless told otherwise: the one every runsc has.
    public static let defaultRunscPlatform = "ptrace"

    /// `runc`, `crun`, `runsc` (on `runscPlatform`), or a path to another runtime.
    public init(argument: String, runscPlatform: String? = nil) {
        switch argument {
        case "runc": self = .runc
        case "crun": self = .crun
        case "runsc", "gvisor": self = .runsc(platform: runscPlatform ?? Self.defaultRunscPlatform)
        default: self = .path(argument)
        }
    }

    public var description: String {
        switch self {
        case .runc: "runc"
        case .crun: "crun"
        case .runsc: "runsc"
        case .path(let path): path
        }
    }
}

/// Whether the container gets a user namespace of its own.
public enum UserNamespaceMode: String, Sendable, CaseIterable, Codable {
    /// Where the host allows one (user.max_user_namespaces > 0).
    case auto
    case on
    case off
}

/// What to run and with which limits: the container equivalent of a
/// `MicroVMConfiguration`, with the same memory and CPU count.
public struct ContainerConfiguration: Sendable {
    public var stateDirectory: StateDirectory
    /// The root filesystem (images/out/rootfs); mounted read-only.
    public var rootfsPath: String
    public var runtime: RuntimeSelection = .runc
    /// Memory (the limit), CPUs (quota and cpuset) and the readiness
    /// timeout: the same as the VM's.
    public var limits = InstanceLimits.standard
    public var pidsLimit = 64
    /// The workload: the rootfs's /init, like the VM's.
    public var command = ["/init"]
    /// Extra `KEY=value` environment (the VM gets these on its kernel
    /// command line, e.g. `mvm_mode=exit`).
    public var environment: [String] = []
    /// What makes the container ready: mvm's readiness line, or `--ready-line`.
    public var readiness: ReadinessRule = .mvmLine
    public var userNamespace: UserNamespaceMode = .auto
    /// Leave the container running when mvm exits.
    public var keep = false
    /// Give the container a terminal of its own (`process.terminal`): the
    /// runtime makes a pty the init's stdio and controlling terminal and
    /// hands its master to mvm, which reads the readiness line there and
    /// offers it as the container's console (`mvm run -it`). Off, the init
    /// writes to a pipe, as measurements want it. What runs on the terminal
    /// is the environment's business (`mvm_mode=shell`).
    public var terminal = false
    /// Receives the container's stdout bytes as they arrive.
    public var outputEcho: (@Sendable ([UInt8]) -> Void)?

    /// Host tasks gVisor's Sentry and gofer may add to a sandbox's cgroup:
    /// they are Go programs whose threads (and, on ptrace, a stub per
    /// workload thread) count against its pids limit, which 64 alone
    /// fails under a syscall-bound workload (peaks of 38 seen idle-to-busy).
    public static let sandboxHostTasks = 192

    /// The pids limit of the host cgroup: the workload's, plus the
    /// sandbox's own tasks for runsc.
    public var pidsLimitOnTheHost: Int {
        if case .runsc = runtime { return pidsLimit + Self.sandboxHostTasks }
        return pidsLimit
    }

    public init(stateDirectory: StateDirectory = .defaultLocation(), rootfsPath: String) {
        self.stateDirectory = stateDirectory
        self.rootfsPath = rootfsPath
    }
}
