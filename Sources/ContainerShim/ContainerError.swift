import MVMCore

/// Why a container could not be started or measured. The first line says
/// what went wrong and what to do; output excerpts follow. Each case keeps
/// the error underneath as it was.
public enum ContainerError: Error, CustomStringConvertible {
    case runtimeNotFound(RuntimeSelection)
    /// The runtime exists but cannot work on this host (crun on hybrid cgroups).
    case runtimeUnsupported(runtime: String, reason: String, alternative: String)
    case rootfs(path: String, problem: String)
    case invalidConfiguration(String)
    /// A runtime command failed; `message` is what the runtime said.
    case runtimeFailed(command: String, message: String)
    case readinessTimeout(after: Duration, outputTail: [String])
    /// The container's init exited before printing its readiness line.
    case exitedEarly(outputTail: [String], runtimeLog: String)
    /// The kernel's OOM killer, enforcing the container's memory limit,
    /// killed its init (or what it waited for) before the readiness line.
    case killedByMemoryLimit(limitMiB: Int, kills: Int, outputTail: [String])
    /// The image's workload exited, with this status, without being ready.
    case workloadExited(status: Int, outputTail: [String])
    /// A system call, file operation or process start failed.
    case system(SystemFailure)

    /// The error for a container that showed no readiness line; `runtimeLog`
    /// is what the runtime and the init wrote on stderr.
    public init(_ failure: ReadinessFailure, runtimeLog: @autoclosure () -> String) {
        switch failure.reason {
        case .timedOut: self = .readinessTimeout(after: failure.timeout, outputTail: failure.outputTail)
        case .endOfOutput, .kernelPanic: self = .exitedEarly(outputTail: failure.outputTail, runtimeLog: runtimeLog())
        case .readFailed(let code):
            self = .system(SystemFailure("reading the container's output failed", underlying: code))
        case .workloadExited(let status): self = .workloadExited(status: status, outputTail: failure.outputTail)
        }
    }

    public var description: String {
        switch self {
        case .runtimeNotFound(let runtime):
            switch runtime {
            case .runc, .crun:
                return
                    "OCI runtime \(runtime) is not installed; install it (apt-get install \(runtime)) or name the path of another OCI runtime"
            case .runsc:
                return
                    "gVisor's runsc is not installed, which the gvisor contender needs; install it (apt-get install runsc) or leave gvisor out of --contenders"
            case .path(let path):
                return
                    "OCI runtime \(path) does not exist or is not executable; use runc, crun or the path of an OCI runtime"
            }
        case .runtimeUnsupported(let runtime, let reason, let alternative):
            return "\(runtime) cannot run containers on this host: \(reason); \(alternative)"
        case .rootfs(let path, let problem):
            return
                "rootfs \(path) \(problem); install the images (scripts/install.sh), point MVM_IMAGES at them, or name another rootfs"
        case .invalidConfiguration(let problem):
            return problem
        case .runtimeFailed(let command, let message):
            // runc's own messages start with "runc create failed: " already.
            return message.hasPrefix(command + " failed: ") ? message : "\(command) failed: \(message)"
        case .readinessTimeout(let after, let tail):
            return
                "the container printed no readiness line within \(formatDecimal(after.seconds, places: 1)) s; raise the timeout if the host is busy"
                + Self.excerpt(tail)
        case .killedByMemoryLimit(let limit, let kills, let tail):
            return
                "the container's memory limit (\(limit) MiB) killed its workload before the readiness line (\(kills) OOM kill\(kills == 1 ? "" : "s") in its cgroup); give it more memory"
                + Self.excerpt(tail)
        case .exitedEarly(let tail, let log):
            var text = "the container's init exited before printing its readiness line" + Self.excerpt(tail)
            if !log.isEmpty {
                text +=
                    "\n  its stderr:\n"
                    + log.split(separator: "\n").suffix(10).map { "  | " + $0 }.joined(separator: "\n")
            }
            return text
        case .workloadExited(let status, let tail):
            return workloadExitDescription(status: status, side: "container", outputTail: tail)
        case .system(let failure):
            return failure.description
        }
    }

    private static func excerpt(_ tail: [String]) -> String {
        guard !tail.isEmpty else { return "\n  (the container printed nothing on stdout)" }
        return "\n  last output lines:\n" + tail.map { "  | " + $0 }.joined(separator: "\n")
    }
}
