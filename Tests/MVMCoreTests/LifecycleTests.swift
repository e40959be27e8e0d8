import Foundation
import Synchronization
import SystemPackage
import Testing

@testable import MVMCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct TeardownTests {
    struct Refused: Error {}

    @Test func runsOnceAndLeavesTheRegistry() async throws {
        let registry = TeardownRegistry()
        let count = Mutex(0)
        let teardown = InstanceTeardown(key: "mvm-1", registry: registry) { count.withLock { $0 += 1 } }
        #expect(registry.registeredKeys == ["mvm-1"])
        try await teardown.run()
        try await teardown.run()
        await registry.tearDownAll()
        #expect(count.withLock { $0 } == 1)
        #expect(registry.registeredKeys.isEmpty)
    }

    /// A second caller (an interrupt during stop) waits for the teardown
    /// under way instead of returning while it still runs.
    @Test func aSecondCallerWaitsForTheTeardownUnderWay() async throws {
        let registry = TeardownRegistry()
        let finished = Mutex(false)
        let teardown = InstanceTeardown(key: "mvm-2", registry: registry) {
            try await Task.sleep(for: .milliseconds(200))
            finished.withLock { $0 = true }
        }
        let first = Task { try await teardown.run() }
        try await Task.sleep(for: .milliseconds(50))
        await registry.tearDownAll()
        #expect(finished.withLock { $0 })
        try await first.value
    }

    @Test func detachedInstancesAreNeverTornDown() async throws {
        let registry = TeardownRegistry()
        let count = Mutex(0)
        let teardown = InstanceTeardown(key: "mvm-3", registry: registry) { count.withLock { $0 += 1 } }
        teardown.detach()
        #expect(registry.registeredKeys.isEmpty)
        await registry.tearDownAll()
        try await teardown.run()
        #expect(count.withLock { $0 } == 0)
    }

    @Test func aFailedLaunchTearsDownWhatItMade() async throws {
        let registry = TeardownRegistry()
        let tornDown = Mutex<[String]>([])
        await #expect(throws: Refused.self) {
            _ = try await withLaunchScope(timeout: .seconds(1), registry: registry) {
                (scope) async throws(Refused) -> Int in
                _ = scope.onTeardown { tornDown.withLock { $0.append(scope.id) } }
                #expect(registry.registeredKeys == [scope.id])
                throw Refused()
            }
        }
        #expect(tornDown.withLock { $0.count } == 1)
        #expect(registry.registeredKeys.isEmpty)
    }

    @Test func aLaunchThatSucceedsHandsItsTeardownOver() async throws {
        let registry = TeardownRegistry()
        let teardown = await withLaunchScope(timeout: .seconds(1), registry: registry) { scope in
            scope.mark(.started)
            return scope.onTeardown {}
        }
        #expect(registry.registeredKeys == [teardown.key])
        try await teardown.run()
        #expect(registry.registeredKeys.isEmpty)
    }
}

@Suite struct SharedDescriptorTests {
    func socketPair() throws -> (SharedDescriptor, FileDescriptor) {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        return (SharedDescriptor(FileDescriptor(rawValue: fds[0])), FileDescriptor(rawValue: fds[1]))
    }

    /// The socket's inode, or nil once the number no longer names it.
    /// Tests run in parallel, so a closed number may already name another
    /// file: comparing inodes, not EBADF, is what shows the close.
    func inode(of fd: Int32) -> ino_t? {
        var status = stat()
        return fstat(fd, &status) == 0 ? status.st_ino : nil
    }

    /// The interrupt case: one thread blocks reading, another closes. The
    /// reader wakes (end of output), and only then is the descriptor closed.
    @Test func closingWakesABlockedReaderAndClosesAfterIt() async throws {
        let (shared, peer) = try socketPair()
        defer { try? peer.close() }
        let number = Mutex<Int32>(-1)
        let reader = Task {
            await onDedicatedThreadTyped { () -> Result<ReadinessObservation, ReadinessWaitFailure>? in
                shared.withDescriptor { descriptor in
                    number.withLock { $0 = descriptor.rawValue }
                    var scanner = ConsoleScanner()
                    return waitForReadiness(on: descriptor, until: .now + .seconds(30), scanner: &scanner)
                }
            }
        }
        // Wait until the reader holds the descriptor: a loaded machine (the
        // tests run in parallel) may take a while to start its thread.
        let deadline = ContinuousClock.now + .seconds(20)
        while number.withLock({ $0 }) < 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        // Then give it a moment to block in poll(2).
        try await Task.sleep(for: .milliseconds(100))
        let fd = number.withLock { $0 }
        try #require(fd >= 0)
        let socketInode = try #require(inode(of: fd))
        shared.close()
        let outcome = await reader.value
        #expect(outcome.map { if case .failure(.endOfOutput) = $0 { true } else { false } } == true)
        #expect(inode(of: fd) != socketInode)
        #expect(shared.isClosed)
        #expect(shared.withDescriptor { _ in true } == nil)
    }

    @Test func closingAnUnusedDescriptorClosesItAtOnce() throws {
        let (shared, peer) = try socketPair()
        defer { try? peer.close() }
        let fd = try #require(shared.withDescriptor { $0.rawValue })
        let socketInode = try #require(inode(of: fd))
        shared.close()
        shared.close()
        #expect(inode(of: fd) != socketInode)
    }
}
