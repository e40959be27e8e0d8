import Foundation

/// Runs blocking work (libvirt calls, waiting on a console with poll(2)) on a
/// thread of its own, so that it never holds one of the few threads of
/// Swift's cooperative pool while it waits.
package func onDedicatedThreadTyped<Success: Sendable, Failure: Error>(
    name: String = "mvm-blocking",
    _ body: @escaping @Sendable () throws(Failure) -> Success
) async throws(Failure) -> Success {
    let result: Result<Success, Failure> = await withCheckedContinuation { continuation in
        let thread = Thread {
            continuation.resume(returning: Result { () throws(Failure) -> Success in try body() })
        }
        thread.name = name
        thread.start()
    }
    return try result.get()
}
