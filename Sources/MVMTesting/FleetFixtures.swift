import Compare
import Foundation
import History
import SQLiteHistory

/// A synthetic fleet in a SQLite store: three hosts (one with a hostile
/// hostname), a stack change and a partial last run on one, and two plans
/// on another.
public enum FleetFixtures {
    private typealias F = VerdictFixtures

    public static let hostile = "<img src=x onerror=alert(1)>]]>&\"'"
    public static let alpha = HostIdentity(
        cpuModel: "AMD EPYC 7763", cores: 8, memoryGiB: 32, hostname: "alpha", machineID: "a1")
    public static let bravo = HostIdentity(
        cpuModel: "Intel Xeon Gold 6338", cores: 16, memoryGiB: 64, hostname: "bravo", machineID: "b2")
    public static let evil = HostIdentity(
        cpuModel: "Test CPU</td>", cores: 2, memoryGiB: 4, hostname: hostile, machineID: "c3")
    /// The runtime as the stack records it on Debian (the first line of
    /// `runc --version`): the report must show its name and version whole.
    public static let stack: StackFacts = {
        var stack = F.stack
        stack.versions["runtime"] = "runc version 1.1.5+ds1"
        return stack
    }()
    public static let upgraded: StackFacts = {
        var stack = Self.stack
        stack.versions["qemu"] = "8.0.0"
        return stack
    }()

    public static func run(
        _ index: Int, host: HostIdentity, vmReady: Double, containerReady: Double,
        plan: PlanIdentity = VerdictFixtures.plan,
        stack: StackFacts = stack, partial: Bool = false
    ) -> RecordedRun {
        var run = F.recorded(index, vmReady: vmReady, stack: stack, partial: partial)
        run.host = host
        run.plan = plan
        run.header.hostKey = host.key
        run.header.planKey = plan.key
        run.header.id += "-\(host.machineID)-\(plan.runs)"
        run.report = F.report(vmReady: vmReady, containerReady: containerReady, seed: UInt64(index + 7))
        return run
    }

    public static var otherPlan: PlanIdentity {
        var plan = F.plan
        plan.runs = 20
        return plan
    }

    /// vm ready: bravo 0.8 s < alpha 1.2 s < evil 1.5 s; ratio: evil 5× < alpha 10× < bravo 16×.
    public static func runs() -> [RecordedRun] {
        var runs: [RecordedRun] = []
        for index in 0..<12 {
            runs.append(
                run(
                    index, host: alpha, vmReady: index < 6 ? 1.1 : 1.2, containerReady: 0.12,
                    stack: index < 6 ? stack : upgraded))
            runs.append(run(index, host: bravo, vmReady: 0.8, containerReady: 0.05))
            runs.append(run(index, host: evil, vmReady: 1.5, containerReady: 0.3))
        }
        runs.append(run(12, host: alpha, vmReady: 3.0, containerReady: 0.12, stack: upgraded, partial: true))
        for index in 3..<6 { runs.append(run(index, host: bravo, vmReady: 0.9, containerReady: 0.06, plan: otherPlan)) }
        return runs
    }

    public static func store() async throws -> (SQLiteHistoryStore, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mvm-fleet-\(UUID().uuidString)")
        let path = directory.appendingPathComponent("history.sqlite").path
        let store = try SQLiteHistoryStore(path: path)
        for run in runs() { try await store.record(run) }
        return (store, directory.path)
    }

    public static func report() async throws -> FleetReport {
        let (store, directory) = try await store()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try await FleetReport.load(from: store)
    }
}
