import Foundation
import MVMCore

/// Everything `mvm run` reports about one container start, for people and
/// for JSON. Same shape as the micro-VM's report where the facts match.
public struct ContainerReport: InstanceReport, Codable {
    public var schema = 1
    public var kind = "container"
    public var name: String
    public var runtime: String
    public var runtimeVersion: String?
    public var stateRoot: String
    public var memoryMiB: Int
    public var vcpus: Int
    public var rootfs: String
    public var userNamespace: Bool
    public var requestedAt: Date
    public var phases: [PhaseMark]
    /// What the readiness line reported; absent for a `--ready-line` of another workload.
    public var guest: GuestFacts?
    public var footprint: [String: UInt64]
    public var initPID: Int32
    public var kept: Bool
    /// Where the start spent its time (`--trace`).
    public var trace: BootTrace?
    /// The limits the runtime could not apply (a rootless container without
    /// delegated cgroups: `memory`, `CPU`, `pids`); absent when all were.
    public var unappliedLimits: [String]?
    /// Why, and what to do about it.
    public var caveats: [String]?

    public init(
        container: Container, footprint: Footprint, launcher: ContainerLauncher, runtimeVersion: String?, kept: Bool
    ) {
        name = container.name
        runtime = container.runtimePath
        self.runtimeVersion = runtimeVersion
        stateRoot = container.runtimeStateRoot
        memoryMiB = launcher.configuration.limits.memoryMiB
        vcpus = launcher.configuration.limits.vcpus
        unappliedLimits = launcher.unappliedLimits.isEmpty ? nil : launcher.unappliedLimits
        caveats = launcher.caveats.isEmpty ? nil : launcher.caveats
        rootfs = container.spec.root.path
        userNamespace = container.usesUserNamespace
        requestedAt = container.boot.requestedAt
        phases = container.boot.timeline.marks
        guest = container.boot.facts
        self.footprint = footprint.bytesByName
        initPID = container.initPID
        self.kept = kept
        trace = container.boot.trace
    }

    public func summary() -> String {
        let limits =
            unappliedLimits == nil
            ? "\(memoryMiB) MiB limit, \(vcpus) CPU\(vcpus == 1 ? "" : "s")" : "rootless, no memory or CPU limit"
        return render(
            title: "\(name): container, \(limits), via \(runtime)",
            details: [
                ("runtime", runtimeVersion ?? runtime),
                (
                    "isolation",
                    "read-only rootfs, no capabilities, no network" + (userNamespace ? ", user namespace" : "")
                ),
            ] + (caveats ?? []).map { ("caveat", $0) })
    }
}
