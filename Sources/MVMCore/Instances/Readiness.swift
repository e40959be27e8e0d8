/// What the workload's `/init` reports about the system it sees, parsed from
/// its readiness line:
///
///     mvm-ready uptime=0.54 release=6.1.192 cpus=1 mem_total_kb=118236 mem_available_kb=101112
///
/// A micro-VM reports its own kernel; a container reports the host's kernel
/// and, unless something virtualizes /proc, the host's memory. That
/// difference is one of the things a comparison shows.
public struct GuestFacts: Sendable, Codable, Hashable {
    /// Seconds since the kernel that runs the workload booted.
    public var uptimeSeconds: Double
    public var kernelRelease: String
    public var cpus: Int
    public var memTotalKiB: UInt64
    public var memAvailableKiB: UInt64

    public init(uptimeSeconds: Double, kernelRelease: String, cpus: Int, memTotalKiB: UInt64, memAvailableKiB: UInt64) {
        self.uptimeSeconds = uptimeSeconds
        self.kernelRelease = kernelRelease
        self.cpus = cpus
        self.memTotalKiB = memTotalKiB
        self.memAvailableKiB = memAvailableKiB
    }

    /// Memory the kernel counts as in use: MemTotal minus MemAvailable.
    public var usedBytes: UInt64 {
        (memTotalKiB &- min(memAvailableKiB, memTotalKiB)) * 1024
    }

    public static let linePrefix = "mvm-ready"

    /// Parses a readiness line; nil when the line is not one (or is damaged).
    public init?(readinessLine line: Substring) {
        var fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.first == Substring(Self.linePrefix) else { return nil }
        fields.removeFirst()
        var values: [Substring: Substring] = [:]
        for field in fields {
            guard let equals = field.firstIndex(of: "=") else { return nil }
            values[field[..<equals]] = field[field.index(after: equals)...]
        }
        guard
            // A guest is not trusted: no infinity or NaN (JSON cannot hold
            // them), no memory size whose bytes overflow.
            let uptime = values["uptime"].flatMap({ Double($0) }), uptime.isFinite, uptime >= 0,
            let release = values["release"], !release.isEmpty,
            let cpus = values["cpus"].flatMap({ Int($0) }), cpus > 0,
            let total = values["mem_total_kb"].flatMap({ UInt64($0) }), total <= UInt64.max / 1024,
            let available = values["mem_available_kb"].flatMap({ UInt64($0) }), available <= total
        else { return nil }
        self.init(
            uptimeSeconds: uptime, kernelRelease: String(release), cpus: cpus,
            memTotalKiB: total, memAvailableKiB: available)
    }

    public init?(readinessLine line: String) {
        self.init(readinessLine: Substring(line))
    }
}

/// What makes a workload ready.
public enum ReadinessRule: Sendable, Equatable {
    /// mvm's own readiness line, `mvm-ready ...`, with the guest's facts.
    case mvmLine
    /// The first line that matches a regular expression (`--ready-line`):
    /// for workloads that print something else. The guest's facts are
    /// known only if that line is mvm's own.
    case matching(ReadyLinePattern)
    /// The workload ran to completion with status 0 (`--ready-exit`), as
    /// mvm's image init reports it: `mvm-exit status=0`.
    case workloadExit
}

/// A `--ready-line` regular expression, compiled once.
public struct ReadyLinePattern: Sendable, Equatable {
    public let source: String
    nonisolated(unsafe) let regex: Regex<AnyRegexOutput>

    /// Compiles `source`; a pattern that does not compile is refused with
    /// the reason.
    public init(_ source: String) throws(ReadyLinePatternError) {
        do {
            regex = try Regex(source)
        } catch {
            throw ReadyLinePatternError(pattern: source, reason: "\(error)")
        }
        self.source = source
    }

    public static func == (lhs: ReadyLinePattern, rhs: ReadyLinePattern) -> Bool { lhs.source == rhs.source }

    func matches(_ line: String) -> Bool {
        (try? regex.firstMatch(in: line)) != nil
    }
}

/// A `--ready-line` that is not a regular expression.
public struct ReadyLinePatternError: Error, CustomStringConvertible {
    public let pattern: String
    public let reason: String

    public var description: String {
        "--ready-line '\(pattern)' is not a regular expression (\(reason.split(separator: "\n").first ?? "")); escape characters such as ( [ { . * + ? with a backslash to match them as they are"
    }
}

/// Reads a workload's console output as it arrives and recognises what
/// matters for a boot: the readiness line, a kernel panic, and the last lines
/// (shown to the user when something goes wrong).
package struct ConsoleScanner: Sendable {
    package enum Event: Sendable, Equatable {
        /// The readiness line: the guest's facts when it is mvm's own.
        case ready(GuestFacts?)
        case kernelPanic(line: String)
        /// `mvm-mark NAME`: the workload reached a named point (the host
        /// timestamps it on arrival, like the readiness line).
        case mark(String)
        /// `mvm-fact KEY=VALUE`: something the workload observed.
        case fact(key: String, value: String)
        /// `mvm-exit status=N`: mvm's image init saw the workload exit with
        /// a status that does not make it ready.
        case workloadExited(status: Int)
    }

    /// The longest line kept, in bytes (the readiness line is about 100).
    package static let maximumLineLength = 64 * 1024

    package static let markPrefix = "mvm-mark "
    package static let factPrefix = "mvm-fact "
    /// What mvm's image init prints when the workload has exited.
    package static let exitPrefix = "mvm-exit status="

    package let tailLimit: Int
    package let rule: ReadinessRule
    package private(set) var tail: [String] = []
    /// Every complete line, in order, when on (a traced start reads them
    /// all); nil: off. At most `maximumLoggedLines` are kept.
    package private(set) var lineLog: [String]?
    package static let maximumLoggedLines = 20_000
    package private(set) var receivedBytes = 0
    private var partialLine: [UInt8] = []

    package init(tailLimit: Int = 20, logLines: Bool = false, rule: ReadinessRule = .mvmLine) {
        self.tailLimit = max(1, tailLimit)
        self.rule = rule
        lineLog = logLines ? [] : nil
    }

    /// The last lines seen, including an unterminated last line.
    package var lastLines: [String] {
        var lines = tail
        if !partialLine.isEmpty {
            lines.append(Self.text(partialLine))
            if lines.count > tailLimit { lines.removeFirst() }
        }
        return lines
    }

    /// Feeds bytes; returns the events found in the complete lines they end.
    package mutating func feed<Bytes: Sequence>(_ bytes: Bytes) -> [Event] where Bytes.Element == UInt8 {
        var events: [Event] = []
        for byte in bytes {
            receivedBytes += 1
            if byte == UInt8(ascii: "\n") {
                let line = Self.text(partialLine)
                partialLine.removeAll(keepingCapacity: true)
                remember(line)
                if let event = event(in: line) { events.append(event) }
            } else if byte != UInt8(ascii: "\r") && partialLine.count < Self.maximumLineLength {
                // A guest is not trusted: past the limit a line is cut, so
                // that one endless line cannot take mvm's memory with it.
                partialLine.append(byte)
            }
        }
        return events
    }

    private mutating func remember(_ line: String) {
        if lineLog != nil, (lineLog?.count ?? 0) < Self.maximumLoggedLines { lineLog?.append(line) }
        tail.append(line)
        if tail.count > tailLimit { tail.removeFirst(tail.count - tailLimit) }
    }

    private func event(in line: String) -> Event? {
        // The readiness line may share its console line with kernel output
        // that was printed without a newline, so look for it anywhere.
        let facts = line.firstRange(of: GuestFacts.linePrefix + " ").flatMap {
            GuestFacts(readinessLine: line[$0.lowerBound...])
        }
        switch rule {
        case .mvmLine: if let facts { return .ready(facts) }
        case .matching(let pattern): if pattern.matches(line) { return .ready(facts) }
        case .workloadExit: break
        }
        // Anywhere in the line: the workload's last line may lack its newline.
        if let start = line.firstRange(of: Self.exitPrefix),
            let status = Int(line[start.upperBound...].prefix { $0.isNumber || $0 == "-" })
        {
            return rule == .workloadExit && status == 0 ? .ready(nil) : .workloadExited(status: status)
        }
        if line.contains("Kernel panic - not syncing") { return .kernelPanic(line: line) }
        return Self.report(in: line)
    }

    private static func report(in line: String) -> Event? {
        if let start = line.firstRange(of: markPrefix) {
            let words = line[start.upperBound...].split(separator: " ")
            if words.count == 1, let name = words.first { return .mark(String(name)) }
        }
        if let start = line.firstRange(of: factPrefix) {
            let field = line[start.upperBound...]
            if let equals = field.firstIndex(of: "="), equals != field.startIndex {
                return .fact(key: String(field[..<equals]), value: String(field[field.index(after: equals)...]))
            }
        }
        return nil
    }

    private static func text(_ bytes: [UInt8]) -> String {
        // Console bytes are not guaranteed to be UTF-8, and a shell on the
        // console sends terminal escapes: keep lines printable.
        String(decoding: bytes.filter { $0 >= 0x20 || $0 == UInt8(ascii: "\t") }, as: UTF8.self)
    }
}
