/// Resident and proportional set sizes of one process, from
/// /proc/<pid>/smaps_rollup. PSS divides shared pages among the processes
/// that map them, so it is the fair figure to add up and compare.
public struct ProcessMemory: Sendable, Hashable, Codable {
    public var rssBytes: UInt64
    public var pssBytes: UInt64

    public init(rssBytes: UInt64, pssBytes: UInt64) {
        self.rssBytes = rssBytes
        self.pssBytes = pssBytes
    }

    /// Parses the text of an smaps_rollup file.
    public init?(smapsRollup text: String) {
        var rss: UInt64?
        var pss: UInt64?
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kib = UInt64(fields[1]) else { continue }
            switch fields[0] {
            case "Rss:": rss = kib * 1024
            case "Pss:": pss = kib * 1024
            default: continue
            }
        }
        guard let rss, let pss else { return nil }
        self.init(rssBytes: rss, pssBytes: pss)
    }

    /// Reads a live process's figures.
    public static func read(pid: Int32) throws(ProcessMemoryError) -> ProcessMemory {
        let path = "/proc/\(pid)/smaps_rollup"
        guard let text = readSmallFile(path) else { throw .unreadable(pid: pid, path: path) }
        guard let memory = ProcessMemory(smapsRollup: text) else { throw .unparsable(pid: pid, path: path) }
        return memory
    }
}

public enum ProcessMemoryError: Error, CustomStringConvertible, Equatable {
    case unreadable(pid: Int32, path: String)
    case unparsable(pid: Int32, path: String)

    public var description: String {
        switch self {
        case .unreadable(let pid, let path):
            "cannot read \(path): process \(pid) is gone or not readable by this user"
        case .unparsable(let pid, let path):
            "\(path) of process \(pid) has no Rss/Pss lines"
        }
    }
}
