import ContainerShim
import Foundation
import MVMCore
import Subprocess
import SystemPackage

/// The container engines mvm measures beside its bare OCI runtime.
public enum EngineKind: String, Sendable, CaseIterable, Codable {
    case podman
    case docker

    var installCommand: String {
        switch self {
        case .podman: "apt-get install --no-install-recommends podman"
        case .docker: "apt-get install docker.io"
        }
    }
}

/// One engine's command line, with the options mvm gives every command:
/// Podman keeps its storage, run state and temporary files under mvm's
/// state directory (what gc cleans), manages cgroups itself (no systemd
/// needed) and runs the same OCI runtime as mvm's container; Docker is the
/// daemon the user runs (`DOCKER_HOST`, else its default socket).
public struct ContainerEngine: Sendable {
    public let kind: EngineKind
    public let executable: String
    let globalArguments: [String]
    /// Where the engine keeps each container's own state, by the container's
    /// full id: what the release probe watches.
    let containerStateDirectory: String
    /// The OCI runtime under the engine ("runc").
    public let runtimeName: String

    /// The engine of `kind`, checked on `host`: installed, its runtime able
    /// to run here, its daemon (Docker) answering. Starts nothing.
    public static func resolve(
        _ kind: EngineKind, stateDirectory: StateDirectory, runtime: RuntimeSelection, host: ContainerHost
    ) async throws(EngineError) -> ContainerEngine {
        guard let executable = findExecutable(named: kind.rawValue) else { throw .notInstalled(kind) }
        switch kind {
        case .podman:
            let runtimeName: String
            switch runtime {
            case .crun where host.cgroups == .hybrid:
                throw .unsupported(
                    .podman,
                    reason:
                        "it would run containers with crun, which does not support these hybrid cgroups (v1 controllers with a v2 hierarchy beside them)",
                    alternative: "use --runtime runc")
            case .crun: runtimeName = "crun"
            default: runtimeName = "runc"
            }
            guard let runtimePath = findExecutable(named: runtimeName) else {
                throw .container(.runtimeNotFound(runtimeName == "crun" ? .crun : .runc))
            }
            let root = stateDirectory.subdirectory("podman")
            return ContainerEngine(
                kind: kind, executable: executable,
                globalArguments: [
                    "--root", root + "/storage", "--runroot", root + "/run", "--tmpdir", root + "/tmp",
                    "--cgroup-manager", "cgroupfs", "--events-backend", "none", "--runtime", runtimePath,
                ],
                containerStateDirectory: root + "/storage/overlay-containers", runtimeName: runtimeName)
        case .docker:
            let probe = ContainerEngine(
                kind: kind, executable: executable, globalArguments: [], containerStateDirectory: "",
                runtimeName: "runc")
            let info: String
            do throws(EngineError) {
                info = try await probe.run(["info", "--format", "{{.DockerRootDir}} {{.DefaultRuntime}}"])
            } catch {
                throw .daemonDown(socket: dockerSocket, message: error.shortMessage)
            }
            let fields = info.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            return ContainerEngine(
                kind: kind, executable: executable, globalArguments: [],
                containerStateDirectory: (fields.first ?? "/var/lib/docker") + "/containers",
                runtimeName: fields.count > 1 ? fields[1] : "runc")
        }
    }

    /// The Unix socket the Docker client talks to.
    public static var dockerSocket: String {
        let host = ProcessInfo.processInfo.environment["DOCKER_HOST"] ?? ""
        return host.hasPrefix("unix://") ? String(host.dropFirst("unix://".count)) : "/var/run/docker.sock"
    }

    /// The command line of `arguments` (for the `run` mvm supervises).
    func commandLine(_ arguments: [String]) -> [String] { globalArguments + arguments }

    /// Runs `engine <global options> arguments...`; returns its stdout.
    @discardableResult
    func run(_ arguments: [String]) async throws(EngineError) -> String {
        let command = "\(kind.rawValue) \(arguments.first ?? "")"
        let outcome: (succeeded: Bool, output: String, error: String)
        do {
            let result = try await Subprocess.run(
                .path(FilePath(executable)), arguments: Arguments(commandLine(arguments)),
                output: .string(limit: 1 << 20), error: .string(limit: 1 << 20))
            outcome = (result.terminationStatus.isSuccess, result.standardOutput, result.standardError)
        } catch {
            throw .system(SystemFailure("cannot run \(command) (\(executable))", underlying: error))
        }
        guard outcome.succeeded else {
            throw .commandFailed(command: command, message: lastLogMessage(outcome.error, otherwise: "no message"))
        }
        return outcome.output
    }

    /// The engine's version: "4.3.1" (Podman), "20.10.24+dfsg1" (Docker's
    /// server, which runs the containers, not its client).
    public func version() async -> String? {
        // `podman --version` ("podman version 4.3.1") touches no storage.
        let arguments = kind == .podman ? ["--version"] : ["version", "--format", "{{.Server.Version}}"]
        let text = try? await run(arguments).split(whereSeparator: \.isWhitespace).last.map(String.init)
        return text.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Kills every command of this engine about container `id` (a hung
    /// run or rm).
    func killCommands(for id: String) {
        let executable = self.executable
        ForceStop.kill(ForceStop.processes { arguments in arguments.first == executable && arguments.contains(id) })
    }
}

extension EngineError {
    /// The message alone, for an error inside another sentence.
    var shortMessage: String {
        if case .commandFailed(_, let message) = self { return message }
        return description
    }
}
