import Compare
import Foundation

/// What identifies a recorded run and what it ran on: enough to place it on
/// a trend and to say what changed since the run before.
public struct RunHeader: Sendable, Codable, Equatable {
    /// "20261130T082330Z-1a2b3c": sortable by time, unique per recording.
    public var id: String
    public var label: String?
    public var startedAt: Date
    public var hostKey: String
    public var planKey: String
    public var stack: StackFacts
    /// Interrupted: its completed samples are kept, never used as a baseline.
    public var partial: Bool
    /// The job failed (a failed boot, another instance running): kept for the
    /// record, never used as a baseline.
    public var failed: Bool
    /// The pre-flight check said the host was busy.
    public var underLoad: Bool

    public init(
        id: String, label: String?, startedAt: Date, hostKey: String, planKey: String, stack: StackFacts, partial: Bool,
        failed: Bool, underLoad: Bool
    ) {
        self.id = id
        self.label = label
        self.startedAt = startedAt
        self.hostKey = hostKey
        self.planKey = planKey
        self.stack = stack
        self.partial = partial
        self.failed = failed
        self.underLoad = underLoad
    }

    /// Good enough to be part of a baseline.
    public var isGood: Bool { !partial && !failed }

    public static func newID(at date: Date, random: UInt32 = UInt32.random(in: 0...UInt32.max)) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date) + "-" + String(format: "%06x", random & 0xFF_FFFF)
    }
}

/// A run as the store keeps it: its header, the host and plan it ran under,
/// how the host was, the whole comparison (every raw sample) and the
/// verdicts given on it.
public struct RecordedRun: Sendable, Codable, Equatable {
    public var header: RunHeader
    public var host: HostIdentity
    public var plan: PlanIdentity
    public var conditions: HostConditions
    public var report: ComparisonReport
    /// Why the job failed, when it did.
    public var failures: [String]
    public var verdicts: [SeriesVerdict]

    public init(
        header: RunHeader, host: HostIdentity, plan: PlanIdentity, conditions: HostConditions, report: ComparisonReport,
        failures: [String], verdicts: [SeriesVerdict]
    ) {
        self.header = header
        self.host = host
        self.plan = plan
        self.conditions = conditions
        self.report = report
        self.failures = failures
        self.verdicts = verdicts
    }

    /// The run as its job reported it, without the trends (they need the
    /// history around it).
    public var outcome: NightlyOutcome {
        NightlyOutcome(
            run: header, host: host, plan: plan, conditions: conditions, baseline: "as recorded", verdicts: verdicts,
            trends: [],
            comparison: report, failures: failures,
            exitStatus: nightlyExitStatus(verdicts: verdicts, jobFailed: !failures.isEmpty))
    }

    /// Every series of the run, with its values.
    public var series: [(SeriesKey, SeriesValues)] {
        report.seriesValues(hostKey: header.hostKey, planKey: header.planKey)
    }
}

/// A deliberate change, said by a person: "moved to QEMU 8.0". Runs before
/// it never form a baseline for runs after it.
public struct Annotation: Sendable, Codable, Equatable {
    public var id: Int64?
    public var hostKey: String
    /// nil: every series of the host; else only this contender's (or ratio's).
    public var subject: String?
    public var at: Date
    public var message: String

    public init(id: Int64? = nil, hostKey: String, subject: String?, at: Date, message: String) {
        self.id = id
        self.hostKey = hostKey
        self.subject = subject
        self.at = at
        self.message = message
    }
}

/// A run as `mvm history list` shows it: its header and how many verdicts
/// were given on it, and how many of those are regressions.
public struct RunOverview: Sendable, Equatable {
    public var header: RunHeader
    public var verdicts: Int
    public var regressions: Int
}

/// A host as `mvm history hosts` lists it.
public struct HostEntry: Sendable, Codable, Equatable {
    public var key: String
    public var identity: HostIdentity
    public var runs: Int
    public var plans: [String: PlanIdentity]
    public var firstRun: Date?
    public var lastRun: Date?

    public init(
        key: String, identity: HostIdentity, runs: Int, plans: [String: PlanIdentity], firstRun: Date?, lastRun: Date?
    ) {
        self.key = key
        self.identity = identity
        self.runs = runs
        self.plans = plans
        self.firstRun = firstRun
        self.lastRun = lastRun
    }
}

/// Where runs are kept. The verdict code sees only this, so that a server
/// database can stand in for the embedded SQLite file.
///
/// Every implementation guarantees:
/// - `record` stores the whole run or nothing: a reader never sees half a
///   run, even when the process dies during the call;
/// - two processes may record at once; neither loses its run;
/// - `observations` returns the series' runs in the order they started,
///   oldest first, including partial and failed runs (marked in their
///   headers), so callers decide what counts;
/// - runs that started at the same moment are ordered by their ids, byte by
///   byte, as if the id were the finer part of the time: newest-first lists
///   put the greater id first, oldest-first lists the smaller, so that every
///   store lists a history the same way.
public protocol HistoryStore: Sendable {
    func record(_ run: RecordedRun) async throws
    func run(id: String) async throws -> RecordedRun?
    /// Headers of runs, newest first; `hostKey` nil means every host.
    func runs(hostKey: String?, limit: Int) async throws -> [RunHeader]
    /// The runs `runs(hostKey:limit:)` lists, in its order, each with its
    /// verdicts counted: one query, however many runs.
    func runOverviews(hostKey: String?, limit: Int) async throws -> [RunOverview]
    func observations(of series: SeriesKey) async throws -> [SeriesObservation]
    func annotate(_ annotation: Annotation) async throws
    /// The host's annotations, oldest first; those made at the same moment
    /// in the order they were made.
    func annotations(hostKey: String) async throws -> [Annotation]
    /// Every host with a recorded run, the one that ran last first; hosts
    /// whose last runs started at the same moment in the order of their keys.
    func hosts() async throws -> [HostEntry]
}
