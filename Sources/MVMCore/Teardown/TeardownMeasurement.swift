import Dispatch
import Foundation
import Synchronization

/// One teardown of one instance: how long `stop()` took to return, and how
/// long until the host had everything of the instance back. Seconds count
/// from the moment right before `stop()` was called.
public struct TeardownSample: Sendable, Codable, Equatable {
    /// When `stop()` returned (or threw).
    public var stopReturnedSeconds: Double
    /// When `stop()` had returned and every resource was seen released: the
    /// later of the two, since the instance is not gone before its teardown
    /// is done, whatever the checks see. A resource may well go before
    /// `stop()` returns (libvirt waits for QEMU to be reaped), or after it
    /// (the host's init reaps a container's init when it gets round to it):
    /// `resources` tells which. Nil when something was still held at the limit.
    public var allReleasedSeconds: Double?
    /// Per kind, when its last resource went, slowest first.
    public var kinds: [KindRelease]
    /// Every resource the probe watched, in the probe's order.
    public var resources: [ResourceRelease]
    /// The resources still held when the limit passed ("process QEMU pid 1234").
    public var heldAtLimit: [String]
    /// What `stop()` threw, when it did.
    public var failure: String?

    public init(
        stopReturnedSeconds: Double, allReleasedSeconds: Double?, kinds: [KindRelease], resources: [ResourceRelease],
        heldAtLimit: [String], failure: String?
    ) {
        self.stopReturnedSeconds = stopReturnedSeconds
        self.allReleasedSeconds = allReleasedSeconds
        self.kinds = kinds
        self.resources = resources
        self.heldAtLimit = heldAtLimit
        self.failure = failure
    }

    /// The kind whose last resource went last; nil when one was never
    /// released or the probe watched nothing.
    public var slowestKind: HostResource.Kind? {
        guard heldAtLimit.isEmpty else { return nil }
        return kinds.first?.kind
    }

    /// When the last resource was seen released, whether before or after
    /// `stop()` returned; nil when one was still held at the limit.
    public var lastReleaseSeconds: Double? {
        guard heldAtLimit.isEmpty else { return nil }
        return resources.compactMap(\.releasedSeconds).max() ?? 0
    }
}

/// When the last resource of one kind went.
public struct KindRelease: Sendable, Codable, Equatable {
    public var kind: HostResource.Kind
    /// How many resources of this kind the probe watched.
    public var count: Int
    /// When the last of them was seen released; nil when one was still held
    /// at the limit.
    public var releasedSeconds: Double?

    public init(kind: HostResource.Kind, count: Int, releasedSeconds: Double?) {
        self.kind = kind
        self.count = count
        self.releasedSeconds = releasedSeconds
    }
}

/// How one resource went. The release happened between `lastHeldSeconds`
/// and `releasedSeconds`: the measurement's resolution is the poll interval
/// plus the time one check takes.
public struct ResourceRelease: Sendable, Codable, Equatable {
    public var kind: HostResource.Kind
    public var description: String
    /// The last look that saw it held; nil when the first look already found
    /// it gone.
    public var lastHeldSeconds: Double?
    /// The first look that found it gone; nil when it was still held at the limit.
    public var releasedSeconds: Double?
    /// Processes: the first look that found it exited but not yet reaped.
    public var zombieSeconds: Double?

    public init(
        kind: HostResource.Kind, description: String, lastHeldSeconds: Double?, releasedSeconds: Double?,
        zombieSeconds: Double? = nil
    ) {
        self.kind = kind
        self.description = description
        self.lastHeldSeconds = lastHeldSeconds
        self.releasedSeconds = releasedSeconds
        self.zombieSeconds = zombieSeconds
    }
}

/// Stops `instance` and measures how long until the host has everything of
/// it back. Takes the instance's `releaseProbe()` first (pids, paths and
/// names are known only while it runs), then starts the clock right before
/// `stop()` and watches every resource until it is gone or `limit` has
/// passed since the stop request. Waits for `stop()` to return even past
/// the limit: a measurement that left a teardown running would overlap the
/// next one. Never throws: what `stop()` threw is in the sample.
public func measureTeardown(
    of instance: any RunningInstance, pollInterval: Duration = .milliseconds(1), limit: Duration = .seconds(30)
) async -> TeardownSample {
    await measureTeardown(of: instance.releaseProbe(), pollInterval: pollInterval, limit: limit) {
        try await instance.stop()
    }
}

/// `measureTeardown(of:)` for a probe taken beforehand and any way of
/// stopping: each resource is watched by a thread of its own, started (and
/// waiting) before the clock starts, so that the first looks come at once
/// and a check that blocks (a libvirt look-up while libvirt holds the
/// domain's lock) delays no other resource. The threads never run on
/// Swift's cooperative pool, which `stop()` needs.
public func measureTeardown(
    of probe: ReleaseProbe, pollInterval: Duration = .milliseconds(1), limit: Duration = .seconds(30),
    stop: @Sendable () async throws -> Void
) async -> TeardownSample {
    let watch = ReleaseWatch(probe: probe, pollInterval: pollInterval, limit: limit)
    let start = watch.start()
    var failure: String?
    do {
        try await stop()
    } catch {
        failure = String(describing: error)
    }
    let stopReturned = (ContinuousClock.now - start).seconds
    let releases = await watch.results()
    return TeardownSample(releases: releases, stopReturnedSeconds: stopReturned, failure: failure)
}

extension TeardownSample {
    /// Assembles a sample from what the watchers saw.
    init(releases: [ResourceRelease], stopReturnedSeconds: Double, failure: String?) {
        let held = releases.filter { $0.releasedSeconds == nil }
        let last = releases.compactMap(\.releasedSeconds).max() ?? 0
        var kinds: [KindRelease] = []
        for kind in Set(releases.map(\.kind)).sorted() {
            let ofKind = releases.filter { $0.kind == kind }
            let times = ofKind.compactMap(\.releasedSeconds)
            kinds.append(
                KindRelease(
                    kind: kind, count: ofKind.count, releasedSeconds: times.count == ofKind.count ? times.max() : nil))
        }
        // Slowest first; a kind still held at the limit is the slowest of all.
        kinds.sort { ($0.releasedSeconds ?? .infinity, $1.kind) > ($1.releasedSeconds ?? .infinity, $0.kind) }
        self.init(
            stopReturnedSeconds: stopReturnedSeconds,
            allReleasedSeconds: held.isEmpty ? max(last, stopReturnedSeconds) : nil, kinds: kinds, resources: releases,
            heldAtLimit: held.map { "\($0.kind.rawValue) \($0.description)" }, failure: failure)
    }
}

/// The threads that watch a probe's resources during one teardown.
private final class ReleaseWatch: Sendable {
    private let resources: [HostResource]
    private let pollInterval: Duration
    private let limit: Duration
    private let go = DispatchSemaphore(value: 0)
    private let done = DispatchGroup()
    private let origin = Mutex<ContinuousClock.Instant?>(nil)
    private let releases: Mutex<[ResourceRelease?]>

    init(probe: ReleaseProbe, pollInterval: Duration, limit: Duration) {
        resources = probe.resources
        self.pollInterval = pollInterval
        self.limit = limit
        releases = Mutex(Array(repeating: nil, count: probe.resources.count))
        for index in resources.indices {
            done.enter()
            let thread = Thread { [self] in
                go.wait()
                let release = watch(resources[index])
                releases.withLock { $0[index] = release }
                done.leave()
            }
            thread.name = "mvm-release-watch"
            thread.start()
        }
    }

    /// Starts the clock and lets the watchers go; returns the clock's origin.
    func start() -> ContinuousClock.Instant {
        let now = ContinuousClock.now
        origin.withLock { $0 = now }
        for _ in resources { go.signal() }
        return now
    }

    /// Waits (without holding a thread) until every watcher is done.
    func results() async -> [ResourceRelease] {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            done.notify(queue: .global()) { continuation.resume() }
        }
        return releases.withLock { releases in
            zip(resources, releases).map { resource, release in
                release
                    ?? ResourceRelease(
                        kind: resource.kind, description: resource.description, lastHeldSeconds: nil,
                        releasedSeconds: nil)
            }
        }
    }

    /// Blocking: looks at one resource every `pollInterval` until it is gone
    /// or the limit has passed.
    private func watch(_ resource: HostResource) -> ResourceRelease {
        let origin = self.origin.withLock { $0 } ?? ContinuousClock.now
        let deadline = origin + limit
        var release = ResourceRelease(
            kind: resource.kind, description: resource.description, lastHeldSeconds: nil, releasedSeconds: nil)
        while true {
            let before = ContinuousClock.now
            let state = resource.state()
            let after = ContinuousClock.now
            // A check that took a while saw its answer somewhere in between:
            // "held" counts from its start and "gone" from its end, so that
            // the release lies between the two recorded looks.
            switch state {
            case .released:
                release.releasedSeconds = (after - origin).seconds
                return release
            case .zombie:
                if release.zombieSeconds == nil { release.zombieSeconds = (after - origin).seconds }
                release.lastHeldSeconds = (before - origin).seconds
            case .held:
                release.lastHeldSeconds = (before - origin).seconds
            }
            guard after < deadline else { return release }
            Thread.sleep(forTimeInterval: pollInterval.seconds)
        }
    }
}
