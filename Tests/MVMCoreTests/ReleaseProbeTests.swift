import Foundation
import Synchronization
import Testing

@testable import MVMCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct ReleaseProbeTests {
    @Test func statParsingSurvivesParenthesesInTheCommandAndReadsZombies() {
        let running =
            "1234 (qemu) (x) R 1 1234 1234 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 4 0 98765 1000 200 18446744073709551615"
        #expect(ProcessStatus.parse(stat: running) == ProcessStatus(state: "R", startTime: 98765))
        let zombie = "77 (sh) Z 1 77 77 0 -1 4227084 0 0 0 0 0 0 0 0 20 0 1 0 4242 0 0 18446744073709551615"
        #expect(ProcessStatus.parse(stat: zombie) == ProcessStatus(state: "Z", startTime: 4242))
        #expect(ProcessStatus.parse(stat: "77 (sh) Z 1") == nil)
    }

    /// A process is held while it runs, still held (as a zombie) once it has
    /// exited until its parent reaps it, and released after.
    @Test func aProcessIsHeldUntilReapedAndAZombieCountsAsHeld() throws {
        var pid: pid_t = 0
        let arguments = ["/bin/sleep", "30"]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        #expect(posix_spawn(&pid, "/bin/sleep", nil, nil, &argv, environ) == 0)
        let resource = try #require(HostResource.process(pid: pid, description: "sleep pid \(pid)"))
        #expect(resource.kind == .process)
        #expect(resource.state() == .held)
        kill(pid, SIGKILL)
        var state = resource.state()
        for _ in 0..<2000 where state == .held {
            usleep(1000)
            state = resource.state()
        }
        #expect(state == .zombie)
        #expect(resource.isHeld())
        var status: Int32 = 0
        #expect(waitpid(pid, &status, 0) == pid)
        #expect(resource.state() == .released)
        // Gone: nothing to watch.
        #expect(HostResource.process(pid: pid, description: "gone") == nil)
    }

    @Test func aPathIsHeldWhileItExistsADanglingLinkIncluded() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mvm-probe-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let link = directory + "/link"
        #expect(symlink(directory + "/nowhere", link) == 0)
        let linkResource = HostResource.path(link, kind: .socket, description: "link")
        #expect(linkResource.isHeld())
        #expect(HostResource.existingPath(directory + "/missing", kind: .file, description: "missing") == nil)
        let probe = ReleaseProbe([linkResource, .path(directory, kind: .directory, description: "dir")])
        #expect(probe.held().count == 2)
        #expect(probe.kinds == [.socket, .directory])
        unlink(link)
        #expect(probe.held().map(\.description) == ["dir"])
    }

    /// A look-up that blocks (libvirt's, during a destroy) answers "held"
    /// within its patience and the real answer once it comes.
    @Test func aSlowCheckAnswersHeldUntilItsLookUpAnswers() {
        let lookups = Mutex(0)
        let resource = HostResource.slowCheck(kind: .domain, description: "slow", patience: .milliseconds(10)) {
            lookups.withLock { $0 += 1 }
            Thread.sleep(forTimeInterval: 0.3)
            return false
        }
        // The look-up answers "released" only after 300 ms: "held" means
        // the checks did not wait for it.
        #expect(resource.state() == .held)
        #expect(resource.state() == .held)
        // The answer that came meanwhile, without asking again: one look-up
        // at a time, the second check waited for the first. (Polled rather
        // than slept: a loaded machine runs the look-up's thread late.)
        let deadline = ContinuousClock.now + .seconds(20)
        var state = resource.state()
        while state != .released && ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            state = resource.state()
        }
        #expect(state == .released)
        #expect(lookups.withLock { $0 } == 1)
        let quick = HostResource.slowCheck(kind: .domain, description: "quick") { true }
        #expect(quick.state() == .held)
    }

    // MARK: cgroups

    /// This machine's mounts: v1 controllers each on their own, the cgroup2
    /// hierarchy at /sys/fs/cgroup/unified (hybrid), plus a co-mounted pair
    /// and a mount of a sub-tree as a container would see it.
    static let mountinfo = """
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
        34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate
        42 31 0:39 /outer /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
        """

    static let mvm = """
        5:pids:/outer
        4:memory:/process_api/3023
        3:cpuset:/
        2:cpu,cpuacct:/
        1:name=systemd:/
        0::/
        """

    @Test func mountsAndMembershipsOfAHybridHost() {
        let mounts = CgroupMembership.mounts(mountinfo: Self.mountinfo)
        #expect(mounts.count == 6)
        #expect(mounts.filter(\.isVersion2).map(\.mountPoint) == ["/sys/fs/cgroup/unified"])
        let memberships = CgroupMembership.parse(procCgroup: Self.mvm, mounts: mounts)
        #expect(
            memberships.map(\.directory) == [
                "/sys/fs/cgroup/pids", "/sys/fs/cgroup/memory/process_api/3023", "/sys/fs/cgroup/cpuset",
                "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified",
            ])
        #expect(
            CgroupMembership.directories(forPath: "/mvm/mvm-1a2b", mounts: mounts) == [
                "/sys/fs/cgroup/cpu,cpuacct/mvm/mvm-1a2b", "/sys/fs/cgroup/cpuset/mvm/mvm-1a2b",
                "/sys/fs/cgroup/memory/mvm/mvm-1a2b", "/sys/fs/cgroup/systemd/mvm/mvm-1a2b",
                "/sys/fs/cgroup/unified/mvm/mvm-1a2b",
            ])
    }

    /// libvirt's embedded driver moves QEMU into machine/...-NAME.libvirt-qemu
    /// (its main thread into the `emulator` child) in some hierarchies and
    /// leaves it in mvm's in the others: only the domain's own count, and
    /// the one reported is the domain's cgroup, which goes last.
    @Test func aDomainsCgroupsAreTheOnesNamedAfterItAndNotShared() {
        let mounts = CgroupMembership.mounts(mountinfo: Self.mountinfo)
        let qemu = """
            5:pids:/outer
            4:memory:/process_api/3023
            3:cpuset:/machine/qemu-embed-6e1f-1-mvm-1a2b.libvirt-qemu/emulator
            2:cpu,cpuacct:/machine/qemu-embed-6e1f-1-mvm-1a2b.libvirt-qemu/emulator
            1:name=systemd:/
            0::/machine/qemu-embed-6e1f-1-mvm-1a2b.libvirt-qemu/emulator
            """
        let directories = CgroupMembership.instanceDirectories(
            instance: CgroupMembership.parse(procCgroup: qemu, mounts: mounts),
            reference: CgroupMembership.parse(procCgroup: Self.mvm, mounts: mounts), named: "mvm-1a2b")
        #expect(
            directories == [
                "/sys/fs/cgroup/cpuset/machine/qemu-embed-6e1f-1-mvm-1a2b.libvirt-qemu",
                "/sys/fs/cgroup/cpu,cpuacct/machine/qemu-embed-6e1f-1-mvm-1a2b.libvirt-qemu",
                "/sys/fs/cgroup/unified/machine/qemu-embed-6e1f-1-mvm-1a2b.libvirt-qemu",
            ])
        // systemd escapes '-' in unit names; a daemon without cgroups leaves
        // QEMU in its own cgroup, which is not the domain's.
        let systemd = """
            3:cpuset:/machine.slice/machine-qemu\\x2d1\\x2dmvm\\x2d1a2b.scope/libvirt/emulator
            2:cpu,cpuacct:/system.slice/libvirtd.service
            """
        #expect(
            CgroupMembership.instanceDirectories(
                instance: CgroupMembership.parse(procCgroup: systemd, mounts: mounts),
                reference: CgroupMembership.parse(procCgroup: Self.mvm, mounts: mounts), named: "mvm-1a2b")
                == ["/sys/fs/cgroup/cpuset/machine.slice/machine-qemu\\x2d1\\x2dmvm\\x2d1a2b.scope"])
    }

    @Test func thisProcessHasMemberships() {
        let memberships = CgroupMembership.of(pid: getpid())
        #expect(!memberships.isEmpty)
        #expect(memberships.allSatisfy { $0.directory.map(pathExists) ?? true })
        // Nothing of this process is an instance's.
        #expect(CgroupMembership.instanceDirectories(of: getpid(), named: "mvm-none").isEmpty)
    }
}

/// An instance whose stop() releases switches, some at once, some later,
/// some never: the measurement's logic without a hypervisor.
final class SwitchInstance: RunningInstance {
    let name = "mvm-fake"
    let boot = BootRecord(
        timeline: BootTimeline(),
        facts: GuestFacts(uptimeSeconds: 1, kernelRelease: "6.1", cpus: 1, memTotalKiB: 100, memAvailableKiB: 50),
        requestedAt: Date())
    /// Per resource: held? (A class, so that checks and tasks can share it.)
    final class Switches: Sendable {
        let held: Mutex<[String: Bool]>
        init(_ held: [String: Bool]) { self.held = Mutex(held) }
        func release(_ name: String) { held.withLock { $0[name] = false } }
        func isHeld(_ name: String) -> Bool { held.withLock { $0[name] ?? false } }
    }
    let switches: Switches
    let stopTakes: Duration
    /// Released by stop() at once.
    let atOnce: [String]
    /// Released this long after stop() returned.
    let later: [(String, Duration)]
    let failure: (any Error & Sendable)?
    let slowCheck: Duration?

    init(
        atOnce: [String], later: [(String, Duration)] = [], never: [String] = [],
        stopTakes: Duration = .milliseconds(20),
        failure: (any Error & Sendable)? = nil, slowCheck: Duration? = nil
    ) {
        var held: [String: Bool] = [:]
        for name in atOnce + later.map(\.0) + never { held[name] = true }
        switches = Switches(held)
        self.atOnce = atOnce
        self.later = later
        self.stopTakes = stopTakes
        self.failure = failure
        self.slowCheck = slowCheck
    }

    func footprint() async throws -> Footprint { Footprint(readings: []) }

    func stop() async throws {
        for name in atOnce { switches.release(name) }
        try await Task.sleep(for: stopTakes)
        for (name, delay) in later {
            Task.detached { [switches] in
                try await Task.sleep(for: delay)
                switches.release(name)
            }
        }
        if let failure { throw failure }
    }

    func releaseProbe() -> ReleaseProbe {
        let names = switches.held.withLock { Array($0.keys) }.sorted()
        let switches = self.switches
        let slowCheck = self.slowCheck
        return ReleaseProbe(
            names.map { name in
                let kind: HostResource.Kind =
                    name.hasPrefix("pid")
                    ? .process : name.hasPrefix("cg") ? .cgroup : name.hasPrefix("slow") ? .domain : .file
                return HostResource(kind: kind, description: name) {
                    if name.hasPrefix("slow"), let slowCheck { Thread.sleep(forTimeInterval: slowCheck.seconds) }
                    return switches.isHeld(name)
                }
            })
    }
}

@Suite struct TeardownMeasurementTests {
    struct Refused: Error, CustomStringConvertible {
        var description: String { "libvirt refused" }
    }

    @Test func releasesAfterStopReturnedCountAndTheSlowestKindComesFirst() async throws {
        let instance = SwitchInstance(atOnce: ["file-a", "cg-a"], later: [("pid-1", .milliseconds(150))])
        let sample = await measureTeardown(of: instance)
        #expect(sample.failure == nil)
        #expect(sample.heldAtLimit.isEmpty)
        #expect(sample.stopReturnedSeconds >= 0.02)
        let all = try #require(sample.allReleasedSeconds)
        #expect(all >= sample.stopReturnedSeconds + 0.15)
        #expect(
            sample.kinds.map(\.kind) == [.process, .cgroup, .file]
                || sample.kinds.map(\.kind) == [.process, .file, .cgroup])
        #expect(sample.slowestKind == .process)
        let process = try #require(sample.resources.first { $0.description == "pid-1" })
        let releasedAt = try #require(process.releasedSeconds)
        let lastHeld = try #require(process.lastHeldSeconds)
        #expect(lastHeld < releasedAt)
        #expect(releasedAt == all)
        // Released by stop() itself: seen within a few polls of the start.
        let file = try #require(sample.resources.first { $0.description == "file-a" })
        #expect((file.releasedSeconds ?? 1) < releasedAt)
    }

    /// Everything gone before stop() returned: the instance is gone when
    /// stop() returns, not before.
    @Test func allReleasedIsNeverBeforeStopReturned() async throws {
        let instance = SwitchInstance(atOnce: ["file-a", "pid-1"], stopTakes: .milliseconds(100))
        let sample = await measureTeardown(of: instance)
        #expect(sample.allReleasedSeconds == sample.stopReturnedSeconds)
        #expect((sample.lastReleaseSeconds ?? 1) < sample.stopReturnedSeconds)
    }

    @Test func whatIsStillHeldAtTheLimitIsNamedAndAFailureIsKept() async throws {
        let instance = SwitchInstance(atOnce: ["file-a"], never: ["cg-stuck"], failure: Refused())
        let start = ContinuousClock.now
        let sample = await measureTeardown(of: instance, limit: .milliseconds(200))
        // Stopped looking at its own limit, not the default 30 s.
        #expect(ContinuousClock.now - start < .seconds(20))
        #expect(sample.failure == "libvirt refused")
        #expect(sample.allReleasedSeconds == nil)
        #expect(sample.heldAtLimit == ["cgroup cg-stuck"])
        #expect(sample.slowestKind == nil)
        #expect(sample.kinds.first == KindRelease(kind: .cgroup, count: 1, releasedSeconds: nil))
        let stuck = try #require(sample.resources.first { $0.description == "cg-stuck" })
        #expect((stuck.lastHeldSeconds ?? 0) >= 0.2)
    }

    /// A check that blocks (a libvirt look-up while the domain is locked)
    /// delays only its own resource.
    @Test func aSlowCheckDelaysNoOtherResource() async throws {
        let instance = SwitchInstance(atOnce: ["pid-1", "slow-domain"], slowCheck: .milliseconds(300))
        let sample = await measureTeardown(of: instance)
        let process = try #require(sample.resources.first { $0.description == "pid-1" })
        let domain = try #require(sample.resources.first { $0.description == "slow-domain" })
        // Its first look started before stop() and ended 300 ms later.
        #expect((domain.releasedSeconds ?? 0) >= 0.3)
        #expect((process.releasedSeconds ?? 1) < (domain.releasedSeconds ?? 0))
        #expect(sample.slowestKind == .domain)
    }

    @Test func anEmptyProbeIsReleasedWhenStopReturns() async throws {
        let sample = await measureTeardown(of: ReleaseProbe([])) {}
        #expect(sample.resources.isEmpty && sample.kinds.isEmpty)
        #expect(sample.allReleasedSeconds == sample.stopReturnedSeconds)
    }

    @Test func aSampleRoundTripsThroughJSON() async throws {
        let sample = await measureTeardown(
            of: SwitchInstance(atOnce: ["pid-1"], never: ["cg-x"]), limit: .milliseconds(50))
        let decoded = try JSONDecoder().decode(TeardownSample.self, from: JSONEncoder().encode(sample))
        #expect(decoded == sample)
        let json = String(decoding: try JSONEncoder().encode(sample.kinds), as: UTF8.self)
        #expect(json.contains("\"kind\":\"cgroup\""))
    }
}
