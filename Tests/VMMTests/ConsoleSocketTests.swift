import Foundation
import MVMCore
import Testing

@testable import VMM

@Suite struct ConsoleSocketTests {
    /// An interrupt closes the console while the boot thread waits for QEMU
    /// to connect: the waiting thread wakes with a clear error, and the
    /// socket file is gone. The message is the proof, not a clock: a wait
    /// the close did not end would run into its deadline and say so
    /// (wall-clock bounds fail here when the statistics tests beside it
    /// take every cooperative thread).
    @Test func closingWakesAThreadWaitingForQEMU() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mvm-console-\(UUID().uuidString.prefix(8)).sock"
        ).path
        let socket = try ConsoleSocket(path: path)
        #expect(FileManager.default.fileExists(atPath: path))
        let clock = ContinuousClock()
        let waiter = Task {
            await onDedicatedThreadTyped { () -> String? in
                do {
                    _ = try socket.acceptConnection(until: clock.now + .seconds(600))
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
        #expect(!FileManager.default.fileExists(atPath: path))
        socket.close()
    }
}
