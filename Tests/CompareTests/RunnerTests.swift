import Foundation
import MVMCore
import Synchronization
import Testing

@testable import Compare

/// An in-memory instance: the runner's bookkeeping is pure logic, tested
/// here without a hypervisor (the real thing runs in IntegrationTests).
final class FakeInstance: RunningInstance {
    let name: String
    let boot: BootRecord
    let pss: UInt64
    let stops: Mutex<Int>

    init(name: String, ready: Duration, pss: UInt64) {
        self.name = name
        var timeline = BootTimeline()
        timeline.append(.started, at: ready / 2)
        timeline.append(.ready, at: ready)
        boot = BootRecord(
            timeline: timeline,
            facts: GuestFacts(uptimeSeconds: 1, kernelRelease: "6.1", cpus: 1, memTotalKiB: 100, memAvailableKiB: 50),
            requestedAt: Date())
        self.pss = pss
        stops = Mutex(0)
    }

    func footprint() async throws -> Footprint {
        Footprint(readings: [MemoryReading(.pss, bytes: pss)])
    }

    func stop() async throws {
        stops.withLock { $0 += 1 }
    }
}

struct FakeFailure: Error, CustomStringConvertible {
    var description: String { "the fake refused\n  console excerpt" }
}

/// Launches fakes, records the order of launches, fails the runs it is told to.
final class FakeLauncher: InstanceLauncher {
    let label: String
    let ready: Duration
    let pss: UInt64
    let failingLaunches: Set<Int>
    let log: LaunchLog
    let launched = Mutex<[FakeInstance]>([])
    private let count = Mutex(0)

    init(_ label: String, ready: Duration, pss: UInt64, failingLaunches: Set<Int> = [], log: LaunchLog) {
        self.label = label
        self.ready = ready
        self.pss = pss
        self.failingLaunches = failingLaunches
        self.log = log
    }

    func launch() async throws -> FakeInstance {
        let index = count.withLock { count in
            defer { count += 1 }
            return count
        }
        log.append(label)
        if failingLaunches.contains(index) { throw FakeFailure() }
        let instance = FakeInstance(name: "\(label)-\(index)", ready: ready, pss: pss)
        launched.withLock { $0.append(instance) }
        return instance
    }
}

/// The order in which fakes were launched, across launchers.
final class LaunchLog: Sendable {
    private let entries = Mutex<[String]>([])

    func append(_ label: String) {
        entries.withLock { $0.append(label) }
    }

    var all: [String] { entries.withLock { $0 } }
}

@Suite struct RunnerTests {
    @Test func interleavesShufflesAndStopsEverything() async {
        let log = LaunchLog()
        let vm = FakeLauncher("vm", ready: Duration.seconds(1), pss: 80 << 20, log: log)
        let container = FakeLauncher("container", ready: Duration.milliseconds(50), pss: 2 << 20, log: log)
        let plan = ComparisonPlan(runs: 20, warmup: 2, concurrency: 1, seed: 42)
        var progressCalls = 0
        let samples = await ComparisonRunner(
            plan: plan,
            contenders: [
                Contender(name: "vm", role: .microVM, launcher: vm),
                Contender(name: "container", role: .container, launcher: container),
            ]
        ).run { _ in progressCalls += 1 }

        #expect(samples.count == 44)
        #expect(progressCalls == 44)
        let order = log.all
        // Interleaved: every run launches each contender exactly once.
        for run in 0..<22 {
            #expect(Set(order[(run * 2)..<(run * 2 + 2)]) == ["vm", "container"])
        }
        // Shuffled: not always the same contender first.
        let firsts = Set(stride(from: 0, to: order.count, by: 2).map { order[$0] })
        #expect(firsts.count == 2)
        #expect(samples.filter { $0.warmup }.count == 4)
        #expect(samples.filter { $0.warmup }.allSatisfy { $0.run < 0 })
        for instance in vm.launched.withLock({ $0 }) + container.launched.withLock({ $0 }) {
            #expect(instance.stops.withLock { $0 } == 1)
        }
        let first = samples.first { $0.contender == "vm" }
        #expect(first?.phases == ["started": 0.5, "ready": 1.0])
        #expect(first?.footprint == ["pss": 80 << 20])
        #expect(first?.allReadySeconds == nil)
    }

    @Test func sameSeedSameOrder() async {
        func order(seed: UInt64) async -> [String] {
            let log = LaunchLog()
            let a = FakeLauncher("a", ready: Duration.milliseconds(1), pss: 1, log: log)
            let b = FakeLauncher("b", ready: Duration.milliseconds(1), pss: 1, log: log)
            let c = FakeLauncher("c", ready: Duration.milliseconds(1), pss: 1, log: log)
            _ = await ComparisonRunner(
                plan: ComparisonPlan(runs: 10, warmup: 0, seed: seed),
                contenders: [
                    Contender(name: "a", role: .microVM, launcher: a),
                    Contender(name: "b", role: .container, launcher: b),
                    Contender(name: "c", role: .ordinaryVM, launcher: c),
                ]
            ).run()
            return log.all
        }
        #expect(await order(seed: 7) == (await order(seed: 7)))
        #expect(await order(seed: 7) != (await order(seed: 8)))
    }

    /// mvm's own Fisher-Yates on xoshiro256** (whose stream is checked
    /// against the reference in RandomNumberGeneratorTests): a fixed seed
    /// gives this order on every platform and Swift release. The expected
    /// order comes from an independent Python implementation of
    /// SplitMix64 seeding, xoshiro256**, Lemire's bounded draw and
    /// Fisher-Yates from the last position down.
    @Test func fixedSeedGivesAFixedOrder() {
        var generator = Xoshiro256StarStar(seed: 42)
        var letters = Array("abcdefgh")
        generator.shuffle(&letters)
        #expect(String(letters) == "hbgdfeca")
        var one = ["only"]
        generator.shuffle(&one)
        #expect(one == ["only"])
    }

    @Test func failedRunsAreRecordedWithTheirReasonNotDropped() async throws {
        let log = LaunchLog()
        let flaky = FakeLauncher("vm", ready: Duration.seconds(1), pss: 1, failingLaunches: [1, 3], log: log)
        let samples = await ComparisonRunner(
            plan: ComparisonPlan(runs: 5, warmup: 0),
            contenders: [Contender(name: "vm", role: .microVM, launcher: flaky)]
        ).run()
        #expect(samples.count == 5)
        let failed = samples.filter { !$0.ok }
        #expect(failed.map { $0.run } == [1, 3])
        #expect(failed.allSatisfy { $0.failure == "the fake refused" })
        let summary = ComparisonSummary(samples: samples, contenders: ["vm"], roles: ["vm": .microVM])
        let vm = try #require(summary.contender("vm"))
        #expect(vm.instances == 5)
        #expect(vm.failed == 2)
        #expect(vm.failures == ["the fake refused": 2])
        #expect(vm.metric(.ready)?.summary?.count == 3)
    }

    @Test func concurrencyStartsSeveralAndReportsAllReadyOncePerRun() async throws {
        let log = LaunchLog()
        let vm = FakeLauncher("vm", ready: Duration.seconds(1), pss: 1, log: log)
        let samples = await ComparisonRunner(
            plan: ComparisonPlan(runs: 3, warmup: 0, concurrency: 4),
            contenders: [Contender(name: "vm", role: .microVM, launcher: vm)]
        ).run()
        #expect(samples.count == 12)
        #expect(samples.map { $0.instance } == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3])
        #expect(samples.allSatisfy { ($0.allReadySeconds ?? -1) >= 0 })
        let summary = ComparisonSummary(samples: samples, contenders: ["vm"], roles: ["vm": .microVM])
        // Every instance carries its run's all-ready time; it is one figure
        // per run, so 3 values, not 12 (that would quadruple its weight).
        #expect(summary.contender("vm")?.metric(.allReady)?.summary?.count == 3)
        #expect(summary.contender("vm")?.metric(.ready)?.summary?.count == 12)
        #expect(ComparisonSummary.values(of: .allReady, for: "vm", in: samples).count == 3)
    }
}

@Suite struct AnalysisTests {
    static let roles: [String: ContenderRole] = ["vm": .microVM, "container": .container, "vm-stock": .ordinaryVM]
    static let tcgCaveat = "the VMs ran under TCG, QEMU's software emulation"

    func sample(_ contender: String, run: Int, ready: Double, pss: UInt64, warmup: Bool = false) -> InstanceSample {
        InstanceSample(
            contender: contender, run: run, instance: 0, warmup: warmup, ok: true, failure: nil,
            phases: ["ready": ready, "started": ready / 4], footprint: ["pss": pss], guest: nil, allReadySeconds: nil)
    }

    @Test func warmupIsLeftOutAndMediansComeFromTheSamples() throws {
        let samples = [
            sample("vm", run: -1, ready: 9, pss: 1, warmup: true),
            sample("vm", run: 0, ready: 1.3, pss: 80),
            sample("vm", run: 1, ready: 1.1, pss: 82),
            sample("vm", run: 2, ready: 1.2, pss: 81),
            sample("container", run: 0, ready: 0.05, pss: 2),
            sample("container", run: 1, ready: 0.04, pss: 2),
            sample("container", run: 2, ready: 0.06, pss: 2),
        ]
        let summary = ComparisonSummary(samples: samples, contenders: ["vm", "container"], roles: Self.roles)
        let vm = try #require(summary.contender("vm"))
        #expect(vm.instances == 3)
        #expect(vm.metric(.ready)?.summary?.median == 1.2)
        #expect(vm.metric(.ready)?.summary?.maximum == 1.3)
        #expect(vm.metric(.pss)?.summary?.median == 81)
        #expect(vm.metric(.pss)?.unit == .bytes)
        #expect(vm.metric(.created) == nil)
        let ready = try #require(summary.ratios.first { $0.metric == "ready" })
        #expect(abs(ready.ratio.ratio - 24) < 1e-9)
        #expect(ready.ratio.interval.contains(24))
        let pss = try #require(summary.ratios.first { $0.metric == "pss" })
        #expect(pss.ratio.ratio == 40.5)
    }

    @Test func noRatioWithoutBothSides() {
        let summary = ComparisonSummary(
            samples: [sample("vm", run: 0, ready: 1, pss: 1)], contenders: ["vm"], roles: Self.roles)
        #expect(summary.ratios.isEmpty)
    }

    func report(samples: [InstanceSample], contenders: [String], caveats: [String] = [tcgCaveat]) -> ComparisonReport {
        ComparisonReport(
            environment: EnvironmentFingerprint(
                hostKernel: "6.1.0", cpuModel: "Test CPU", cores: 2, memoryBytes: 1 << 30, accelerator: "tcg",
                acceleratorReason: "because", versions: ["qemu": "7.2.0"], images: ["vmlinux": "abc"],
                mvmVersion: "0.1.0",
                gitCommit: "deadbeef", startedAt: Date(timeIntervalSince1970: 0),
                finishedAt: Date(timeIntervalSince1970: 60)),
            plan: ComparisonPlan(runs: 3, warmup: 0), contenders: contenders, roles: Self.roles, caveats: caveats,
            samples: samples)
    }

    var threeEach: [InstanceSample] {
        (0..<3).flatMap { run in
            [
                sample("vm", run: run, ready: 1.0 + Double(run) / 10, pss: UInt64(80 + run) << 20),
                sample("container", run: run, ready: 0.05, pss: 2 << 20),
            ]
        }
    }

    @Test func tableHasContendersAsColumnsAndRatioLines() {
        let text = ComparisonRendering(report(samples: threeEach, contenders: ["vm", "container"])).table()
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix(" ") && $0.contains("vm") && $0.contains("container") })
        #expect(
            lines.contains {
                $0.hasPrefix("ready") && $0.contains("1100.0 ms [1000.0, 1200.0]") && $0.contains("50.0 ms")
            })
        #expect(lines.contains { $0.hasPrefix("pss") && $0.contains("81.0 MiB") && $0.contains("2.0 MiB") })
        #expect(lines.contains { $0.hasPrefix("ok runs") && $0.contains("3/3") })
        #expect(lines.contains { $0.hasPrefix("container ready 22.0x sooner than vm [") })
        #expect(lines.contains { $0.hasPrefix("container uses 40.5x less memory (pss) than vm [") })
        #expect(lines.contains("accelerator: tcg (because)"))
        #expect(lines.contains { $0.hasPrefix("caveat: the VMs ran under TCG") })
    }

    /// A ratio whose side went without its limits says so on its line.
    @Test func ratioLinesSayWhenLimitsDiffer() {
        var unbounded = report(samples: threeEach, contenders: ["vm", "container"])
        unbounded.unappliedLimits = ["container": ["memory", "CPU", "pids"]]
        let lines = ComparisonRendering(unbounded).table().split(separator: "\n").map(String.init)
        let ratios = lines.filter { $0.contains(" than vm [") }
        #expect(ratios.count == 2)
        for line in ratios {
            #expect(line.hasSuffix("]; limits differ: container had no memory, CPU or pids limit"), "\(line)")
        }
        let bounded = ComparisonRendering(report(samples: threeEach, contenders: ["vm", "container"])).table()
        #expect(!bounded.contains("limits differ"))
    }

    /// Caveats come from the launchers (through the report); the rendering
    /// does not guess them from names or accelerator strings.
    @Test func caveatsAreTheLaunchersOwn() {
        let none = ComparisonRendering(report(samples: threeEach, contenders: ["vm", "container"], caveats: [])).table()
        #expect(!none.contains("caveat"))
        let two = ComparisonRendering(
            report(samples: threeEach, contenders: ["vm", "container"], caveats: ["a", "b"])
        ).table()
        #expect(two.split(separator: "\n").filter { $0.hasPrefix("caveat: ") } == ["caveat: a", "caveat: b"])
    }

    /// With an ordinary VM in the run, the micro-VM is held against it too.
    @Test func microVMAgainstTheOrdinaryVM() throws {
        let stock = (0..<3).map { sample("vm-stock", run: $0, ready: 3.0, pss: 200 << 20) }
        let summary = ComparisonSummary(
            samples: threeEach + stock, contenders: ["vm", "container", "vm-stock"], roles: Self.roles)
        #expect(
            summary.ratios.map { "\($0.metric) \($0.numerator)/\($0.denominator)" } == [
                "ready vm/container", "pss vm/container", "ready vm/vm-stock", "pss vm/vm-stock",
            ])
        let text = ComparisonRendering(report(samples: threeEach + stock, contenders: ["vm", "container", "vm-stock"]))
            .table()
        #expect(text.contains("vm ready 2.7x sooner than vm-stock ["))
        #expect(text.contains("vm uses 2.5x less memory (pss) than vm-stock ["))
    }

    /// Ratios follow roles, not names: renamed contenders give the same ratios.
    @Test func ratiosFollowRolesNotNames() throws {
        let renamed = threeEach.map { sample -> InstanceSample in
            var sample = sample
            sample.contender = sample.contender == "vm" ? "guest" : "box"
            return sample
        }
        let summary = ComparisonSummary(
            samples: renamed, contenders: ["guest", "box"], roles: ["guest": .microVM, "box": .container])
        #expect(summary.ratios.map { "\($0.numerator)/\($0.denominator)" } == ["guest/box", "guest/box"])
        let named = ComparisonSummary(samples: threeEach, contenders: ["vm", "container"], roles: Self.roles)
        #expect(summary.ratios.map(\.ratio) == named.ratios.map(\.ratio))
    }

    @Test func failuresAreSummarised() {
        var samples = threeEach
        samples[0].ok = false
        samples[0].failure = "the guest printed no readiness line within 60 s"
        let text = ComparisonRendering(report(samples: samples, contenders: ["vm", "container"])).table()
        #expect(text.contains("vm: 1 failed run: the guest printed no readiness line within 60 s"))
        #expect(text.contains("2/3"))
    }

    @Test func csvHasEveryStatisticInBaseUnits() {
        let csv = ComparisonRendering(report(samples: threeEach, contenders: ["vm", "container"])).csv()
        let lines = csv.split(separator: "\n").map(String.init)
        #expect(
            lines[0]
                == "contender,metric,unit,n,mean,stddev,median,min,max,p5,p95,mad,outliers,median_ci_lower,median_ci_upper,value"
        )
        let ready = lines.first { $0.hasPrefix("vm,ready,seconds,3,") }
        #expect(ready?.split(separator: ",")[6] == "1.1")
        #expect(lines.contains { $0.hasPrefix("container,pss,bytes,3,2097152.0,0.0,2097152.0,") })
    }

    @Test func markdownHasTheTableAndAllStatistics() {
        let markdown = ComparisonRendering(report(samples: threeEach, contenders: ["vm", "container"])).markdown()
        #expect(markdown.contains("| metric | vm | container |"))
        #expect(
            markdown.contains(
                "| contender | metric | n | mean | sd | median | min | max | p5 | p95 | MAD | outliers | median 95% CI |"
            ))
        #expect(markdown.contains("- container ready 22.0x sooner than vm"))
    }

    @Test func jsonRoundTripsAndItsSamplesReproduceTheMedians() throws {
        let original = report(samples: threeEach, contenders: ["vm", "container"])
        let decoded = try ComparisonReport.decode(original.jsonData())
        #expect(decoded == original)
        #expect(decoded.roles == Self.roles && decoded.caveats == [Self.tcgCaveat])
        let recomputed = ComparisonSummary(
            samples: decoded.samples, contenders: decoded.contenders, roles: decoded.roles, bootstrap: decoded.bootstrap
        )
        #expect(recomputed == decoded.summary)
    }
}
