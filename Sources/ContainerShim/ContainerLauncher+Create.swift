import Foundation
import MVMCore
import SystemPackage

/// The runtime's `create`, with the init's output on a pipe or on a
/// terminal, its teardown registered before anything exists.
extension ContainerLauncher {
    /// What `create` leaves: mvm's end of the init's output, and the
    /// teardown that removes the container.
    struct Created {
        var output: SharedDescriptor
        var teardown: InstanceTeardown
    }

    /// `create` with the init's stdout on a pipe whose read end mvm keeps.
    func createWithPipe(
        in scope: LaunchScope, bundle: ContainerBundle, runtimeLog: String?
    ) async throws(ContainerError) -> Created {
        let pipe: (readEnd: FileDescriptor, writeEnd: FileDescriptor)
        do {
            pipe = try FileDescriptor.pipe()
        } catch {
            throw .system(SystemFailure("cannot make a pipe for the container's output", underlying: error))
        }
        let output = SharedDescriptor(pipe.readEnd)
        let teardown = ContainerTeardown(runtime: runtime, id: scope.id, bundle: bundle, output: output)
        let handle = register(teardown, in: scope)
        do throws(ContainerError) {
            try bundle.write(spec(id: scope.id, tracing: scope.tracing))
            let stderrFile = try bundle.openStderr()
            defer { try? stderrFile.close() }
            scope.tracePoint(ContainerTrace.createPoint)
            try await runtime.create(
                id: scope.id, bundle: bundle, output: .inherited(stdout: pipe.writeEnd), stderr: stderrFile,
                log: runtimeLog)
        } catch {
            try? pipe.writeEnd.close()
            throw error
        }
        // Only the container's init holds the write end now: when it
        // exits, reading sees end of file.
        try? pipe.writeEnd.close()
        return Created(output: output, teardown: handle)
    }

    /// `create` with a terminal: mvm listens on a socket first, and takes
    /// the pty master the runtime sends there while `create` runs (runc
    /// sends it before `create` returns, from the container's init as it
    /// sets the terminal up). The socket is gone once the master came.
    func createWithTerminal(
        in scope: LaunchScope, bundle: ContainerBundle, runtimeLog: String?
    ) async throws(ContainerError) -> Created {
        let path = Self.terminalSocketPath(id: scope.id, stateDirectory: configuration.stateDirectory)
        do throws(SystemFailure) {
            // As the VM's console sockets: others may pass through, not list.
            _ = try configuration.stateDirectory.ensureSubdirectory("consoles", permissions: 0o711)
        } catch {
            throw .system(error)
        }
        let socket = try TerminalSocket(path: path)
        let teardown = ContainerTeardown(runtime: runtime, id: scope.id, bundle: bundle, output: nil, terminal: socket)
        let handle = register(teardown, in: scope)
        try bundle.write(spec(id: scope.id, tracing: scope.tracing))
        let stderrFile = try bundle.openStderr()
        defer { try? stderrFile.close() }
        let deadline = scope.deadline
        let runtimeName = runtime.name
        async let received = onDedicatedThreadTyped { () throws(ContainerError) in
            try socket.receiveTerminal(until: deadline, runtime: runtimeName)
        }
        do {
            scope.tracePoint(ContainerTrace.createPoint)
            try await runtime.create(
                id: scope.id, bundle: bundle, output: .terminal(consoleSocket: path), stderr: stderrFile,
                log: runtimeLog)
        } catch {
            // Wakes the receiving thread (it would wait for the deadline),
            // and closes a master that came before the failure.
            socket.close()
            _ = try? await received
            throw error
        }
        do {
            return Created(output: try await received, teardown: handle)
        } catch let error as ContainerError {
            throw error
        } catch {
            throw .system(SystemFailure("receiving the container's terminal", underlying: error))
        }
    }

    /// Registers the container's teardown with the launch, and how to kill
    /// its runtime's commands should one hang.
    private func register(_ teardown: ContainerTeardown, in scope: LaunchScope) -> InstanceTeardown {
        scope.onTeardown(
            forceStop: { [runtime, id = scope.id] in runtime.killCommands(for: id) }, { try await teardown.run() })
    }

    /// `<state>/consoles/<id>.tty`: beside the VMs' console sockets, where
    /// `mvm gc` looks for what a crashed mvm left.
    static func terminalSocketPath(id: String, stateDirectory: StateDirectory) -> String {
        stateDirectory.subdirectory("consoles/" + id + ".tty")
    }
}
