import Compare
import Foundation
import MVMCore

/// One recorded run reduced to the figures the fleet report compares: the
/// micro-VM's and the container's ready and PSS medians and their ratios.
/// A figure is nil when the run did not measure it.
public struct FleetPoint: Sendable, Equatable {
    public var header: RunHeader
    public var vmReady: Double?
    public var containerReady: Double?
    public var vmPSS: Double?
    public var containerPSS: Double?
    /// Micro-VM median over container median.
    public var readyRatio: Double?
    public var pssRatio: Double?

    public init(
        header: RunHeader, vmReady: Double?, containerReady: Double?, vmPSS: Double?, containerPSS: Double?,
        readyRatio: Double?,
        pssRatio: Double?
    ) {
        self.header = header
        self.vmReady = vmReady
        self.containerReady = containerReady
        self.vmPSS = vmPSS
        self.containerPSS = containerPSS
        self.readyRatio = readyRatio
        self.pssRatio = pssRatio
    }

    /// The figures of `run`, found by role (the micro-VM and the container
    /// it is compared with), whatever the contenders were named.
    public init(_ run: RecordedRun) {
        let report = run.report
        let vm = report.roles.first { $0.value == .microVM }?.key
        let container = report.roles.first { $0.value == .container }?.key
        func median(_ contender: String?, _ metric: Metric) -> Double? {
            guard let contender else { return nil }
            let summary = report.summary.contenders.first { $0.name == contender }?.metric(metric)?.summary
            return summary.flatMap { $0.median.isFinite ? $0.median : nil }
        }
        func ratio(_ metric: Metric) -> Double? {
            let found = report.summary.ratios.first {
                $0.metric == metric.name && $0.numerator == vm && $0.denominator == container
            }
            return found.flatMap { $0.ratio.ratio.isFinite ? $0.ratio.ratio : nil }
        }
        self.init(
            header: run.header, vmReady: median(vm, .ready), containerReady: median(container, .ready),
            vmPSS: median(vm, .pss),
            containerPSS: median(container, .pss), readyRatio: ratio(.ready), pssRatio: ratio(.pss))
    }

    /// Partial and failed runs are drawn hollow and never stand for a host.
    public var isGood: Bool { header.isGood }
}

/// Where the stack changed between two runs of a group: on the first run
/// of the new stack, with what changed ("qemu 7.2.0 → 8.0.0").
public struct FleetStackChange: Sendable, Equatable {
    public var runID: String
    public var changes: [String]

    public init(runID: String, changes: [String]) {
        self.runID = runID
        self.changes = changes
    }
}

/// The runs of one host under one plan: only these compare with each other.
public struct FleetGroup: Sendable, Equatable {
    public var host: HostEntry
    public var planKey: String
    /// nil when the host entry does not describe the plan.
    public var plan: PlanIdentity?
    /// Oldest first, partial and failed runs included.
    public var points: [FleetPoint]

    public init(host: HostEntry, planKey: String, plan: PlanIdentity?, points: [FleetPoint]) {
        self.host = host
        self.planKey = planKey
        self.plan = plan
        self.points = points
    }

    public var hostKey: String { host.key }

    /// The newest good run: a partial or failed run never stands for the host.
    public var latest: FleetPoint? { points.last(where: \.isGood) }

    /// Every change of stack from one run to the next, oldest first.
    public var stackChanges: [FleetStackChange] {
        zip(points, points.dropFirst()).compactMap { before, after in
            let changes = after.header.stack.changes(since: before.header.stack)
            return changes.isEmpty ? nil : FleetStackChange(runID: after.header.id, changes: changes)
        }
    }

    /// "vm,container · 128 MiB · 1 vCPU · tcg · 8 runs", or the key.
    public var planDescription: String { plan?.description ?? "plan \(planKey)" }
}

/// Every host of a history store, each with its recent runs: what the
/// fleet report draws. Built from the store by `load`, or from values.
public struct FleetReport: Sendable, Equatable {
    /// Ordered by hostname, host key, then plan description.
    public var groups: [FleetGroup]

    public init(groups: [FleetGroup]) {
        self.groups = groups.sorted { lhs, rhs in
            (lhs.host.identity.hostname, lhs.hostKey, lhs.planDescription, lhs.planKey)
                < (rhs.host.identity.hostname, rhs.hostKey, rhs.planDescription, rhs.planKey)
        }
    }

    /// Groups `runs` (any order) of each host by plan; hosts with no run are
    /// left out.
    public init(hosts: [HostEntry], runs: [String: [RecordedRun]]) {
        var groups: [FleetGroup] = []
        for host in hosts {
            let ordered = (runs[host.key] ?? []).sorted {
                ($0.header.startedAt, $0.header.id) < ($1.header.startedAt, $1.header.id)
            }
            var planKeys: [String] = []
            for run in ordered where !planKeys.contains(run.header.planKey) { planKeys.append(run.header.planKey) }
            for planKey in planKeys {
                let plan = host.plans[planKey] ?? ordered.first { $0.header.planKey == planKey }?.plan
                let points = ordered.filter { $0.header.planKey == planKey }.map(FleetPoint.init)
                groups.append(FleetGroup(host: host, planKey: planKey, plan: plan, points: points))
            }
        }
        self.init(groups: groups)
    }

    /// Each host's last `runsPerHost` runs (of any plan), read from `store`.
    public static func load(from store: any HistoryStore, runsPerHost: Int = 30) async throws -> FleetReport {
        let hosts = try await store.hosts()
        var runs: [String: [RecordedRun]] = [:]
        for host in hosts {
            var recorded: [RecordedRun] = []
            for header in try await store.runs(hostKey: host.key, limit: max(runsPerHost, 1)) {
                if let run = try await store.run(id: header.id) { recorded.append(run) }
            }
            runs[host.key] = recorded
        }
        return FleetReport(hosts: hosts, runs: runs)
    }

    /// Distinct host keys with at least one run.
    public var hostCount: Int { Set(groups.map(\.hostKey)).count }

    /// The first and the last start of any run shown.
    public var dateRange: ClosedRange<Date>? {
        let dates = groups.flatMap { $0.points.map(\.header.startedAt) }
        guard let first = dates.min(), let last = dates.max() else { return nil }
        return first...last
    }

    /// Groups with a good run that measured `value`, smallest first (ties
    /// by the order of `groups`).
    public func ranked(by value: (FleetPoint) -> Double?) -> [(group: FleetGroup, value: Double)] {
        let measured = groups.enumerated().compactMap { offset, group -> (Int, FleetGroup, Double)? in
            guard let latest = group.latest, let figure = value(latest), figure.isFinite else { return nil }
            return (offset, group, figure)
        }
        return measured.sorted { ($0.2, $0.0) < ($1.2, $1.0) }.map { ($0.1, $0.2) }
    }
}
