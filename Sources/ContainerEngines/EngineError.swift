import ContainerShim
import MVMCore

/// Why a container engine (Podman, Docker) could not start a container.
public enum EngineError: Error, CustomStringConvertible {
    /// The engine's command is not installed.
    case notInstalled(EngineKind)
    /// dockerd does not answer on its socket.
    case daemonDown(socket: String, message: String)
    /// The engine cannot run mvm's containers on this host, and what can.
    case unsupported(EngineKind, reason: String, alternative: String)
    /// An engine command failed; `message` is what the engine said.
    case commandFailed(command: String, message: String)
    case container(ContainerError)
    case system(SystemFailure)

    public var description: String {
        switch self {
        case .notInstalled(let kind):
            return
                "\(kind.rawValue) is not installed, which the \(kind.rawValue) contender needs; install it (\(kind.installCommand)) or leave \(kind.rawValue) out of --contenders"
        case .daemonDown(let socket, let message):
            return
                "dockerd does not answer on \(socket) (\(message)); start it (systemctl start docker, or dockerd --iptables=false --bridge=none &) or leave docker out of --contenders"
        case .unsupported(let kind, let reason, let alternative):
            return "\(kind.rawValue) cannot run mvm's containers on this host: \(reason); \(alternative)"
        case .commandFailed(let command, let message):
            return "\(command) failed: \(message)"
        case .container(let error): return error.description
        case .system(let failure): return failure.description
        }
    }
}
