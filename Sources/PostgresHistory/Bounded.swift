import Synchronization

/// Runs `body`, but gives up on it after `limit` and throws `timeout`: a
/// connection that the server ends in the middle of a transaction can leave
/// postgres-nio waiting for ever (seen when PostgreSQL restarts while a run
/// is written), and a nightly job must not hang on its database. The work
/// given up on is cancelled and left to end on its own; its result is
/// dropped.
func bounded<Value: Sendable>(
    by limit: Duration, orThrow timeout: any Error,
    _ body: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    let pending = PendingResult<Value>()
    return try await withCheckedThrowingContinuation { continuation in
        pending.set(continuation)
        let work = Task {
            do {
                pending.resume(with: .success(try await body()))
            } catch {
                pending.resume(with: .failure(error))
            }
        }
        let timer = Task {
            try await Task.sleep(for: limit)
            if pending.resume(with: .failure(timeout)) { work.cancel() }
        }
        pending.onResume { timer.cancel() }
    }
}

/// A continuation resumed once, by whichever of the work and the timer
/// comes first.
private final class PendingResult<Value: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Value, any Error>?
        var resumed = false
        var onResume: (@Sendable () -> Void)?
    }
    private let state = Mutex(State())

    func set(_ continuation: CheckedContinuation<Value, any Error>) {
        state.withLock { $0.continuation = continuation }
    }

    /// Runs `action` once the result is in (at once if it is already).
    func onResume(_ action: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            if state.resumed { return true }
            state.onResume = action
            return false
        }
        if now { action() }
    }

    /// True for the first caller, whose result is the one delivered.
    @discardableResult
    func resume(with result: Result<Value, any Error>) -> Bool {
        let taken = state.withLock { state -> (CheckedContinuation<Value, any Error>, (@Sendable () -> Void)?)? in
            guard !state.resumed, let continuation = state.continuation else { return nil }
            state.resumed = true
            state.continuation = nil
            defer { state.onResume = nil }
            return (continuation, state.onResume)
        }
        guard let (continuation, action) = taken else { return false }
        continuation.resume(with: result)
        action?()
        return true
    }
}
