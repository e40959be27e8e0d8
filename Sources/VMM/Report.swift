import Foundation
import MVMCore

/// Everything `mvm boot` reports about one boot, for people and for JSON.
public struct MicroVMReport: InstanceReport, Codable {
    public var schema = 1
    public var kind = "vm"
    public var name: String
    public var uri: String
    public var accelerator: Accelerator
    public var acceleratorReason: String
    public var machine: MachineType
    public var memoryMiB: Int
    public var vcpus: Int
    public var kernel: String
    public var initrd: String?
    public var kernelCommandLine: String
    /// Wall-clock time of the request (phase offsets are from this moment).
    public var requestedAt: Date
    public var phases: [PhaseMark]
    /// What the readiness line reported; absent for a `--ready-line` of another workload.
    public var guest: GuestFacts?
    public var footprint: [String: UInt64]
    public var qemuPID: Int32?
    /// True when the domain was left running (`--keep`).
    public var kept: Bool
    /// Where the start spent its time (`--trace`).
    public var trace: BootTrace?

    public init(vm: MicroVM, footprint: Footprint, kept: Bool) {
        name = vm.name
        uri = vm.uri.text
        accelerator = vm.acceleratorChoice.accelerator
        acceleratorReason = vm.acceleratorChoice.reason
        machine = vm.description.machine
        memoryMiB = vm.description.memoryMiB
        vcpus = vm.description.vcpus
        kernel = vm.description.kernelPath
        initrd = vm.description.initrdPath
        kernelCommandLine = vm.description.kernelArguments.joined(separator: " ")
        requestedAt = vm.boot.requestedAt
        phases = vm.boot.timeline.marks
        guest = vm.boot.facts
        self.footprint = footprint.bytesByName
        qemuPID = vm.qemuPID
        self.kept = kept
        trace = vm.boot.trace
    }

    public func summary() -> String {
        render(
            title:
                "\(name): \(machine.rawValue) VM, \(memoryMiB) MiB, \(vcpus) vCPU\(vcpus == 1 ? "" : "s"), via \(uri)",
            details: [("accelerator", "\(accelerator.rawValue): \(acceleratorReason)")])
    }
}
