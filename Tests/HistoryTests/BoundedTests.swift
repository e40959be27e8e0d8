import Testing

@testable import PostgresHistory

/// `bounded`: what guards a nightly job against a database call that never
/// returns.
@Suite struct BoundedTests {
    struct TimedOut: Error, Equatable {}
    struct Failed: Error, Equatable {}

    @Test func aCallThatNeverReturnsEndsInTheTimeoutsError() async {
        await #expect(throws: TimedOut.self) {
            try await bounded(by: .milliseconds(200), orThrow: TimedOut()) {
                // Ignores cancellation, as a call stuck on a dead connection does.
                await withUnsafeContinuation { (_: UnsafeContinuation<Void, Never>) in }
            }
        }
    }

    @Test func aCallThatReturnsGivesItsValueOrItsError() async throws {
        let value = try await bounded(by: .seconds(60), orThrow: TimedOut()) { 42 }
        #expect(value == 42)
        await #expect(throws: Failed.self) {
            try await bounded(by: .seconds(60), orThrow: TimedOut()) { () async throws -> Int in throw Failed() }
        }
    }
}
