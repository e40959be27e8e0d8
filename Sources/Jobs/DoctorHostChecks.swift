import ContainerShim
import Foundation
import MVMCore
import OCIImages
import Subprocess
import SystemPackage
import VMM

/// The checks of what containers, images and the state directory need.
extension Doctor {
    // MARK: containers

    /// A runtime as the container launcher finds and checks it.
    func checkRuntime(_ selection: RuntimeSelection, required: Bool, host: ContainerHost) async -> DoctorCheck {
        let name = selection.description
        let otherwise =
            required ? "" : "; only comparisons with \(selection) as the runtime need it, runc is the default"
        do {
            let found = try await ContainerLauncher.checkRuntime(selection, host: host, stateDirectory: stateDirectory)
            guard let version = found.version else {
                return .problem(
                    name, required: required, "\(found.path) does not answer --version",
                    fix: "reinstall it: apt-get install --reinstall \(selection)")
            }
            return .passed(name, required: required, "\(found.path): \(version)")
        } catch {
            switch error {
            case .runtimeNotFound:
                return .problem(
                    name, required: required, "\(selection) is not on PATH" + otherwise,
                    fix: "apt-get install \(selection)")
            case .runtimeUnsupported(let runtime, let reason, let alternative):
                return .problem(
                    name, required: required, "\(runtime) cannot run containers on this host: \(reason)",
                    fix: required ? alternative : "use runc (the default); crun needs a host with cgroup v2 only")
            default:
                return .problem(
                    name, required: required, error.description, fix: "apt-get install --reinstall \(selection)")
            }
        }
    }

    /// The cgroup layout the container spec is written for, and the memory
    /// controller that holds the container's memory limit.
    func checkCgroups(_ host: ContainerHost) -> DoctorCheck {
        let name = "cgroups"
        let layout: String
        let hasMemoryController: Bool
        switch host.cgroups {
        case .v2:
            layout = "cgroup v2 only"
            hasMemoryController =
                readSmallFile("/sys/fs/cgroup/cgroup.controllers")?.split(separator: " ").contains {
                    $0.trimmingCharacters(in: .whitespacesAndNewlines) == "memory"
                } ?? false
        case .hybrid, .v1:
            layout =
                host.cgroups == .hybrid
                ? "hybrid (cgroup v1 controllers, cgroup2 at /sys/fs/cgroup/unified)" : "cgroup v1"
            hasMemoryController = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory/memory.limit_in_bytes")
        }
        guard hasMemoryController else {
            return .problem(
                name, "\(layout) without the memory controller: the container's memory limit cannot be set",
                fix: "enable the memory controller (cgroup_enable=memory on the kernel command line)")
        }
        let facts = [
            layout, "memory controller present",
            host.swapAccounting ? "swap accounted" : "swap not accounted",
            host.userNamespacesAllowed ? "user namespaces allowed" : "no user namespaces",
        ]
        return .passed(name, facts.joined(separator: ", "))
    }

    /// For a non-root user: a rootless runc needs a user namespace, and
    /// applies the container's limits only in cgroups delegated to the
    /// user. Nil for root.
    func checkRootless(_ host: ContainerHost) -> DoctorCheck? {
        guard let user = host.rootlessUser else { return nil }
        let name = "rootless"
        guard host.userNamespacesAllowed else {
            return .problem(
                name, "uid \(user.uid): containers need a user namespace and this host allows none",
                fix: "allow them (sysctl user.max_user_namespaces=15000), or run mvm as root")
        }
        guard user.cgroupsDelegated else {
            let directories = user.undelegatedCgroups.joined(separator: ", ")
            return .problem(
                name, required: false,
                "uid \(user.uid) may not make cgroups under \(directories): containers run without memory, CPU and pids limits",
                fix:
                    "delegate those cgroups to the user (chown them to it, as pam_cgfs or systemd's Delegate=yes do), or run mvm as root"
            )
        }
        return .passed(name, "uid \(user.uid): user namespace, and cgroups delegated, so the limits apply")
    }

    // MARK: images

    /// manifest.json, then each output: present, and with the sha256 the
    /// manifest records. `mvm compare` records the manifest's hashes as the
    /// images it measured, so a file that differs would make that record false.
    func checkImages() async -> [DoctorCheck] {
        let manifestExists = FileManager.default.fileExists(atPath: images.manifest)
        let recorded = images.manifestHashes()
        let build = "build the images: bash images/build.sh (or set MVM_IMAGES to the directory that holds them)"
        var checks: [DoctorCheck] = []
        if !manifestExists {
            checks.append(.problem("images", "\(images.manifest) does not exist", fix: build))
        } else if recorded.isEmpty {
            checks.append(.problem("images", "\(images.manifest) lists no outputs with a sha256", fix: build))
        } else {
            checks.append(
                .passed(
                    "images",
                    "\(images.directory): manifest.json lists \(recorded.keys.sorted().joined(separator: ", "))"))
        }
        let outputs: [(file: String, path: String, neededBy: String?)] = [
            ("vmlinux", images.minimalVmlinux, nil),
            ("initramfs.cpio", images.initramfs, nil),
            ("rootfs", images.rootfs, nil),
            ("bzImage", images.minimalBzImage, "the pc machine"),
            ("stock-vmlinuz", images.stockKernel, "the stock VM"),
            ("image-init", images.imageInit, "--image"),
        ]
        let digests = await onDedicatedThreadTyped { () -> [String: Result<String, SystemFailure>] in
            var digests: [String: Result<String, SystemFailure>] = [:]
            for output in outputs where FileManager.default.fileExists(atPath: output.path) {
                digests[output.file] = Result { () throws(SystemFailure) -> String in
                    output.file == "rootfs"
                        ? try ImageDigest.tree(at: output.path) : try ImageDigest.file(at: output.path)
                }
            }
            return digests
        }
        for output in outputs {
            let name = "image \(output.file)"
            let required = output.neededBy == nil
            let onlyFor = output.neededBy.map { " (only \($0) needs it)" } ?? ""
            guard let digest = digests[output.file] else {
                checks.append(.problem(name, required: required, "\(output.path) does not exist" + onlyFor, fix: build))
                continue
            }
            guard let expected = recorded[output.file] else {
                checks.append(.problem(name, required: required, "\(output.file) is not in manifest.json", fix: build))
                continue
            }
            switch digest {
            case .failure(let failure):
                checks.append(.problem(name, required: required, failure.description, fix: build))
            case .success(let actual) where actual != expected:
                checks.append(
                    .problem(
                        name, required: required,
                        "sha256 \(actual.prefix(12)) but manifest.json says \(expected.prefix(12)): it changed since images/build.sh made it"
                            + onlyFor,
                        fix: "rebuild it: bash images/build.sh"))
            case .success(let actual):
                checks.append(.passed(name, required: required, "sha256 \(actual.prefix(12)) matches manifest.json"))
            }
        }
        return checks
    }

    /// What `--image` needs: umoci unpacks an image, skopeo reads `docker
    /// save` archives, cpio packs the micro-VM's initramfs. Not required:
    /// mvm's own images need none of them.
    func checkImageTools() -> DoctorCheck {
        let missing = ImagePreparer.missingTools()
        guard missing.isEmpty else {
            return .problem(
                "oci image tools", required: false,
                "\(missing.joined(separator: ", ")) not installed: --image cannot unpack an OCI image",
                fix: "apt-get install \(missing.joined(separator: " "))")
        }
        return .passed(
            "oci image tools", required: false,
            "umoci, skopeo and cpio are installed (--image unpacks images with them)")
    }

    // MARK: the state directory

    /// Writable (a file of its own created and removed), as compare writes
    /// sockets, bundles and libvirt's root there, and reachable by QEMU's
    /// user. Also returns whether mvm can write there, which libvirt needs
    /// before anything else.
    func checkStateDirectory() -> (DoctorCheck, writable: Bool) {
        let name = "state directory"
        let path = stateDirectory.path
        let fix = "use a writable state directory with free space (MVM_STATE_DIR)"
        guard path.hasPrefix("/") else {
            return (
                .problem(name, "\(path) is not an absolute path, which libvirt's embedded driver needs", fix: fix),
                false
            )
        }
        var isDirectory: ObjCBool = false
        var created = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { return (.problem(name, "\(path) is not a directory", fix: fix), false) }
        } else {
            do {
                try stateDirectory.ensureExists()
                created = true
            } catch {
                return (
                    .problem(
                        name, "cannot create \(path): \(error.underlying.map(Self.reason) ?? error.action)", fix: fix),
                    false
                )
            }
        }
        let probe = FilePath(path).appending(".mvm-doctor-\(getpid())")
        do {
            let descriptor = try FileDescriptor.open(
                probe, .writeOnly, options: [.create, .exclusiveCreate, .closeOnExec], permissions: .ownerReadWrite)
            try descriptor.close()
            unlink(probe.string)
        } catch {
            return (.problem(name, "cannot write in \(path): \(Self.reason(error))", fix: fix), false)
        }
        // QEMU, running as its own user, connects to the console sockets
        // and reads the staged images and the embedded driver's files here.
        if uri?.isLocal ?? true, let account = UserAccount(named: qemuUser),
            let barrier = account.firstBarrier(toward: path)
        {
            let check = DoctorCheck.problem(
                name,
                "\(path) is writable, but \(qemuUser), QEMU's user, cannot enter \(barrier.directory) "
                    + "(\(permissionsDescription(of: barrier.directory, barrier.info))), so QEMU cannot reach its files there",
                fix: "chmod a+x \(barrier.directory), or use a state directory QEMU's user can reach")
            return (check, true)
        }
        return (.passed(name, "\(path) is writable" + (created ? " (created, as mvm compare would)" : "")), true)
    }

    /// The system's reason for a file operation's failure: FileManager's
    /// errors carry it underneath a vaguer text of their own.
    static func reason(_ error: any Error) -> String {
        if let posix = (error as? CocoaError)?.underlying as? POSIXError {
            return Errno(rawValue: posix.code.rawValue).description
        }
        return describe(error)
    }

    /// What killed mvm processes left, found without libvirt or a runtime.
    func checkOrphans() -> DoctorCheck {
        let name = "orphans"
        let names = GarbageCollector(stateDirectory: stateDirectory).quickScan()
        guard !names.isEmpty else { return .passed(name, required: false, "none in \(stateDirectory.path)") }
        let shown = names.prefix(3).joined(separator: ", ") + (names.count > 3 ? ", …" : "")
        return .problem(
            name, required: false,
            "\(names.count) instance\(names.count == 1 ? "" : "s") left by an mvm that is gone: \(shown)",
            fix:
                "mvm gc --state-dir \(stateDirectory.path) removes \(names.count == 1 ? "it" : "them") (--dry-run lists first)"
        )
    }
}
