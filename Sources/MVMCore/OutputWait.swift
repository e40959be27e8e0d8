#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why waiting for a readiness line ended without one.
public enum ReadinessWaitFailure: Error, Equatable, Sendable {
    /// The deadline passed first.
    case timedOut
    /// The other end closed: the workload (or the whole VM) stopped.
    case endOfOutput
    /// The console showed a kernel panic.
    case kernelPanic(line: String)
    /// read(2) or poll(2) failed with this errno.
    case readFailed(errno: Int32)
}

/// The moments that waiting for readiness observed.
public struct ReadinessObservation: Sendable {
    public var facts: GuestFacts
    public var firstOutput: ContinuousClock.Instant
    public var ready: ContinuousClock.Instant
}

extension ReadinessObservation {
    /// The boot record of a start whose phases so far are `timeline`, all
    /// measured on `stopwatch`: this observation adds first-output and ready.
    public func bootRecord(completing timeline: BootTimeline, on stopwatch: PhaseStopwatch) -> BootRecord {
        var timeline = timeline
        timeline.append(.firstOutput, at: stopwatch.offset(of: firstOutput))
        timeline.append(.ready, at: stopwatch.offset(of: ready))
        return BootRecord(timeline: timeline, facts: facts, requestedAt: stopwatch.wallClockOrigin)
    }
}

/// Reads a console or stdout file descriptor as data arrives (poll(2), no
/// sleeping) until the readiness line, feeding `scanner` and `echo`.
/// Blocking: call it on a dedicated thread.
public func waitForReadiness(
    on fd: Int32,
    until deadline: ContinuousClock.Instant,
    scanner: inout ConsoleScanner,
    echo: (@Sendable ([UInt8]) -> Void)? = nil
) -> Result<ReadinessObservation, ReadinessWaitFailure> {
    let clock = ContinuousClock()
    var firstOutput: ContinuousClock.Instant?
    var buffer = [UInt8](repeating: 0, count: 16 * 1024)
    while true {
        switch pollReadable(fd, until: deadline) {
        case .timedOut: return .failure(.timedOut)
        case .failed(let code): return .failure(.readFailed(errno: code))
        case .readable: break
        }
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        let now = clock.now
        if count < 0 {
            if errno == EINTR || errno == EAGAIN { continue }
            return .failure(.readFailed(errno: errno))
        }
        if count == 0 { return .failure(.endOfOutput) }
        if firstOutput == nil { firstOutput = now }
        let bytes = Array(buffer[0..<count])
        echo?(bytes)
        for event in scanner.feed(bytes) {
            switch event {
            case .ready(let facts):
                return .success(ReadinessObservation(facts: facts, firstOutput: firstOutput ?? now, ready: now))
            case .kernelPanic(let line):
                return .failure(.kernelPanic(line: line))
            }
        }
    }
}

public enum PollOutcome: Equatable, Sendable {
    case readable
    case timedOut
    case failed(errno: Int32)
}

/// Waits until `fd` is readable (data, end of file or a hang-up) or the
/// deadline passes.
public func pollReadable(_ fd: Int32, until deadline: ContinuousClock.Instant) -> PollOutcome {
    let clock = ContinuousClock()
    while true {
        let remaining = deadline - clock.now
        if remaining <= .zero { return .timedOut }
        // Round up so that a sub-millisecond remainder still waits.
        let milliseconds = Int32(min(remaining.milliseconds.rounded(.up), Double(Int32.max)))
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let result = poll(&entry, 1, milliseconds)
        if result < 0 {
            if errno == EINTR { continue }
            return .failed(errno: errno)
        }
        if result > 0 { return .readable }
    }
}

/// A description of an errno value ("No such file or directory").
public func errnoDescription(_ code: Int32) -> String {
    String(cString: strerror(code))
}

/// `waitForReadiness` on a dedicated thread (it blocks in poll(2)), with a
/// fresh scanner; returns the outcome and the last lines seen.
public func waitForReadinessOffThread(
    on fd: Int32, until deadline: ContinuousClock.Instant, echo: (@Sendable ([UInt8]) -> Void)? = nil
) async -> (outcome: Result<ReadinessObservation, ReadinessWaitFailure>, lastLines: [String]) {
    await onDedicatedThreadTyped { () throws(Never) in
        var scanner = ConsoleScanner()
        let outcome = waitForReadiness(on: fd, until: deadline, scanner: &scanner, echo: echo)
        return (outcome, scanner.lastLines)
    }
}
