import Dispatch
import Foundation
import MVMCore
import Synchronization

/// On SIGINT or SIGTERM, tears down whatever this process started (domains,
/// containers) before exiting, so an interrupted run leaves nothing behind.
enum InterruptHandling {
    /// The signal sources must live as long as the process.
    private static let sources = Mutex<[any DispatchSourceSignal]>([])

    static func install() {
        sources.withLock { sources in
            guard sources.isEmpty else { return }
            for signalNumber in [SIGINT, SIGTERM] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
                source.setEventHandler {
                    FileHandle.standardError.write(Data("\ninterrupted: tearing down what mvm started\n".utf8))
                    TeardownRegistry.shared.tearDownAll()
                    exit(128 + signalNumber)
                }
                source.resume()
                sources.append(source)
            }
        }
    }
}
