import Foundation
import MVMCore
import Testing

@testable import VMM

@Suite struct ConsoleSocketTests {
    /// An interrupt closes the console while the boot thread waits for QEMU
    /// to connect: the waiting thread wakes at once with a clear error, and
    /// the socket file is gone.
    @Test func closingWakesAThreadWaitingForQEMU() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mvm-console-\(UUID().uuidString.prefix(8)).sock"
        ).path
        let socket = try ConsoleSocket(path: path)
        #expect(FileManager.default.fileExists(atPath: path))
        let clock = ContinuousClock()
        let start = clock.now
        let waiter = Task {
            await onDedicatedThreadTyped { () -> String? in
                do {
                    _ = try socket.acceptConnection(until: clock.now + .seconds(30))
                    return nil
                } catch {
                    return "\(error)"
                }
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        socket.close()
        let message = await waiter.value
        #expect(message == "the console was closed while mvm waited for QEMU (mvm is being stopped)")
        #expect(clock.now - start < .seconds(10))
        #expect(!FileManager.default.fileExists(atPath: path))
        socket.close()
    }
}
