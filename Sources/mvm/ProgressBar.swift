import Compare
import Foundation
import MVMCore

/// A one-line progress bar on stderr, only when stderr is a terminal.
struct ProgressBar: Sendable {
    let enabled: Bool

    func show(_ progress: ComparisonProgress) {
        guard enabled else { return }
        let width = 30
        let filled = progress.totalBatches == 0 ? 0 : width * progress.completedBatches / progress.totalBatches
        let eta = progress.remaining.map { " ETA " + clock($0) } ?? ""
        let failures = progress.failures > 0 ? ", \(progress.failures) failed" : ""
        let line =
            "\r[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            + "] \(progress.completedBatches)/\(progress.totalBatches) runs\(failures), \(clock(progress.elapsed)) elapsed\(eta)  "
        FileHandle.standardError.write(Data(line.utf8))
    }

    func clear() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    private func clock(_ duration: Duration) -> String {
        let total = Int(duration.seconds.rounded())
        return "\(total / 60):" + (total % 60 < 10 ? "0" : "") + "\(total % 60)"
    }
}
