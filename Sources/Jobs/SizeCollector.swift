import Compare
import ContainerShim
import Foundation
import MVMCore
import Subprocess
import SystemPackage
import VMM

/// The bytes each side ships, as they are and gzipped (`gzip -6 -n`, the
/// usual level of a registry layer), and what a host must provide to run
/// each, checked on this host.
struct SizeCollector {
    let images: ImageSet
    let vm: MicroVMLauncher
    let container: ContainerLauncher
    let host: HostFacts
    /// The isolation ladder's contenders that ran (gvisor, podman, docker).
    var ladder: [Contender] = []

    func collect() async throws -> SizeResult {
        let kernel = try await filePart(name: "kernel", path: images.minimalVmlinux)
        let initramfs = try await filePart(name: "initramfs", path: images.initramfs)
        let rootfs = try await treePart(name: "rootfs", directory: images.rootfs)
        // The ladder's steps run the same tree; what they add is the host's
        // software, below.
        return SizeResult(
            artifacts: [
                Artifact(side: "vm", parts: [kernel, initramfs]), Artifact(side: "container", parts: [rootfs]),
            ] + ladder.map { Artifact(side: $0.name, parts: [rootfs]) },
            requirements: await requirements() + ladderRequirements())
    }

    private func filePart(name: String, path: String) async throws -> ArtifactPart {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let bytes = (attributes[.size] as? NSNumber)?.uint64Value ?? 0
        let gzipped = try await countBytes(of: "gzip -6 -n -c -- \"$1\"", argument: path)
        return ArtifactPart(name: name, path: path, bytes: bytes, gzipBytes: gzipped)
    }

    /// A tree as one reproducible tar stream (sorted names, numeric owners):
    /// what a container image layer of it would hold.
    private func treePart(name: String, directory: String) async throws -> ArtifactPart {
        let tar = "tar --sort=name --numeric-owner -C \"$1\" -cf - ."
        let bytes = try await countBytes(of: tar, argument: directory)
        let gzipped = try await countBytes(of: tar + " | gzip -6 -n", argument: directory)
        return ArtifactPart(name: name, path: directory, bytes: bytes, gzipBytes: gzipped)
    }

    /// The number of bytes a shell pipeline writes (through `wc -c`).
    private func countBytes(of pipeline: String, argument: String) async throws -> UInt64 {
        let result = try await run(
            .path("/bin/bash"), arguments: ["-c", "set -o pipefail; " + pipeline + " | wc -c", "sh", argument],
            output: .string(limit: 64), error: .string(limit: 4096))
        guard result.terminationStatus.isSuccess,
            let count = UInt64(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            throw SystemFailure("cannot measure the size of \(argument): \(result.standardError)")
        }
        return count
    }

    private func requirements() async -> [HostRequirement] {
        let choice = vm.acceleratorChoice
        let versions = vm.versions()
        let runtimeVersion = await container.runtimeVersion()
        let namespaces = ["mnt", "pid", "ipc", "uts", "net", "cgroup"]
        let present = namespaces.filter { FileManager.default.fileExists(atPath: "/proc/self/ns/" + $0) }
        let controllers = enabledCgroupControllers()
        let machine = ProcessInfo.processInfo.machineHardwareName ?? "unknown"
        return [
            HostRequirement(
                side: "vm",
                requirement: "a hypervisor: KVM (/dev/kvm with VT-x or AMD-V) for full speed, or QEMU's TCG emulation",
                presentHere: true, found: "\(choice.accelerator.rawValue): \(choice.reason)"),
            HostRequirement(
                side: "vm", requirement: "QEMU with the microvm machine (x86-64), started by libvirt or directly",
                presentHere: versions.hypervisor != nil,
                found: [versions.hypervisor.map { "qemu \($0)" }, versions.libvirt.map { "libvirt \($0)" }].compactMap {
                    $0
                }.joined(separator: ", ")),
            HostRequirement(
                side: "vm", requirement: "any host kernel and userland: the guest brings its own kernel",
                presentHere: true, found: "host kernel \(host.kernelRelease)"),
            HostRequirement(
                side: "container", requirement: "a Linux kernel with mount, pid, ipc, uts, net and cgroup namespaces",
                presentHere: present.count == namespaces.count,
                found: present.count == namespaces.count
                    ? "all of them" : "missing: " + namespaces.filter { !present.contains($0) }.joined(separator: ", ")),
            HostRequirement(
                side: "container", requirement: "cgroups with the memory, cpu and pids controllers",
                presentHere: ["memory", "cpu", "pids"].allSatisfy(controllers.contains),
                found: controllers.isEmpty
                    ? "no cgroup controllers found" : controllers.sorted().joined(separator: ", ")),
            HostRequirement(
                side: "container", requirement: "an OCI runtime (runc or crun)", presentHere: runtimeVersion != nil,
                found: runtimeVersion ?? "\(container.runtimePath) does not answer --version"),
            HostRequirement(
                side: "container",
                requirement: "an x86-64 host: the rootfs's binaries run on the host's CPU and kernel",
                presentHere: machine == "x86_64", found: machine),
        ]
    }

    /// What each step of the isolation ladder needs on the host, beyond a
    /// container's kernel features: its programs (with their size on
    /// disk) and, for Docker, a daemon that runs all the time.
    private func ladderRequirements() -> [HostRequirement] {
        ladder.flatMap { contender -> [HostRequirement] in
            switch contender.name {
            case "gvisor":
                return [
                    programs(side: contender.name, ["runsc"], requirement: "gVisor's runsc (its Sentry and gofer)"),
                    HostRequirement(
                        side: contender.name,
                        requirement: "ptrace (the ptrace platform) or /dev/kvm (the kvm platform) for the Sentry",
                        presentHere: true, found: "runsc's platform chosen with --runsc-platform"),
                ]
            case "podman":
                return [
                    programs(
                        side: contender.name, ["podman", "conmon", "runc"],
                        requirement: "Podman, its conmon monitor and an OCI runtime; no daemon")
                ]
            case "docker":
                return [
                    programs(
                        side: contender.name, ["dockerd", "containerd", "containerd-shim-runc-v2", "runc", "docker"],
                        requirement: "a running dockerd and containerd (shared daemons), a shim per container and runc")
                ]
            default:
                return []
            }
        }
    }

    /// The programs' presence and summed size on disk.
    private func programs(side: String, _ names: [String], requirement: String) -> HostRequirement {
        var found: [String] = []
        var missing: [String] = []
        var bytes: UInt64 = 0
        for name in names {
            guard let file = findExecutable(named: name) else {
                missing.append(name)
                continue
            }
            found.append(name)
            let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.uint64Value
            bytes += size ?? 0
        }
        let summary =
            missing.isEmpty
            ? "\(found.joined(separator: ", ")): \(formatMeasurement(Double(bytes), .bytes)) of programs"
            : "missing: " + missing.joined(separator: ", ")
        return HostRequirement(side: side, requirement: requirement, presentHere: missing.isEmpty, found: summary)
    }

    /// Controllers /proc/cgroups lists as enabled (v1 and v2 alike).
    private func enabledCgroupControllers() -> Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cgroups", encoding: .utf8) else { return [] }
        var names: Set<String> = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            if fields.count >= 4, fields[3] == "1" { names.insert(String(fields[0])) }
        }
        return names
    }
}
