import Synchronization

/// The instances this process has running, with how to tear each down, so
/// that an interrupted mvm (Ctrl-C, SIGTERM) still leaves nothing behind.
/// Backends register an instance once it exists and unregister it when it
/// has stopped (or was handed over with `--keep`).
public final class TeardownRegistry: Sendable {
    public static let shared = TeardownRegistry()

    private let actions = Mutex<[String: @Sendable () -> Void]>([:])

    public init() {}

    public func register(_ key: String, teardown: @escaping @Sendable () -> Void) {
        actions.withLock { $0[key] = teardown }
    }

    public func unregister(_ key: String) {
        _ = actions.withLock { $0.removeValue(forKey: key) }
    }

    public var registeredKeys: [String] {
        actions.withLock { Array($0.keys) }.sorted()
    }

    /// Runs and forgets every registered teardown (blocking).
    public func tearDownAll() {
        let pending = actions.withLock { actions in
            defer { actions.removeAll() }
            return Array(actions.values)
        }
        for teardown in pending { teardown() }
    }
}
