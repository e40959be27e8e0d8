import Compare
import Foundation
import History
import MVMCore

/// How a run is kept and judged, as given: `mvm nightly`'s and `mvm compare
/// --record/--baseline`'s history settings before their defaults apply.
public struct HistorySettings: Sendable {
    /// A file or a fleet's `postgresql://` URL; nil: `MVM_HISTORY`, else
    /// `<state>/history.sqlite`.
    public var location: String?
    public var record = false
    public var label: String?
    /// `auto`, a label or a run id; nil: no verdict (a nightly job: auto).
    public var baseline: String?
    public var reportPath: String?
    public var prometheusPath: String?
    public var verdicts = VerdictSettings()
    /// Refuse to measure when the one-minute load is above this.
    public var requireQuietLoad: Double?

    public init() {}
}

/// What a nightly (or a `compare --record/--baseline`) job is asked to do on
/// top of the comparison itself, with every default applied.
public struct NightlyRequest: Sendable {
    public var comparison: ComparisonRequest
    /// The history: a file, or a fleet's PostgreSQL.
    public var history: HistoryLocation
    /// Where a run goes when the fleet's database cannot take it, so that
    /// nothing measured is lost: the host's own SQLite file.
    public var fallbackHistoryPath: String
    public var record: Bool
    public var label: String?
    /// nil: no verdict, only a recording.
    public var baseline: BaselineChoice?
    public var settings: VerdictSettings
    public var requireQuietLoad: Double?
    /// `mvm nightly`'s pre-flight check: another mvm, QEMU or runc on the
    /// host fails the job. `compare --record` records the conditions only.
    public var preflight: Bool
    /// Where the HTML report and the Prometheus textfile go; nil: nowhere.
    public var reportPath: String?
    public var prometheusPath: String?

    /// `nightly`: `mvm nightly`'s defaults (record, judge against `auto`,
    /// the pre-flight check, the report and textfile under
    /// `<state>/nightly/`); otherwise `mvm compare`'s (only what is asked).
    public init(
        comparison: ComparisonRequest, history: HistorySettings, nightly: Bool,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        let state = comparison.stateDirectory
        self.comparison = comparison
        self.history = HistoryLocation.resolve(history.location, state: state, environment: environment)
        fallbackHistoryPath = Self.defaultHistoryPath(in: state)
        record = nightly || history.record
        label = history.label
        baseline = (history.baseline ?? (nightly ? "auto" : nil)).map(BaselineChoice.init(argument:))
        settings = history.verdicts
        requireQuietLoad = history.requireQuietLoad
        preflight = nightly
        reportPath = history.reportPath ?? (nightly ? state.subdirectory("nightly/report.html") : nil)
        prometheusPath = history.prometheusPath ?? (nightly ? state.subdirectory("nightly/mvm.prom") : nil)
    }

    /// `<state>/history.sqlite`.
    public static func defaultHistoryPath(in state: StateDirectory) -> String {
        state.subdirectory("history.sqlite")
    }
}
