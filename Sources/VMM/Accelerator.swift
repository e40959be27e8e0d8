import MVMCore
import SystemPackage

#if canImport(Glibc)
    import Foundation
    import Glibc
#endif

/// How QEMU runs guest code.
public enum Accelerator: String, Sendable, Codable, CaseIterable {
    /// Hardware virtualization through the host kernel.
    case kvm
    /// QEMU's Tiny Code Generator: software emulation, slow but works anywhere.
    case tcg

    /// What a reader of figures measured with this accelerator must know;
    /// nil for KVM.
    public var caveat: String? {
        switch self {
        case .kvm: nil
        case .tcg:
            "the VMs ran under TCG, QEMU's software emulation, which is many times slower than KVM; "
                + "their times say little about a host with hardware virtualization"
        }
    }

    /// libvirt's domain type for this accelerator.
    var domainType: String {
        switch self {
        case .kvm: "kvm"
        case .tcg: "qemu"
        }
    }
}

/// What the user asked for with `--accel`.
public enum AcceleratorRequest: String, Sendable, Codable, CaseIterable {
    case auto, kvm, tcg
}

/// What a host offers for running guests with KVM.
public struct HostVirtualization: Sendable, Hashable {
    public enum KVMDevice: Sendable, Hashable {
        case usable
        case missing
        /// /dev/kvm exists but cannot be opened read-write (errno text).
        case inaccessible(String)
    }

    public var kvmDevice: KVMDevice
    /// `vmx` (Intel VT-x) or `svm` (AMD-V) when the CPU exposes either.
    public var cpuVirtualizationFlag: String?

    public init(kvmDevice: KVMDevice, cpuVirtualizationFlag: String?) {
        self.kvmDevice = kvmDevice
        self.cpuVirtualizationFlag = cpuVirtualizationFlag
    }

    /// Looks at this machine: /dev/kvm and /proc/cpuinfo.
    public static func probeLocal() -> HostVirtualization {
        let device: KVMDevice
        let fd = open("/dev/kvm", O_RDWR | O_CLOEXEC)
        if fd >= 0 {
            close(fd)
            device = .usable
        } else if errno == ENOENT {
            device = .missing
        } else {
            device = .inaccessible(Errno(rawValue: errno).description)
        }
        return HostVirtualization(
            kvmDevice: device,
            cpuVirtualizationFlag: readSmallFile("/proc/cpuinfo").flatMap(virtualizationFlag(cpuinfo:)))
    }

    /// Looks at a (possibly remote) host through libvirt's capabilities XML:
    /// a `kvm` domain type stands for a usable /dev/kvm, the host CPU's
    /// features for the CPU flags.
    public static func probe(capabilitiesXML xml: String) -> HostVirtualization {
        let flag = ["vmx", "svm"].first { xml.contains("<feature name='\($0)'/>") }
        return HostVirtualization(
            kvmDevice: xml.contains("<domain type='kvm'") ? .usable : .missing,
            cpuVirtualizationFlag: flag)
    }

    /// The first of `vmx`/`svm` on a `flags` line of /proc/cpuinfo.
    public static func virtualizationFlag(cpuinfo: String) -> String? {
        for line in cpuinfo.split(separator: "\n") where line.hasPrefix("flags") {
            let flags = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ":" })
            if flags.contains("vmx") { return "vmx" }
            if flags.contains("svm") { return "svm" }
        }
        return nil
    }
}

/// The accelerator a boot uses and why, in words a report can show.
public struct AcceleratorChoice: Sendable, Codable, Hashable {
    public var accelerator: Accelerator
    public var reason: String

    public init(accelerator: Accelerator, reason: String) {
        self.accelerator = accelerator
        self.reason = reason
    }

    /// Decides. `auto` picks KVM only where /dev/kvm is usable *and* the CPU
    /// exposes vmx or svm: some hosts (paravirtual KVM, for one) have a
    /// working /dev/kvm that boots no standard guest.
    public static func choose(
        _ request: AcceleratorRequest, host: HostVirtualization
    ) throws(AcceleratorUnavailable) -> AcceleratorChoice {
        let kvmProblem: String? =
            switch (host.kvmDevice, host.cpuVirtualizationFlag) {
            case (.missing, _): "/dev/kvm does not exist"
            case (.inaccessible(let why), _): "/dev/kvm cannot be opened read-write (\(why))"
            case (.usable, nil):
                "/dev/kvm exists but the CPU exposes neither vmx nor svm, so KVM cannot run a standard guest"
            case (.usable, .some): nil
            }
        switch request {
        case .tcg:
            return AcceleratorChoice(accelerator: .tcg, reason: "requested: tcg")
        case .kvm:
            if let kvmProblem { throw AcceleratorUnavailable(problem: kvmProblem) }
            return AcceleratorChoice(
                accelerator: .kvm,
                reason:
                    "requested: kvm; /dev/kvm is usable and the CPU exposes \(host.cpuVirtualizationFlag ?? "")"
            )
        case .auto:
            if let kvmProblem {
                return AcceleratorChoice(accelerator: .tcg, reason: kvmProblem)
            }
            return AcceleratorChoice(
                accelerator: .kvm,
                reason: "/dev/kvm is usable and the CPU exposes \(host.cpuVirtualizationFlag ?? "")")
        }
    }
}

public struct AcceleratorUnavailable: Error, CustomStringConvertible, Equatable {
    public var problem: String

    public var description: String {
        "KVM is not available on this host: \(problem); use the tcg accelerator (or auto)"
    }
}

/// Which QEMU binary runs a micro-VM. Debian's `qemu-system-x86_64-microvm`
/// is built for the microvm machine and KVM only: 10 shared libraries
/// instead of 51, 7.7 MB instead of 18 MB, so less to load and to map. It
/// refuses TCG ("invalid accelerator tcg"), so it is chosen only for a KVM
/// guest on the microvm machine on this machine, and only if installed.
public enum EmulatorChoice {
    public static let microvmBinary = "/usr/bin/qemu-system-x86_64-microvm"

    /// The binary for libvirt's `<emulator>`, or nil for libvirt's default.
    public static func choose(
        accelerator: Accelerator, machine: MachineType, local: Bool,
        isExecutable: (String) -> Bool = { FileManager.default.isExecutableFile(atPath: $0) }
    ) -> String? {
        guard local, accelerator == .kvm, machine == .microvm, isExecutable(microvmBinary) else { return nil }
        return microvmBinary
    }
}
