import Compare
import ContainerShim
import Foundation
import MVMCore
import VMM

/// Starts one micro-VM and one container whose init prints what it sees of
/// its isolation (`mvm_probe=isolation`), reads the VM's side from its
/// running domain and QEMU and the container's host side from /proc, and
/// sets the two side by side, aspect by aspect.
struct IsolationCollector {
    let vm: MicroVMLauncher
    let container: ContainerLauncher
    /// The isolation ladder's contenders that ran (gvisor, podman, docker).
    var ladder: [Contender] = []

    static let probeEnvironment = ["mvm_probe=isolation"]

    func collect() async -> IsolationResult {
        var observations: [String: [String: String]] = [:]
        var failures: [String: String] = [:]
        var vmSide: VMSide?

        do {
            var configuration = vm.configuration
            configuration.extraKernelArguments += Self.probeEnvironment
            let instance = try await MicroVMLauncher(configuration).launch()
            do {
                let facts = try await instance.isolationFacts()
                let qemu = instance.qemuPID.flatMap(ProcessCredentials.read)
                vmSide = VMSide(boot: instance.boot, facts: facts, qemu: qemu, limits: configuration.limits)
                try await instance.stop()
            } catch {
                try? await instance.stop()
                throw error
            }
        } catch {
            failures["vm"] = firstLine(of: error)
        }
        var containerSides: [(name: String, side: ContainerSide)] = []
        let containerLike = [Contender(name: "container", role: .container, launcher: container)] + ladder
        for contender in containerLike {
            do {
                let probe = try await LadderLaunch.adding(Self.probeEnvironment, to: contender)
                let side: Result<ContainerSide, any Error>
                do {
                    side = .success(try await Self.probeSide(probe))
                } catch {
                    side = .failure(error)
                }
                // An engine's launcher imported a tree of its own.
                await LadderLaunch.drain(probe)
                containerSides.append((contender.name, try side.get()))
            } catch {
                failures[contender.name] = firstLine(of: error)
            }
        }
        if let vmSide { observations["vm"] = vmSide.observations }
        for (name, side) in containerSides { observations[name] = side.observations }
        let hostNamespaces = Self.namespaces(of: "self")
        var aspects: [IsolationAspect] = []
        func add(_ name: String, vm: String?, container: (ContainerSide) -> String) {
            var values: [String: String] = [:]
            if let vmSide = vm { values["vm"] = vmSide }
            for (side, figures) in containerSides { values[side] = container(figures) }
            aspects.append(IsolationAspect(name: name, values: values))
        }
        add(
            "kernel", vm: vmSide.map { "\($0.boot.facts?.kernelRelease ?? "?"): its own" },
            container: {
                "\($0.boot.facts?.kernelRelease ?? "?"): "
                    + ($0.sandboxed ? "its own, gVisor's Sentry in user space" : "the host's, shared")
            })
        add(
            "accelerator",
            vm: vmSide.map {
                $0.facts.domainType == "qemu"
                    ? "tcg: QEMU emulates the CPU" : $0.facts.domainType + ": hardware virtualization"
            },
            container: { _ in "none: runs on the host's CPU" })
        add("machine", vm: vmSide.map(\.facts.machine), container: { _ in "none" })
        add(
            "emulated devices",
            vm: vmSide.map { "\($0.facts.qtreeDeviceCount) in QEMU: " + Self.counted($0.facts.qtreeDevices) },
            container: { $0.sandboxed ? "none: the Sentry's own, in user space" : "none: host kernel drivers" })
        add(
            "device nodes inside", vm: vmSide.map { Self.nodes($0.boot.reported) + " (the guest kernel's)" },
            container: { Self.nodes($0.boot.reported) + ($0.sandboxed ? " (the Sentry's)" : " (the host kernel's)") })
        add(
            "own namespaces", vm: vmSide.map { _ in "n/a: a kernel of its own" },
            container: {
                $0.sandboxed
                    ? "the Sentry's own: " + Self.namespaceSummary(inside: $0.boot.reported, host: hostNamespaces)
                    : Self.namespaceSummary(inside: $0.boot.reported, host: hostNamespaces)
            })
        add(
            "capabilities inside (CapEff)",
            vm: vmSide.map { Self.capabilities($0.boot.reported["status.CapEff"]) + ", of the guest kernel" },
            container: { Self.capabilities($0.boot.reported["status.CapEff"]) })
        add(
            "host process", vm: vmSide.map { $0.qemu.map { "QEMU: " + $0.summary } ?? "QEMU on another host" },
            container: { side in side.host.map { side.hostProcessName + ": " + $0.summary } ?? "-" })
        add(
            "seccomp (host process)", vm: vmSide.map { Self.seccomp($0.facts.qemuSyscalls) },
            container: { Self.seccomp($0.syscalls) })
        add(
            "no-new-privileges (host process)",
            vm: vmSide.map { $0.facts.qemuSyscalls.map { $0.noNewPrivileges ? "yes" : "no" } ?? "-" },
            container: { $0.syscalls.noNewPrivileges ? "yes" : "no" })
        add(
            "host syscalls it may make", vm: vmSide.map { Self.syscallCount($0.facts.qemuSyscalls) },
            container: { Self.syscallCount($0.syscalls) })
        add(
            "memory limit",
            vm: vmSide.map {
                "\($0.limits.memoryMiB) MiB of guest RAM (MemTotal \(($0.boot.facts?.memTotalKiB ?? 0) / 1024) MiB inside)"
            },
            container: { Self.memoryLimit($0.boot.reported) })
        add(
            "cpu limit", vm: vmSide.map { "\($0.limits.vcpus) vCPU" },
            container: { Self.cpuLimit($0.boot.reported) })
        add(
            "process limit", vm: vmSide.map { _ in "none from the host: the guest kernel's own" },
            container: {
                $0.boot.reported["cgroup.pids.max"] ?? $0.boot.reported["cgroup.pids/pids.max"] ?? "none seen"
            })
        return IsolationResult(
            sides: ["vm"] + containerLike.map(\.name), aspects: aspects, observations: observations,
            failures: failures)
    }

    struct VMSide {
        var boot: BootRecord
        var facts: VMIsolationFacts
        var qemu: ProcessCredentials?
        var limits: InstanceLimits

        var observations: [String: String] {
            var values = boot.reported
            values["qemu.domainType"] = facts.domainType
            values["qemu.machine"] = facts.machine
            values["qemu.qtreeDevices"] = facts.qtreeDevices.joined(separator: ",")
            values["qemu.domainXMLDeviceCount"] = "\(facts.domainXMLDeviceCount)"
            if let syscalls = facts.qemuSyscalls {
                values.merge(syscalls.observations(prefix: "qemu")) { $1 }
                values.merge(syscalls.observations(prefix: "host")) { $1 }
            }
            if let qemu { values.merge(qemu.observations(prefix: "qemu")) { $1 } }
            return values
        }
    }

    /// Starts one instance of a container-like contender with the probe,
    /// reads its host process, and stops it.
    static func probeSide(_ contender: Contender) async throws -> ContainerSide {
        let (instance, hostPID, userNamespace) = try await LadderLaunch.start(contender)
        do {
            let syscalls = try SyscallExposure.read(pid: hostPID)
            let side = ContainerSide(
                boot: instance.boot, syscalls: syscalls, host: ProcessCredentials.read(pid: hostPID),
                userNamespace: userNamespace, sandboxed: contender.role == .sandboxedContainer)
            try await instance.stop()
            return side
        } catch {
            try? await instance.stop()
            throw error
        }
    }

    /// A container's side: mvm's, gVisor's (whose host process is the
    /// Sentry, `runsc-sandbox`) or an engine's.
    struct ContainerSide {
        var boot: BootRecord
        var syscalls: SyscallExposure
        var host: ProcessCredentials?
        var userNamespace: Bool
        var sandboxed: Bool

        var hostProcessName: String { sandboxed ? "Sentry (runsc-sandbox)" : "init" }

        var observations: [String: String] {
            var values = boot.reported
            values.merge(syscalls.observations(prefix: "init")) { $1 }
            values.merge(syscalls.observations(prefix: "host")) { $1 }
            if let host { values.merge(host.observations(prefix: "init")) { $1 } }
            values["init.userNamespace"] = userNamespace ? "yes" : "no"
            return values
        }
    }
}

extension SyscallExposure {
    /// The raw figures for the JSON's observations, keys under `prefix`.
    func observations(prefix: String) -> [String: String] {
        [
            "\(prefix).seccompMode": "\(mode.rawValue)", "\(prefix).seccompFilters": "\(filterCount)",
            "\(prefix).allowedSyscalls": "\(allowedSyscallCount)", "\(prefix).hostSyscalls": "\(hostSyscallCount)",
            "\(prefix).deniedSyscalls": deniedSyscalls.joined(separator: ","),
        ]
    }
}

/// Who a host process runs as: its user and capabilities as the host sees
/// them (from /proc/PID/status).
struct ProcessCredentials {
    var uid: UInt32
    var user: String
    var effectiveCapabilities: UInt64

    static func read(pid: Int32) -> ProcessCredentials? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        var uid: UInt32?
        var capabilities: UInt64?
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard fields.count >= 2 else { continue }
            if fields[0] == "Uid:" { uid = UInt32(fields[1]) }
            if fields[0] == "CapEff:" { capabilities = UInt64(fields[1], radix: 16) }
        }
        guard let uid, let capabilities else { return nil }
        return ProcessCredentials(uid: uid, user: userName(uid) ?? "uid \(uid)", effectiveCapabilities: capabilities)
    }

    var summary: String {
        "user \(user), "
            + (effectiveCapabilities == 0 ? "no capabilities" : "\(effectiveCapabilities.nonzeroBitCount) capabilities")
    }

    func observations(prefix: String) -> [String: String] {
        [
            "\(prefix).uid": "\(uid)", "\(prefix).user": user,
            "\(prefix).capEff": String(effectiveCapabilities, radix: 16),
        ]
    }

    private static func userName(_ uid: UInt32) -> String? {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return nil }
        return String(cString: name)
    }
}
