import Foundation
import MVMCore
import Synchronization

/// Launches instances that exist only in memory, with the phase times and
/// memory a script gives: for testing what runs on top of instances (the
/// runner, the jobs, the verdicts) without a hypervisor or a runtime.
public struct FakeLauncher: InstanceLauncher {
    /// What the n-th launch of this launcher (0-based, warm-ups included)
    /// shows: seconds from the request to ready, or nil for a launch that
    /// fails.
    public typealias Script = @Sendable (_ launch: Int) -> Double?

    public let name: String
    public let pssBytes: UInt64
    private let script: Script
    private let counter = LaunchCounter()

    public init(name: String, pssBytes: UInt64 = 2 << 20, readySeconds script: @escaping Script) {
        self.name = name
        self.pssBytes = pssBytes
        self.script = script
    }

    /// How many launches were asked for.
    public var launches: Int { counter.value }
    /// How many launched instances are still running.
    public var running: Int { counter.running }

    public func launch() async throws(FakeLaunchFailure) -> FakeInstance {
        let number = counter.next()
        guard let ready = script(number) else { throw FakeLaunchFailure(launch: number) }
        var timeline = BootTimeline()
        timeline.append(.started, at: .seconds(ready * 0.4))
        timeline.append(.firstOutput, at: .seconds(ready * 0.9))
        timeline.append(.ready, at: .seconds(ready))
        let boot = BootRecord(
            timeline: timeline,
            facts: GuestFacts(
                uptimeSeconds: ready, kernelRelease: "6.1.0-fake", cpus: 1, memTotalKiB: 131_072,
                memAvailableKiB: 120_000),
            requestedAt: Date())
        counter.started()
        return FakeInstance(
            name: "\(instanceNamePrefix)fake-\(name)-\(number)", boot: boot, pssBytes: pssBytes, counter: counter)
    }
}

/// A fake launch that the script made fail.
public struct FakeLaunchFailure: Error, CustomStringConvertible {
    public let launch: Int
    public var description: String { "fake launch \(launch) failed as scripted" }
}

/// An instance of a `FakeLauncher`: ready at once, holding nothing.
public final class FakeInstance: RunningInstance {
    public let name: String
    public let boot: BootRecord
    private let pssBytes: UInt64
    private let counter: LaunchCounter
    private let stopped = Mutex(false)

    init(name: String, boot: BootRecord, pssBytes: UInt64, counter: LaunchCounter) {
        self.name = name
        self.boot = boot
        self.pssBytes = pssBytes
        self.counter = counter
    }

    public func footprint() async throws -> Footprint {
        Footprint(readings: [MemoryReading(.pss, bytes: pssBytes), MemoryReading(.rss, bytes: pssBytes + (1 << 20))])
    }

    /// Stops once, however often it is called (the protocol's contract).
    public func stop() async throws {
        let first = stopped.withLock { wasStopped in
            defer { wasStopped = true }
            return !wasStopped
        }
        if first { counter.stopped() }
    }

    public func releaseProbe() -> ReleaseProbe { ReleaseProbe([]) }
}

/// Launches and running instances, shared by a launcher and its instances.
final class LaunchCounter: Sendable {
    private let state = Mutex((launches: 0, running: 0))

    func next() -> Int {
        state.withLock { state in
            defer { state.launches += 1 }
            return state.launches
        }
    }

    func started() { state.withLock { $0.running += 1 } }
    func stopped() { state.withLock { $0.running -= 1 } }
    var value: Int { state.withLock { $0.launches } }
    var running: Int { state.withLock { $0.running } }
}
