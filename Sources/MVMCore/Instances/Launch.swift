import Synchronization

/// What every launch of an instance shares: a fresh name, a stopwatch
/// started at the request, the deadline, the timeline of phases, and the
/// teardown that removes what the launch made, registered for interrupts
/// from the moment it exists. Made by `withLaunchScope`, which tears down on
/// failure; a launcher adds only its own steps.
package final class LaunchScope: Sendable {
    /// The instance's name: `mvm-` and 8 hex digits (domain name, container id).
    package let id: String
    package let stopwatch: PhaseStopwatch
    package let timeout: Duration
    private let registry: TeardownRegistry
    /// True for a traced start: the readiness wait keeps every line with
    /// its arrival, and launchers note the moments of their own steps.
    package let tracing: Bool
    private let state = Mutex<
        (timeline: BootTimeline, teardown: InstanceTeardown?, owner: OwnerRecord?, forceStopped: Bool)
    >((BootTimeline(), nil, nil, false))
    private let traceState = Mutex<(lines: [TimedLine], points: [String: Double])>(([], [:]))

    init(timeout: Duration, registry: TeardownRegistry, tracing: Bool) {
        id = newInstanceName()
        stopwatch = PhaseStopwatch()
        self.timeout = timeout
        self.registry = registry
        self.tracing = tracing
    }

    /// Notes, for a trace, that the launch's own step `name` happened now
    /// (seconds from the request); nothing when not tracing.
    package func tracePoint(_ name: String) {
        guard tracing else { return }
        let offset = stopwatch.elapsed().seconds
        traceState.withLock { $0.points[name] = offset }
    }

    /// The trace points noted so far, and the console or stdout lines up
    /// to the readiness line with their arrival (seconds from the request).
    package var traced: (lines: [TimedLine], points: [String: Double]) { traceState.withLock { $0 } }

    package var deadline: ContinuousClock.Instant { stopwatch.origin + timeout }

    /// Records that `phase` was reached now.
    package func mark(_ phase: Phase) {
        let offset = stopwatch.elapsed()
        state.withLock { $0.timeline.append(phase, at: offset) }
    }

    /// Records in the state directory that this process owns the instance,
    /// before anything of it exists, so that `mvm gc` can tell it from an
    /// orphan if this process dies. The teardown removes the record.
    package func claimOwnership(in records: OwnerRecords, kind: String, connectURI: String? = nil) throws(SystemFailure)
    {
        let record = try records.claim(id, kind: kind, connectURI: connectURI)
        state.withLock { $0.owner = record }
    }

    /// Notes a process mvm started for the instance in its owner record.
    package func noteChildProcess(_ pid: Int32) {
        state.withLock { $0.owner }?.noteChild(pid)
    }

    /// Says how to remove everything this launch makes; call it before the
    /// first thing that needs removing exists. `action` must cope with a
    /// launch that got only part of the way. The instance takes the returned
    /// teardown over when the launch succeeds.
    /// `forceStop` kills the launch's processes when it hangs (`ForceStop`).
    package func onTeardown(
        forceStop: (@Sendable () -> Void)? = nil, _ action: @escaping @Sendable () async throws -> Void
    ) -> InstanceTeardown {
        state.withLock { state in
            let teardown = InstanceTeardown(
                key: id, registry: registry, owner: state.owner, forceStop: forceStop, action: action)
            state.teardown = teardown
            return teardown
        }
    }

    var teardown: InstanceTeardown? { state.withLock { $0.teardown } }

    /// True once the watchdog killed the launch's processes: the launch was
    /// blocked past its deadline.
    package var wasForceStopped: Bool { state.withLock { $0.forceStopped } }

    func forceStop() {
        let teardown = state.withLock { state in
            state.forceStopped = true
            return state.teardown
        }
        teardown?.forceStop()
    }

    /// A launch that failed before it made anything to tear down.
    func releaseOwnershipWithoutTeardown() {
        let owner = state.withLock { $0.teardown == nil ? $0.owner : nil }
        owner?.remove()
    }

    /// Blocks until the workload prints its readiness line on `output`, then
    /// completes the boot record with first-output and ready.
    package func waitForReadiness(
        on output: SharedDescriptor, rule: ReadinessRule = .mvmLine, echo: (@Sendable ([UInt8]) -> Void)? = nil
    ) throws(ReadinessFailure) -> BootRecord {
        var scanner = ConsoleScanner(logLines: tracing, rule: rule)
        let deadline = self.deadline
        let outcome = output.withDescriptor { descriptor in
            MVMCore.waitForReadiness(on: descriptor, until: deadline, scanner: &scanner, echo: echo)
        }
        switch outcome ?? .failure(.endOfOutput) {
        case .success(let observation):
            output.unread(observation.rest)
            if tracing {
                let lines = zip(scanner.lineLog ?? [], observation.lineArrivals).map {
                    TimedLine($0, at: stopwatch.offset(of: $1).seconds)
                }
                traceState.withLock { $0.lines = lines }
            }
            return state.withLock { state in
                state.timeline.append(.firstOutput, at: stopwatch.offset(of: observation.firstOutput))
                // Workload marks (`mvm-mark`) come between first output and ready.
                for mark in observation.marks {
                    state.timeline.append(Phase(mark.name), at: stopwatch.offset(of: mark.at))
                }
                state.timeline.append(.ready, at: stopwatch.offset(of: observation.ready))
                return BootRecord(
                    timeline: state.timeline, facts: observation.facts, requestedAt: stopwatch.wallClockOrigin,
                    reported: observation.reported)
            }
        case .failure(let reason):
            throw ReadinessFailure(reason: reason, outputTail: scanner.lastLines, timeout: timeout)
        }
    }

    /// `waitForReadiness` on a dedicated thread (it blocks in poll(2)).
    package func awaitReadiness(
        on output: SharedDescriptor, rule: ReadinessRule = .mvmLine, echo: (@Sendable ([UInt8]) -> Void)? = nil
    ) async throws(ReadinessFailure) -> BootRecord {
        try await onDedicatedThreadTyped { () throws(ReadinessFailure) in
            try self.waitForReadiness(on: output, rule: rule, echo: echo)
        }
    }
}

/// Runs one launch: `body` starts the instance and returns it once ready.
/// When `body` throws, the teardown it registered runs before the error is
/// rethrown, so a failed launch leaves nothing behind. Modelled on
/// swift-subprocess's closure-scoped `run(...) { execution in ... }`.
package func withLaunchScope<Instance, Failure: Error>(
    timeout: Duration,
    registry: TeardownRegistry = .shared,
    tracing: Bool = false,
    _ body: (LaunchScope) async throws(Failure) -> Instance
) async throws(Failure) -> Instance {
    // The process is being stopped: start nothing more. It exits shortly;
    // until then this launch waits rather than make what nobody removes.
    while registry.isClosing { try? await Task.sleep(for: .seconds(1)) }
    let scope = LaunchScope(timeout: timeout, registry: registry, tracing: tracing)
    // The timeout bounds the whole launch, the steps that block in libvirt
    // or the runtime included: a launch still under way a little after its
    // deadline (the readiness wait, which ends at the deadline, has had its
    // chance to say so) has its processes killed, which makes the blocked
    // step fail.
    let watchdog = Task {
        try await Task.sleep(until: scope.deadline + launchWatchdogGrace, clock: .continuous)
        scope.forceStop()
    }
    defer { watchdog.cancel() }
    do {
        let instance = try await body(scope)
        scope.teardown?.launchCompleted()
        return instance
    } catch {
        try? await scope.teardown?.run(forcingAfter: InstanceTeardown.interruptGrace)
        scope.releaseOwnershipWithoutTeardown()
        throw error
    }
}

/// How long after its deadline a launch may still be blocked before the
/// watchdog kills its processes.
let launchWatchdogGrace: Duration = .seconds(1)

/// What every domain and container mvm starts is named with: what `mvm
/// list` and `mvm destroy` look for.
public let instanceNamePrefix = "mvm-"

/// `mvm-` and 8 random hex digits: the name of a domain or container.
package func newInstanceName() -> String {
    instanceNamePrefix
        + (0..<4).map { _ in
            let byte = UInt8.random(in: 0...255)
            return (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }.joined()
}
