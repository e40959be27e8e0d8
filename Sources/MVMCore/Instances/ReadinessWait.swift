import SystemPackage

/// Why waiting for a readiness line ended without one.
public enum ReadinessWaitFailure: Error, Equatable, Sendable {
    /// The deadline passed first.
    case timedOut
    /// The other end closed: the workload (or the whole VM) stopped, or mvm
    /// was interrupted and closed the console.
    case endOfOutput
    /// The console showed a kernel panic.
    case kernelPanic(line: String)
    /// read(2) or poll(2) failed.
    case readFailed(Errno)
    /// The workload under mvm's image init exited, with this status, and
    /// that did not make it ready (non-zero, or a readiness line expected).
    case workloadExited(status: Int)
}

/// A launch that saw no readiness line: why, what the workload printed
/// last, and how long it was given.
public struct ReadinessFailure: Error, Sendable {
    public var reason: ReadinessWaitFailure
    public var outputTail: [String]
    public var timeout: Duration

    public init(reason: ReadinessWaitFailure, outputTail: [String], timeout: Duration) {
        self.reason = reason
        self.outputTail = outputTail
        self.timeout = timeout
    }
}

/// The moments that waiting for readiness observed.
package struct ReadinessObservation: Sendable {
    /// The guest's facts: nil when the readiness line was not mvm's own.
    package var facts: GuestFacts?
    package var firstOutput: ContinuousClock.Instant
    package var ready: ContinuousClock.Instant
    /// `mvm-mark` lines before the readiness line, in order, with when each arrived.
    package var marks: [(name: String, at: ContinuousClock.Instant)] = []
    /// `mvm-fact` lines before the readiness line (a repeated key keeps the last).
    package var reported: [String: String] = [:]
    /// What came after the readiness line in the read that brought it: the
    /// start of what the workload prints next.
    package var rest: [UInt8] = []
    /// When each line of the scanner's `lineLog` arrived, in order, when
    /// the scanner logs lines (a traced start); else empty.
    package var lineArrivals: [ContinuousClock.Instant] = []
}

/// Reads a console or stdout as data arrives (poll(2), no sleeping) until
/// the readiness line, feeding `scanner` and `echo`. Blocking: call it on a
/// dedicated thread.
package func waitForReadiness(
    on descriptor: FileDescriptor,
    until deadline: ContinuousClock.Instant,
    scanner: inout ConsoleScanner,
    echo: (@Sendable ([UInt8]) -> Void)? = nil
) -> Result<ReadinessObservation, ReadinessWaitFailure> {
    let clock = ContinuousClock()
    var firstOutput: ContinuousClock.Instant?
    var marks: [(name: String, at: ContinuousClock.Instant)] = []
    var reported: [String: String] = [:]
    var lineArrivals: [ContinuousClock.Instant] = []
    let maximumReports = 1024
    var buffer = [UInt8](repeating: 0, count: 16 * 1024)
    while true {
        let count: Int
        do {
            guard try pollReadable(descriptor, until: deadline) == .readable else { return .failure(.timedOut) }
            count = try buffer.withUnsafeMutableBytes { try descriptor.read(into: $0) }
        } catch Errno.wouldBlock {
            continue  // a non-blocking descriptor that poll called readable too early
        } catch Errno.ioError {
            // A pty master reads EIO once no process holds the terminal
            // any more (a container's init exited): its end of file.
            return .failure(.endOfOutput)
        } catch let code as Errno {
            return .failure(.readFailed(code))
        } catch {
            return .failure(.readFailed(.ioError))
        }
        let now = clock.now
        if count == 0 { return .failure(.endOfOutput) }
        if firstOutput == nil { firstOutput = now }
        let bytes = Array(buffer[0..<count])
        echo?(bytes)
        // Line by line, so that what follows the readiness line is known.
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? bytes.count
            let events = scanner.feed(bytes[start..<end])
            if let logged = scanner.lineLog?.count, logged > lineArrivals.count {
                lineArrivals += repeatElement(now, count: logged - lineArrivals.count)
            }
            for event in events {
                switch event {
                case .ready(let facts):
                    return .success(
                        ReadinessObservation(
                            facts: facts, firstOutput: firstOutput ?? now, ready: now, marks: marks, reported: reported,
                            rest: Array(bytes[end...]), lineArrivals: lineArrivals))
                case .kernelPanic(let line):
                    return .failure(.kernelPanic(line: line))
                case .workloadExited(let status):
                    return .failure(.workloadExited(status: status))
                // Bounded, since a guest is not trusted: mvm's own init
                // prints a few dozen of each.
                case .mark(let name):
                    if marks.count < maximumReports { marks.append((name, now)) }
                case .fact(let key, let value):
                    if reported.count < maximumReports || reported[key] != nil { reported[key] = value }
                }
            }
            start = end
        }
    }
}

/// The first line of the error for a workload that exited without being
/// ready, the same for every side: its status, its last lines of output
/// (the first line is all a comparison's table shows), what to check.
public func workloadExitDescription(status: Int, side: String, outputTail: [String]) -> String {
    let last = outputTail.filter { !$0.hasPrefix("mvm-exit ") && !$0.hasPrefix("mvm-trace ") }.suffix(3)
    let output =
        last.isEmpty ? "it printed nothing" : "its last output: " + last.map { "\"\($0)\"" }.joined(separator: ", ")
    return "the workload in the \(side) exited with status \(status) (\(output)); check the image's entrypoint and cmd"
}
