import Foundation
import MVMCore
import Synchronization
import SystemPackage

/// The OCI runtime's debug log of one traced start, read as it is written.
///
/// runc 1.1 stamps its log lines to the second only, so mvm times them
/// itself: `--log` names a FIFO whose lines a thread reads and stamps on
/// arrival, on the launch's clock. mvm holds a write end too, so that the
/// reads never see end of file between `create` and `start` (each opens
/// the log anew); a runtime that opens the FIFO always finds a reader.
final class RuntimeLogTap: Sendable {
    let path: String
    private let readEnd: FileDescriptor
    private let keeper: FileDescriptor
    private let stopwatch: PhaseStopwatch
    private let state = Mutex<(lines: [TimedLine], partial: [UInt8], stopping: Bool)>(([], [], false))
    /// What `finish` returned: a second call returns it again.
    private let result = Mutex<[TimedLine]?>(nil)
    private let finished = DispatchSemaphore(value: 0)

    /// The most lines kept: a runtime is trusted less than that.
    static let maximumLines = 10_000

    init(path: String, stopwatch: PhaseStopwatch) throws(SystemFailure) {
        unlink(path)
        guard mkfifo(path, 0o600) == 0 else {
            throw SystemFailure("cannot make the runtime's log FIFO \(path)", underlying: Errno(rawValue: errno))
        }
        do {
            readEnd = try FileDescriptor.open(
                FilePath(path), .readOnly, options: [.nonBlocking, .closeOnExec])
            keeper = try FileDescriptor.open(FilePath(path), .writeOnly, options: [.nonBlocking, .closeOnExec])
        } catch {
            unlink(path)
            throw SystemFailure("cannot open the runtime's log FIFO \(path)", underlying: error)
        }
        self.path = path
        self.stopwatch = stopwatch
        let thread = Thread { [self] in
            while !state.withLock({ $0.stopping }) {
                if (try? pollReadable(readEnd, until: .now + .milliseconds(50))) == .readable { drain() }
            }
            drain()
            finished.signal()
        }
        thread.name = "runtime-log"
        thread.start()
    }

    /// Reads what the FIFO holds now and stamps each complete line.
    private func drain() {
        var buffer = [UInt8](repeating: 0, count: 8192)
        while let count = try? buffer.withUnsafeMutableBytes({ try readEnd.read(into: $0) }), count > 0 {
            let at = stopwatch.elapsed().seconds
            state.withLock { state in
                for byte in buffer[0..<count] {
                    if byte == UInt8(ascii: "\n") {
                        if !state.partial.isEmpty, state.lines.count < Self.maximumLines {
                            state.lines.append(TimedLine(String(decoding: state.partial, as: UTF8.self), at: at))
                        }
                        state.partial.removeAll(keepingCapacity: true)
                    } else if state.partial.count < 64 * 1024 {
                        state.partial.append(byte)
                    }
                }
            }
        }
    }

    /// Stops reading, removes the FIFO, returns every line with its
    /// arrival. Later calls return the same lines.
    func finish() -> [TimedLine] {
        result.withLock { result in
            if let result { return result }
            let lines = stop()
            result = lines
            return lines
        }
    }

    private func stop() -> [TimedLine] {
        state.withLock { $0.stopping = true }
        // An empty line wakes the reading thread at once (it is dropped).
        _ = try? keeper.writeAll([UInt8(ascii: "\n")])
        finished.wait()
        try? readEnd.close()
        try? keeper.close()
        unlink(path)
        return state.withLock { $0.lines }
    }
}
