import Foundation
import Subprocess
import SystemPackage

/// A child process that runs until `stop()`, whose stdout goes to a pipe the
/// caller reads (the reference contenders: plain QEMU, plain `runc run`).
/// Its lifetime is one swift-subprocess `run` closure held open in a task:
/// `stop()` kills it and waits for it to exit.
package final class SupervisedProcess: Sendable {
    package let pid: Int32
    /// mvm's end of the child's stdout; end of file once the child exits.
    package let output: SharedDescriptor
    private let stopRequest: AsyncStream<Void>.Continuation
    private let supervisor: Task<Void, Never>

    private init(
        pid: Int32, output: SharedDescriptor, stopRequest: AsyncStream<Void>.Continuation, supervisor: Task<Void, Never>
    ) {
        self.pid = pid
        self.output = output
        self.stopRequest = stopRequest
        self.supervisor = supervisor
    }

    /// Starts `executable` with its stdout on a fresh pipe and its stderr
    /// appended to `stderrPath` (or discarded). `environment` (`KEY=value`
    /// entries) replaces mvm's own when given.
    package static func start(
        executable: String, arguments: [String], environment: [String]? = nil, stderrPath: String? = nil
    ) async throws -> SupervisedProcess {
        let pipe = try FileDescriptor.pipe()
        let errorOutput: FileDescriptor
        do {
            errorOutput = try FileDescriptor.open(
                FilePath(stderrPath ?? "/dev/null"), .writeOnly, options: [.create, .append, .closeOnExec],
                permissions: [.ownerReadWrite])
        } catch {
            try? pipe.readEnd.close()
            try? pipe.writeEnd.close()
            throw error
        }
        let (stopSignals, stopRequest) = AsyncStream<Void>.makeStream()
        let (started, startedContinuation) = AsyncThrowingStream<Int32, any Error>.makeStream()
        let configuration = Configuration(
            executable: .path(FilePath(executable)), arguments: Arguments(arguments),
            environment: environment.map(Self.environment) ?? .inherit)
        let supervisor = Task {
            do {
                _ = try await run(
                    configuration, input: .none,
                    output: .fileDescriptor(pipe.writeEnd, closeAfterSpawningProcess: true),
                    error: .fileDescriptor(errorOutput, closeAfterSpawningProcess: true)
                ) { execution in
                    // Report the pid, then wait for a stop request (or the
                    // end of this task) and kill the child.
                    startedContinuation.yield(execution.processIdentifier.value)
                    for await _ in stopSignals { break }
                    try? execution.send(signal: .kill)
                }
                startedContinuation.finish()
            } catch {
                startedContinuation.finish(throwing: error)
            }
        }
        do {
            for try await pid in started {
                return SupervisedProcess(
                    pid: pid, output: SharedDescriptor(pipe.readEnd), stopRequest: stopRequest, supervisor: supervisor)
            }
            throw SystemFailure("\(executable) did not start")
        } catch {
            try? pipe.readEnd.close()
            throw error
        }
    }

    /// `KEY=value` entries as swift-subprocess's environment (its raw-bytes
    /// form hands each entry to strdup without a terminator).
    private static func environment(_ entries: [String]) -> Environment {
        var values: [Environment.Key: String] = [:]
        for entry in entries {
            guard let equals = entry.firstIndex(of: "="), let key = Environment.Key(rawValue: String(entry[..<equals]))
            else { continue }
            values[key] = String(entry[entry.index(after: equals)...])
        }
        return .custom(values)
    }

    /// Kills the process and waits until it has exited; closes mvm's end of
    /// its stdout. Safe to call more than once.
    package func stop() async {
        stopRequest.finish()
        await supervisor.value
        output.close()
    }
}
