import Foundation
import Subprocess
import Synchronization
import SystemPackage

/// A child process that runs until `stop()`, whose stdout goes to a pipe the
/// caller reads (the reference contenders: plain QEMU, plain `runc run`).
/// Its lifetime is one swift-subprocess `run` closure held open in a task:
/// `stop()` kills it and waits for it to exit.
public final class SupervisedProcess: Sendable {
    public let pid: Int32
    /// mvm's end of the child's stdout; end of file once the child exits.
    let output: FileDescriptor

    /// The raw descriptor of mvm's end of the child's stdout, for poll(2).
    public var outputDescriptor: Int32 { output.rawValue }
    private let stopRequest: AsyncStream<Void>.Continuation
    private let supervisor: Task<Void, Never>
    private let outputOpen = Mutex(true)

    private init(pid: Int32, output: FileDescriptor, stopRequest: AsyncStream<Void>.Continuation, supervisor: Task<Void, Never>) {
        self.pid = pid
        self.output = output
        self.stopRequest = stopRequest
        self.supervisor = supervisor
    }

    /// Starts `executable` with its stdout on a fresh pipe and its stderr
    /// appended to `stderrPath` (or discarded).
    public static func start(executable: String, arguments: [String], stderrPath: String? = nil) async throws -> SupervisedProcess {
        let pipe = try FileDescriptor.pipe()
        let errorOutput: FileDescriptor?
        do {
            errorOutput = try stderrPath.map {
                try FileDescriptor.open(
                    FilePath($0), .writeOnly, options: [.create, .append, .closeOnExec], permissions: [.ownerReadWrite])
            }
        } catch {
            try? pipe.readEnd.close()
            try? pipe.writeEnd.close()
            throw error
        }
        let (stopSignals, stopRequest) = AsyncStream<Void>.makeStream()
        let (started, startedContinuation) = AsyncThrowingStream<Int32, any Error>.makeStream()
        let configuration = Configuration(executable: .path(FilePath(executable)), arguments: Arguments(arguments))
        let supervisor = Task {
            do {
                if let errorOutput {
                    _ = try await run(
                        configuration, input: .none,
                        output: .fileDescriptor(pipe.writeEnd, closeAfterSpawningProcess: true),
                        error: .fileDescriptor(errorOutput, closeAfterSpawningProcess: true)
                    ) { execution in
                        try await supervise(execution.processIdentifier.value, startedContinuation, stopSignals) {
                            try? execution.send(signal: .kill)
                        }
                    }
                } else {
                    _ = try await run(
                        configuration, input: .none,
                        output: .fileDescriptor(pipe.writeEnd, closeAfterSpawningProcess: true), error: .discarded
                    ) { execution in
                        try await supervise(execution.processIdentifier.value, startedContinuation, stopSignals) {
                            try? execution.send(signal: .kill)
                        }
                    }
                }
                startedContinuation.finish()
            } catch {
                startedContinuation.finish(throwing: error)
            }
        }
        do {
            for try await pid in started {
                return SupervisedProcess(pid: pid, output: pipe.readEnd, stopRequest: stopRequest, supervisor: supervisor)
            }
            throw SupervisedProcessError.didNotStart(executable)
        } catch {
            try? pipe.readEnd.close()
            throw error
        }
    }

    /// Reports the pid, then waits for a stop request (or the end of the
    /// closure's task) and kills the child.
    private static func supervise(
        _ pid: Int32, _ started: AsyncThrowingStream<Int32, any Error>.Continuation,
        _ stopSignals: AsyncStream<Void>, kill: () -> Void
    ) async throws {
        started.yield(pid)
        for await _ in stopSignals { break }
        kill()
    }

    /// Kills the process and waits until it has exited; closes mvm's end of
    /// its stdout. Safe to call more than once.
    public func stop() async {
        stopRequest.finish()
        await supervisor.value
        let close = outputOpen.withLock { open in
            defer { open = false }
            return open
        }
        if close { try? output.close() }
    }
}

public enum SupervisedProcessError: Error, CustomStringConvertible {
    case didNotStart(String)

    public var description: String {
        switch self {
        case .didNotStart(let executable): "\(executable) did not start"
        }
    }
}
