import Compare
import Foundation
import History
import MVMCore
import SQLiteHistory

/// A comparison kept in the history and judged against its baseline. Making
/// one checks the comparison and opens the store; `run` measures, judges,
/// confirms and records, and always returns an outcome (a failed job is an
/// outcome with failures and exit status 2, so its report is still written).
public struct NightlyJob: Sendable {
    public let request: NightlyRequest
    public let comparison: ComparisonJob
    private let store: any HistoryStore
    private let host: HostIdentity
    /// Why the runs go to the local file instead of the fleet's database.
    private let fallback: String?

    /// Opens the request's store (or takes `store`, already open) and
    /// checks the baseline, then makes mvm's own comparison job (or takes
    /// `comparison`, with contenders of the caller's).
    public init(_ request: NightlyRequest, comparison: ComparisonJob? = nil, store opened: (any HistoryStore)? = nil)
        async throws
    {
        let store: any HistoryStore
        var fallback: String?
        if let opened {
            store = opened
        } else {
            do {
                store = try await request.history.open()
            } catch {
                // A fleet database that is down, refuses mvm or is newer: measure
                // anyway and keep the run here; the job still fails (status 2).
                guard case .server = request.history, request.fallbackHistoryPath != request.history.description else {
                    throw error
                }
                store = try SQLiteHistoryStore.open(path: request.fallbackHistoryPath)
                fallback = Self.keptLocally(after: error, in: request.fallbackHistoryPath)
            }
        }
        let host = HostIdentity(host: request.comparison.host)
        // An explicit baseline that does not exist is a mistake to report
        // before an hour of measuring, not after.
        switch request.baseline {
        case .run(let id):
            guard let run = try await store.run(id: id) else {
                throw NightlyError("no run \(id) in \(request.history): see `mvm history list`")
            }
            guard run.header.hostKey == host.key else {
                throw NightlyError(
                    "run \(id) was measured on another host (\(run.host.hostname)): its figures do not compare with this one's"
                )
            }
            guard run.header.isGood else {
                let why = run.header.partial ? "was interrupted (partial)" : "failed"
                throw NightlyError(
                    "run \(id) \(why): it cannot be a baseline; choose a good run from `mvm history list`")
            }
        case .label(let label):
            let labelled = try await store.runs(hostKey: host.key, limit: 10_000).filter {
                $0.label == label && $0.isGood
            }
            guard !labelled.isEmpty else {
                throw NightlyError(
                    "no good run labelled \"\(label)\" on this host in \(request.history): see `mvm history list`")
            }
        case .automatic, nil: break
        }
        if let comparison {
            self.comparison = comparison
        } else {
            self.comparison = try await ComparisonJob(request.comparison)
        }
        self.host = host
        self.request = request
        self.store = store
        self.fallback = fallback
    }

    /// The plan, stack and header a run of this job records.
    private func identity(of report: ComparisonReport, startedAt: Date) -> (PlanIdentity, StackFacts, RunHeader) {
        let plan = PlanIdentity(
            contenders: report.contenders, memoryMiB: request.comparison.limits.memoryMiB,
            vcpus: request.comparison.limits.vcpus,
            accelerator: report.environment.accelerator, runs: request.comparison.plan.runs,
            warmup: request.comparison.plan.warmup,
            concurrency: request.comparison.plan.concurrency,
            workload: request.comparison.settings.workload.planDescription)
        let stack = StackFacts(
            hostKernel: report.environment.hostKernel, versions: report.environment.versions,
            images: report.environment.images,
            domainXML: sha256Hex(Data(comparison.domainXML.utf8)), mvmVersion: report.environment.mvmVersion,
            gitCommit: report.environment.gitCommit)
        let header = RunHeader(
            id: RunHeader.newID(at: startedAt), label: request.label, startedAt: startedAt, hostKey: host.key,
            planKey: plan.key,
            stack: stack, partial: report.partial == true, failed: false, underLoad: false)
        return (plan, stack, header)
    }

    /// What an interrupted job keeps: the completed runs' samples, recorded
    /// as a partial run (never a baseline) when the job records, and the
    /// outcome to export. No verdict is given on a partial run.
    public func interrupted(samples: [InstanceSample], startedAt: Date) async -> NightlyOutcome {
        let report = await comparison.partialReport(samples: samples, startedAt: startedAt)
        let (plan, _, header) = identity(of: report, startedAt: startedAt)
        let snapshot = HostSnapshot.take()
        let conditions = HostConditions(start: snapshot, end: snapshot)
        var failures = ["interrupted after \(samples.filter { !$0.warmup }.count) measured instances"]
        if request.record {
            failures += await keep(
                RecordedRun(
                    header: header, host: host, plan: plan, conditions: conditions, report: report, failures: failures,
                    verdicts: []))
        }
        return NightlyOutcome(
            run: header, host: host, plan: plan, conditions: conditions, baseline: "none (interrupted)", verdicts: [],
            trends: [],
            comparison: report, failures: failures, exitStatus: 2)
    }

    /// Records a run; when the fleet's database fails it, keeps it in the
    /// local file instead. Returns what went wrong, for the job's failures.
    private func keep(_ run: RecordedRun) async -> [String] {
        do {
            try await store.record(run)
            return []
        } catch {
            guard case .server = request.history, fallback == nil else { return ["\(error)"] }
            do {
                try await SQLiteHistoryStore.open(path: request.fallbackHistoryPath).record(run)
                return [Self.keptLocally(after: error, in: request.fallbackHistoryPath)]
            } catch let local {
                return ["\(error)", "\(local)"]
            }
        }
    }

    /// The failure of a run that the fleet's database did not take and
    /// the local file did.
    private static func keptLocally(after error: any Error, in path: String) -> String {
        "\(error); this run is kept in \(path) (`mvm history merge` uploads it)"
    }

    public func run(observer: MeasurementObserver = MeasurementObserver()) async -> NightlyOutcome {
        let startedAt = Date()
        let start = HostSnapshot.take()
        // What refuses to measure at all. A fleet database that could not
        // be opened does not: the run is measured and kept in the local file.
        var refusals: [String] = []
        if request.preflight, !start.intruders.isEmpty {
            refusals.append("other measurement processes were running: " + start.intruders.joined(separator: ", "))
        }
        if let limit = request.requireQuietLoad, start.loadAverage > limit {
            refusals.append(
                String(format: "the host is busy: load %.2f is above the quiet limit of %.2f", start.loadAverage, limit)
            )
        }
        let report: ComparisonReport
        if refusals.isEmpty {
            report = await comparison.run(observer: observer)
        } else {
            report = await comparison.emptyReport(startedAt: startedAt)
        }
        var failures = (fallback.map { [$0] } ?? []) + refusals
        for contender in report.summary.contenders where contender.failed > 0 {
            let reasons = contender.failures.sorted { $0.value > $1.value }.map { "\($0.key) (×\($0.value))" }.joined(
                separator: "; ")
            failures.append("\(contender.name): \(contender.failed) of \(contender.instances) runs failed: \(reasons)")
        }

        let (plan, stack, initialHeader) = identity(of: report, startedAt: startedAt)
        var header = initialHeader

        var verdicts: [SeriesVerdict] = []
        var trends: [SeriesTrend] = []
        if let choice = request.baseline, !report.samples.isEmpty {
            do {
                let engine = VerdictEngine(settings: request.settings, choice: choice)
                let annotations = try await store.annotations(hostKey: host.key)
                var evidence: [SeriesEvidence] = []
                for (key, values) in report.seriesValues(hostKey: host.key, planKey: plan.key) {
                    evidence.append(
                        SeriesEvidence(
                            series: key, history: try await store.observations(of: key), annotations: annotations,
                            new: values, newStack: stack))
                }
                verdicts = engine.judge(evidence)
                if verdicts.contains(where: \.awaitsConfirmation) {
                    // Firecracker's rule: a change stands only if a second
                    // batch, measured at once, shows it too.
                    let confirmation = await comparison.confirmationBatch(progress: observer.progress)
                    let values = Dictionary(
                        confirmation.seriesValues(hostKey: host.key, planKey: plan.key),
                        uniquingKeysWith: { first, _ in first })
                    verdicts = engine.confirm(verdicts, with: values, evidence: evidence)
                }
                trends = zip(evidence, verdicts).map { item, verdict in
                    item.trend(newRun: header, verdict: verdict, settings: request.settings)
                }
            } catch {
                failures.append("reading the history: \(error)")
            }
        }

        let traceDifferences = await traceDifferences(of: report, verdicts: verdicts)
        let end = HostSnapshot.take()
        let conditions = HostConditions(start: start, end: end)
        if request.preflight, !end.intruders.isEmpty, start.intruders != end.intruders {
            failures.append(
                "other measurement processes were running at the end: " + end.intruders.joined(separator: ", "))
        }
        header.failed = !failures.isEmpty
        header.underLoad = !conditions.isQuiet(cores: comparison.hostFacts.cores)
        if header.underLoad {
            // Not refused (unless --require-quiet), but said.
            for index in verdicts.indices where verdicts[index].decision != .ok && verdicts[index].decision != .warming
            {
                verdicts[index].reason += String(format: ", under load %.1f", conditions.loadAverageAtEnd)
            }
        }
        if request.record {
            let problems = await keep(
                RecordedRun(
                    header: header, host: host, plan: plan, conditions: conditions, report: report, failures: failures,
                    verdicts: verdicts))
            failures += problems
            header.failed = header.failed || !problems.isEmpty
        }
        var outcome = NightlyOutcome(
            run: header, host: host, plan: plan, conditions: conditions,
            baseline: request.baseline.map(describe) ?? "none",
            verdicts: verdicts, trends: trends, comparison: report, failures: failures,
            exitStatus: nightlyExitStatus(verdicts: verdicts, jobFailed: !failures.isEmpty))
        if !traceDifferences.isEmpty { outcome.traceDifferences = traceDifferences }
        return outcome
    }

    /// For each contender a verdict fired on, or an unexplained step
    /// persists on: this run's trace against the trace of the newest run of
    /// the verdict's baseline that kept one.
    private func traceDifferences(of report: ComparisonReport, verdicts: [SeriesVerdict]) async -> [TracedDifference] {
        let fired: Set<Decision> = [.regression, .improvement, .unexplainedStep]
        var differences: [TracedDifference] = []
        for contender in report.contenders {
            guard let current = report.traces?[contender]?.trace else { continue }
            let runIDs = verdicts.filter { $0.series.subject == contender && fired.contains($0.decision) }
                .flatMap(\.baselineRunIDs)
            guard !runIDs.isEmpty else { continue }
            for runID in Array(Set(runIDs)).sorted().reversed() {
                guard let baseline = try? await store.run(id: runID),
                    let trace = baseline.report.traces?[contender]?.trace
                else { continue }
                differences.append(
                    TracedDifference(
                        contender: contender, baselineRunID: runID,
                        difference: TraceDifference(baseline: trace, current: current)))
                break
            }
        }
        return differences
    }
}

private func describe(_ choice: BaselineChoice) -> String {
    switch choice {
    case .automatic: "auto"
    case .label(let label): "label \(label)"
    case .run(let id): "run \(id)"
    }
}

/// A nightly job that cannot start: an unknown baseline, a foreign run.
public struct NightlyError: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
