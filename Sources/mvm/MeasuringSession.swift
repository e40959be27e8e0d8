import Compare
import Foundation
import Jobs
import MVMCore

/// What the terminal shows around a measuring job, `mvm compare` and `mvm
/// nightly` alike: a progress bar, a "measuring <dimension>" line when there
/// is more than boot, and on an interrupt the completed runs, saved.
struct MeasuringSession {
    let progress = ProgressBar(enabled: isatty(STDERR_FILENO) == 1)
    let log = SampleLog()
    let startedAt = Date()
    let announcesDimensions: Bool

    /// Runs `body` with an observer that feeds the bar and the log; an
    /// interrupt meanwhile clears the bar and hands `save` the samples of
    /// the completed runs and the start time.
    func run<Result>(
        _ body: (MeasurementObserver) async -> Result,
        savingOnInterrupt save: @escaping @Sendable ([InstanceSample], Date) async -> Void
    ) async -> Result {
        let (progress, log, startedAt, announces) = (progress, log, startedAt, announcesDimensions)
        InterruptHandling.onInterrupt {
            progress.clear()
            await save(log.snapshot, startedAt)
        }
        let observer = MeasurementObserver(
            log: log, progress: { progress.show($0) },
            measuring: { dimension in
                guard announces else { return }
                progress.clear()
                FileHandle.standardError.write(Data("measuring \(dimension.rawValue)\n".utf8))
            })
        let result = await body(observer)
        InterruptHandling.onInterrupt(nil)
        progress.clear()
        return result
    }
}

/// An error on stderr, as ArgumentParser prints one.
func printError(_ error: any Error) {
    FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
}
