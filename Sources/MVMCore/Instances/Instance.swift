import Foundation

/// What one start of an instance went through and what its workload reported.
public struct BootRecord: Sendable, Codable, Hashable {
    public var timeline: BootTimeline
    /// What the workload reported on mvm's readiness line; nil when a
    /// `--ready-line` of another workload made it ready.
    public var facts: GuestFacts?
    /// Wall-clock time of the request; the timeline's offsets count from it.
    public var requestedAt: Date
    /// What the workload reported on `mvm-fact` lines before it was ready
    /// (the isolation probe); empty for an ordinary boot.
    public var reported: [String: String]
    /// Where the start spent its time, layer by layer: set for a traced
    /// start (`launchTraced`) by launchers that can see inside it.
    public var trace: BootTrace?

    public init(
        timeline: BootTimeline, facts: GuestFacts?, requestedAt: Date, reported: [String: String] = [:],
        trace: BootTrace? = nil
    ) {
        self.timeline = timeline
        self.facts = facts
        self.requestedAt = requestedAt
        self.reported = reported
        self.trace = trace
    }

    /// The start's trace: the launcher's own, else one made of mvm's phases.
    public var traceOrPhases: BootTrace {
        trace
            ?? BootTrace(
                phasesOf: timeline, note: "this contender's runtime shows nothing finer than mvm's phases")
    }
}

/// An instance whose workload has printed its readiness line.
///
/// Every implementation guarantees: `boot` is complete (its timeline starts at
/// `.request` and ends at `.ready`, in order); `footprint()` reads live
/// figures of this instance only (found through the runtime's own state, never
/// by a process-name search); `stop()` removes everything the instance made
/// (processes, runtime state, files) and may be called more than once, from
/// any thread, also while an interrupt tears the instance down;
/// `releaseProbe()`, taken while the instance runs, names every host
/// resource of this instance that `stop()` (or the runtime, or the host's
/// init) releases, each with a check that does not wait for the instance,
/// and reads nothing but this instance's own state (its pids, its
/// runtime's names and paths) to find them.
public protocol RunningInstance: AnyObject, Sendable {
    /// The runtime's name for this instance (domain name, container id).
    var name: String { get }
    var boot: BootRecord { get }
    func footprint() async throws -> Footprint
    func stop() async throws
    /// What the instance holds on the host now: processes, cgroups, the
    /// libvirt domain, sockets, runtime state, files. Take it before
    /// `stop()`: pids and cgroup paths can be found only while the instance
    /// runs. Its checks keep working after the instance is gone (they then
    /// say "released"). Cheap: reads /proc and lists nothing but what the
    /// instance's runtime made.
    func releaseProbe() -> ReleaseProbe
}

/// An instance that can outlive mvm (`--keep`).
public protocol DetachableInstance: RunningInstance {
    /// Hands the instance over: mvm lets go of it without stopping it, and
    /// nothing tears it down any more.
    func detach()
}

extension DetachableInstance {
    /// What `mvm boot` and `mvm run` do with a ready instance: read its
    /// footprint, then stop it, or hand it over when `keep`. A failed
    /// reading stops it too.
    public func measureThenRelease(keep: Bool) async throws -> Footprint {
        let footprint: Footprint
        do {
            footprint = try await self.footprint()
        } catch {
            try? await stop()
            throw error
        }
        if keep { detach() } else { try await stop() }
        return footprint
    }
}

/// Starts instances of one configuration.
///
/// Every implementation guarantees: when `launch()` throws, nothing it made
/// is left behind; while it runs, an interrupt of mvm (`TeardownRegistry`)
/// removes what it made so far. `withLaunchScope` gives both.
public protocol InstanceLauncher: Sendable {
    associatedtype Instance: RunningInstance
    associatedtype Failure: Error

    func launch() async throws(Failure) -> Instance

    /// Starts one instance with its start traced (`BootRecord.trace`):
    /// finer logs are turned on for it alone. Tracing perturbs, so a traced
    /// instance is never a sample. Launchers that see nothing finer than
    /// their phases launch as usual.
    func launchTraced() async throws(Failure) -> Instance

    /// What a reader must know to read this launcher's figures (for example
    /// that its VMs ran under software emulation); empty when nothing.
    var caveats: [String] { get }

    /// The limits its instances were asked for and go without (`memory`,
    /// `CPU`, `pids`), so that figures compared with another's are not
    /// bounded alike; empty when every limit holds.
    var unappliedLimits: [String] { get }
}

extension InstanceLauncher {
    public func launchTraced() async throws(Failure) -> Instance { try await launch() }
    public var caveats: [String] { [] }
    public var unappliedLimits: [String] { [] }
}

/// A launcher that makes instances ready ahead of a request, as a warm pool
/// does. The runner prepares a batch's instances before the batch starts its
/// clock, so a launch times only what a request to a pool costs.
public protocol PreparedLaunching: InstanceLauncher {
    /// Makes `count` instances ready for the next launches.
    func prepare(count: Int) async throws
    /// Removes the prepared instances nobody launched.
    func drain() async
}
