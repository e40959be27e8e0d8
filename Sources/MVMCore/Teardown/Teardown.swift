import Dispatch
import Logging
import Synchronization

/// How to remove one instance and everything it made, run at most once,
/// whoever asks first: the launch that failed, `stop()`, or an interrupted
/// mvm. A caller that asks while another teardown of it is under way waits
/// for that one. Registered in a `TeardownRegistry` from the moment the
/// launch begins until the instance is gone or handed over (`--keep`).
public final class InstanceTeardown: Sendable {
    public let key: String
    private enum State {
        case armed
        case running(Task<Void, any Error>)
        case finished
        case detached
    }

    private let state = Mutex(State.armed)
    private let action: @Sendable () async throws -> Void
    /// Kills the instance's processes (`ForceStop`): how a hung hypervisor
    /// or runtime is dealt with.
    private let forceStopAction: (@Sendable () -> Void)?
    /// True until the launch that made the instance has returned it: a
    /// teardown before that ends a launch cut short (a failure, an
    /// interrupt), whose processes may still be at work or hung.
    private let launching = Mutex(true)
    private let registry: TeardownRegistry
    /// The instance's owner record: removed once the teardown succeeded,
    /// marked kept on `detach()`. A teardown that fails leaves it for `mvm gc`.
    private let owner: OwnerRecord?

    /// Where the owner record is, for the release probe: the record is one
    /// of the files a completed teardown removes.
    package var ownerRecordPath: String? { owner?.path }

    package init(
        key: String, registry: TeardownRegistry, owner: OwnerRecord? = nil,
        forceStop: (@Sendable () -> Void)? = nil, action: @escaping @Sendable () async throws -> Void
    ) {
        self.key = key
        self.registry = registry
        self.owner = owner
        forceStopAction = forceStop
        self.action = action
        registry.register(self)
    }

    /// Kills the instance's processes, so that what waits on them (libvirt
    /// on a QEMU that never greets it, a runtime command on a stopped
    /// runtime) fails at once and the teardown can finish.
    package func forceStop() {
        forceStopAction?()
    }

    /// The launch returned the instance: from now on a teardown is a stop.
    package func launchCompleted() {
        launching.withLock { $0 = false }
    }

    /// `run()` that never waits on a hung process for long. A launch cut
    /// short has its processes killed first: a stopped `runc create` would
    /// otherwise outlive it. Any other teardown is bounded: every `grace`
    /// that it has not finished, the instance's processes are killed, which
    /// unblocks the step that waits on them (and the next one, should it
    /// hang too), and the teardown goes on to its end. `onForce` hears of
    /// each kill.
    public func run(forcingAfter grace: Duration, onForce: @escaping @Sendable () -> Void = {}) async throws {
        if launching.withLock({ $0 }) { forceStop() }
        let watchdog = Task { [weak self] in
            while true {
                try await Task.sleep(for: grace)
                guard let self else { return }
                onForce()
                self.forceStop()
            }
        }
        defer { watchdog.cancel() }
        try await run()
    }

    /// `stop()` of a running instance: bounded as `run(forcingAfter:)` is,
    /// with a grace far above a normal teardown's (tens of milliseconds for
    /// a container, a second or two for a TCG domain), so that only a hung
    /// runtime or hypervisor meets it; a warning says when it did.
    public func stop() async throws {
        let key = self.key
        try await run(forcingAfter: Self.stopGrace) {
            Logger(label: "mvm.teardown").warning(
                "\(key): the teardown did not finish within \(Self.stopGrace.components.seconds) s, so mvm killed its processes"
            )
        }
    }

    /// How long a stop may take before its processes are killed.
    package static let stopGrace: Duration = .seconds(10)

    /// Tears the instance down, or waits for the teardown already under way;
    /// returns at once after `detach()` or a finished teardown.
    public func run() async throws {
        let action = self.action
        let owner = self.owner
        let task = state.withLock { state -> Task<Void, any Error>? in
            switch state {
            case .armed:
                let task = Task {
                    try await action()
                    owner?.remove()
                }
                state = .running(task)
                return task
            case .running(let task):
                return task
            case .finished, .detached:
                return nil
            }
        }
        guard let task else { return }
        defer {
            state.withLock { $0 = .finished }
            registry.unregister(key)
        }
        try await task.value
    }

    /// How long an interrupted mvm or a failed launch lets a teardown run
    /// before it kills the instance's processes: a domain's destroy takes
    /// 1.6 s here, and SIGINT must end mvm within 5 s.
    package static let interruptGrace: Duration = .seconds(2)

    /// Hands the instance over (`--keep`): nobody tears it down any more.
    /// Does nothing once a teardown has begun.
    public func detach() {
        let detached = state.withLock { state -> Bool in
            guard case .armed = state else { return false }
            state = .detached
            return true
        }
        if detached {
            owner?.markKept()
            registry.unregister(key)
        }
    }
}

/// The instances this process has under way, with how to tear each down, so
/// that an interrupted mvm (Ctrl-C, SIGTERM) still leaves nothing behind.
public final class TeardownRegistry: Sendable {
    public static let shared = TeardownRegistry()

    private let teardowns = Mutex<[String: InstanceTeardown]>([:])
    /// Set by `tearDownAllBlocking` (the process is about to exit): no new
    /// launch begins after it.
    private let closing = Mutex(false)

    public init() {}

    package var isClosing: Bool { closing.withLock { $0 } }

    func register(_ teardown: InstanceTeardown) {
        teardowns.withLock { $0[teardown.key] = teardown }
    }

    func unregister(_ key: String) {
        _ = teardowns.withLock { $0.removeValue(forKey: key) }
    }

    public var registeredKeys: [String] {
        teardowns.withLock { Array($0.keys) }.sorted()
    }

    /// Runs every registered teardown at once, and waits for all of them,
    /// including those already under way.
    public func tearDownAll() async {
        let pending = teardowns.withLock { Array($0.values) }
        await withTaskGroup(of: Void.self) { group in
            for teardown in pending {
                group.addTask { try? await teardown.run(forcingAfter: InstanceTeardown.interruptGrace) }
            }
        }
    }

    /// `tearDownAll()` for a signal handler, which cannot await: blocks the
    /// calling thread (never one of Swift's cooperative threads) until done.
    /// No launch begins afterwards, and one that registered its teardown
    /// while the others were being torn down is torn down too: the work
    /// that started the launches keeps running until the process exits.
    public func tearDownAllBlocking() {
        closing.withLock { $0 = true }
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            for _ in 0..<10 {
                guard !self.registeredKeys.isEmpty else { break }
                await self.tearDownAll()
            }
            done.signal()
        }
        done.wait()
    }
}
