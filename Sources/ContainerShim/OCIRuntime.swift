import Foundation
import MVMCore
import Subprocess
import SystemPackage

/// Drives an OCI runtime binary through runc's command line (runc, crun and
/// others share it), with a state root of mvm's own (`--root`).
struct OCIRuntime: Sendable {
    let executable: String
    let stateRoot: String
    /// Options every command of this runtime needs after `--root` (runsc's
    /// `--network=none --platform=P`: runsc reads them on each command).
    var globalOptions: [String] = []

    /// `--root` and the global options: what precedes every subcommand.
    var leadingArguments: [String] { ["--root", stateRoot] + globalOptions }

    /// Where the runtime keeps its containers' state: a root of its own per
    /// runtime kind, so that runc's and runsc's lists never mix.
    static func stateRoot(for selection: RuntimeSelection, in stateDirectory: StateDirectory) -> String {
        if case .runsc = selection { return stateDirectory.subdirectory("runsc") }
        return stateDirectory.subdirectory("runc")
    }

    /// True for gVisor's runsc.
    var isSandbox: Bool { globalOptions.contains { $0.hasPrefix("--platform=") } }

    /// The runtime's files for container `id` in its state root: runc's
    /// directory `<root>/<id>`, runsc's `<id>_sandbox:<id>.state` and `.lock`.
    func stateFiles(of id: String) -> [String] {
        isSandbox
            ? ["state", "lock"].map { "\(stateRoot)/\(id)_sandbox:\(id).\($0)" } : [stateRoot + "/" + id]
    }

    /// "runc", "crun", or the binary's file name.
    var name: String { URL(fileURLWithPath: executable).lastPathComponent }

    /// Finds the runtime binary: on PATH for runc and crun, else the path.
    static func resolve(_ selection: RuntimeSelection, stateDirectory: StateDirectory) throws(ContainerError)
        -> OCIRuntime
    {
        let stateRoot = stateRoot(for: selection, in: stateDirectory)
        let found: String?
        var globalOptions: [String] = []
        switch selection {
        case .runc, .crun, .runsc:
            found = findExecutable(named: selection.description)
            if case .runsc(let platform) = selection {
                // mvm's containers have no network; runsc must be told on
                // every command, or `start` tries to set one up.
                globalOptions = ["--network=none", "--platform=\(platform)"]
            }
        case .path(let path):
            found = firstExecutableFile([absolutePath(path)])
        }
        guard let found else { throw .runtimeNotFound(selection) }
        return OCIRuntime(executable: found, stateRoot: stateRoot, globalOptions: globalOptions)
    }

    /// Kills every command of this runtime about container `id` (a hung
    /// create, start, kill or delete; a stopped runtime holds its state
    /// lock): what waits on them fails, and `runc delete --force` can then
    /// remove the container. Found by their arguments: the runtime's path
    /// or name, and the id.
    func killCommands(for id: String) {
        let executable = self.executable
        let name = self.name
        ForceStop.kill(
            ForceStop.processes { arguments in
                arguments.contains(id)
                    && arguments.contains { $0 == executable || $0 == name || $0.hasSuffix("/" + name) }
            })
    }

    /// The global options that send the runtime's debug log, as JSON, to
    /// `log` (a traced start).
    static func logOptions(_ log: String?) -> [String] {
        log.map { ["--debug", "--log", $0, "--log-format", "json"] } ?? []
    }

    /// Runs `runtime --root <stateRoot> arguments...`; returns its stdout.
    /// `log`: where the runtime writes its debug log.
    @discardableResult
    func run(_ arguments: [String], log: String? = nil) async throws(ContainerError) -> String {
        let command = "\(name) \(arguments.first ?? "")"
        let result = try await invoke(command) {
            try await Subprocess.run(
                .path(FilePath(executable)),
                arguments: Arguments(leadingArguments + Self.logOptions(log) + arguments),
                output: .string(limit: 1 << 20), error: .string(limit: 1 << 20))
        }
        try Self.check(result.terminationStatus, command: command, stderr: result.standardError)
        return result.standardOutput
    }

    /// What the container's init gets as its stdio.
    enum InitOutput {
        /// It inherits the runtime's `stdout` (and `stderr`), so mvm reads
        /// what it prints.
        case inherited(stdout: FileDescriptor)
        /// A new terminal, whose master the runtime sends to the socket at
        /// this path (`--console-socket`) while `create` runs.
        case terminal(consoleSocket: String)
    }

    /// `create`: sets the container up; its init waits for `start`. What
    /// the runtime itself says goes to `stderr`.
    func create(id: String, bundle: ContainerBundle, output: InitOutput, stderr: FileDescriptor, log: String? = nil)
        async throws(ContainerError)
    {
        let command = "\(name) create"
        var arguments = leadingArguments + Self.logOptions(log) + ["create", "--bundle", bundle.path]
        let stdout: FileDescriptor
        switch output {
        case .inherited(let descriptor):
            stdout = descriptor
        case .terminal(let socket):
            arguments += ["--console-socket", socket]
            // The init's stdio is the terminal; anything the runtime
            // prints on its own stdout belongs with its log.
            stdout = stderr
        }
        let result = try await invoke(command) {
            try await Subprocess.run(
                .path(FilePath(executable)), arguments: Arguments(arguments + [id]),
                output: .fileDescriptor(stdout, closeAfterSpawningProcess: false),
                error: .fileDescriptor(stderr, closeAfterSpawningProcess: false))
        }
        try Self.check(result.terminationStatus, command: command, stderr: bundle.stderrLog)
    }

    /// Runs the runtime; a runtime that cannot be started at all is a
    /// system failure, with the reason underneath.
    private func invoke<Result>(_ command: String, _ body: () async throws -> Result) async throws(ContainerError)
        -> Result
    {
        do {
            return try await body()
        } catch {
            throw .system(SystemFailure("cannot run \(command) (\(executable))", underlying: error))
        }
    }

    /// A runtime that exited with an error fails with its last error line.
    private static func check(_ status: TerminationStatus, command: String, stderr: String) throws(ContainerError) {
        guard !status.isSuccess else { return }
        let otherwise =
            switch status {
            case .exited(let code): "exited with status \(code)"
            case .signaled(let signal): "killed by signal \(signal)"
            }
        throw .runtimeFailed(command: command, message: lastLogMessage(stderr, otherwise: otherwise))
    }

    /// The container's state as the runtime reports it (`state`).
    func state(id: String) async throws(ContainerError) -> RuntimeState {
        let text = try await run(["state", id])
        guard let state = try? JSONDecoder().decode(RuntimeState.self, from: Data(text.utf8)) else {
            throw .runtimeFailed(command: "\(name) state", message: "unexpected output: \(text.prefix(200))")
        }
        return state
    }

    /// Container ids in mvm's state root (`list`).
    func containerIDs() async throws(ContainerError) -> [String] {
        let text = try await run(["list", "--quiet"])
        return text.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }

    /// The version line ("runc version 1.1.5+ds1"). Without `--root`: crun
    /// creates its state root even for `--version`, and asking for a version
    /// must leave nothing behind.
    func version() async -> String? {
        let result = try? await Subprocess.run(
            .path(FilePath(executable)), arguments: ["--version"], output: .string(limit: 1 << 16), error: .discarded)
        guard let result, result.terminationStatus.isSuccess else { return nil }
        return result.standardOutput.split(separator: "\n").first.map(String.init)
    }
}

/// The fields of `runc state` that mvm uses.
struct RuntimeState: Decodable, Sendable {
    var id: String
    var pid: Int32
    var status: String
}
