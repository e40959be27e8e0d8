import Dispatch
import Foundation
import MVMCore
import Synchronization

/// On SIGINT or SIGTERM, tears down whatever this process started (domains,
/// containers) before exiting, so an interrupted run leaves nothing behind.
enum InterruptHandling {
    /// The signal sources must live as long as the process.
    private static let sources = Mutex<[any DispatchSourceSignal]>([])
    private static let interrupted = Mutex(false)
    /// What to save once every instance is torn down: the partial results.
    private static let finalWords = Mutex<(@Sendable () async -> Void)?>(nil)

    /// Sets (or, with nil, clears) what an interrupt saves before exiting.
    static func onInterrupt(_ save: (@Sendable () async -> Void)?) {
        finalWords.withLock { $0 = save }
    }

    static func install() {
        sources.withLock { sources in
            guard sources.isEmpty else { return }
            for signalNumber in [SIGINT, SIGTERM] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
                source.setEventHandler {
                    interrupted.withLock { $0 = true }
                    RawTerminal.restore()
                    FileHandle.standardError.write(Data("\ninterrupted: tearing down what mvm started\n".utf8))
                    TeardownRegistry.shared.tearDownAllBlocking()
                    if let save = finalWords.withLock({ $0 }) {
                        let done = DispatchSemaphore(value: 0)
                        Task.detached {
                            await save()
                            done.signal()
                        }
                        done.wait()
                    }
                    exit(128 + signalNumber)
                }
                source.resume()
                sources.append(source)
            }
        }
    }

    /// Once a signal came, its handler owns the exit (status 128 + signal,
    /// after the teardown): the main path, which the teardown may have
    /// woken with an error, waits for it instead of exiting first.
    static func yieldToAnInterrupt() async {
        guard interrupted.withLock({ $0 }) else { return }
        while true { try? await Task.sleep(for: .seconds(1)) }
    }
}
