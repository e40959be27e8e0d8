import ContainerShim
import Foundation
import MVMCore
import Subprocess
import SystemPackage
import VMM

/// One prerequisite of `mvm compare`, as `mvm doctor` found it.
public struct DoctorCheck: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        case pass, warn, fail
    }

    public var name: String
    public var status: Status
    /// Whether a failure of this check stops `mvm compare`. A check that is
    /// not required reports its problems as warnings.
    public var required: Bool
    /// What was found.
    public var detail: String
    /// What to do about a warning or a failure.
    public var fix: String?

    public init(name: String, status: Status, required: Bool, detail: String, fix: String? = nil) {
        self.name = name
        self.status = status
        self.required = required
        self.detail = detail
        self.fix = fix
    }

    static func passed(_ name: String, required: Bool = true, _ detail: String) -> DoctorCheck {
        DoctorCheck(name: name, status: .pass, required: required, detail: detail)
    }

    /// A problem: a failure where the check is required, else a warning.
    static func problem(_ name: String, required: Bool = true, _ detail: String, fix: String) -> DoctorCheck {
        DoctorCheck(name: name, status: required ? .fail : .warn, required: required, detail: detail, fix: fix)
    }
}

/// Everything `mvm doctor` checked, in the order it prints them.
public struct DoctorReport: Sendable, Codable, Equatable {
    /// No required check failed: `mvm compare` can run.
    public var ready: Bool
    public var checks: [DoctorCheck]

    public init(checks: [DoctorCheck]) {
        self.checks = checks
        ready = !checks.contains { $0.required && $0.status == .fail }
    }

    /// `PASS  name  detail` lines, the fix under each warning and failure,
    /// and a last line saying whether `mvm compare` can run.
    public func table() -> String {
        let width = checks.map(\.name.count).max() ?? 0
        var lines: [String] = []
        for check in checks {
            let name = check.name.padding(toLength: width, withPad: " ", startingAt: 0)
            lines.append("\(check.status.rawValue.uppercased())  \(name)  \(check.detail)")
            if check.status != .pass, let fix = check.fix { lines.append("      fix: \(fix)") }
        }
        let warnings = checks.filter { $0.status == .warn }.count
        let failures = checks.filter { $0.required && $0.status == .fail }.map(\.name)
        let warned = warnings == 0 ? "" : " (\(warnings) warning\(warnings == 1 ? "" : "s"))"
        lines.append("")
        lines.append(
            failures.isEmpty
                ? "ready: mvm compare can run\(warned)"
                : "not ready: mvm compare cannot run; \(failures.count) required check\(failures.count == 1 ? "" : "s") failed (\(failures.joined(separator: ", ")))")
        return lines.joined(separator: "\n")
    }
}

/// `mvm doctor`: checks every prerequisite of `mvm compare` through the code
/// paths compare itself takes, and says for each what to do when it fails.
/// It starts no domain and no container and leaves no file behind; like
/// compare, it creates a missing state directory, and opening the embedded
/// driver prepares its root there.
public struct Doctor: Sendable {
    public var stateDirectory: StateDirectory
    /// libvirt URI; nil means the embedded QEMU driver under the state dir.
    public var connectURI: String?
    public var images: ImageSet
    /// The user libvirt runs QEMU as: Debian's default, for the embedded
    /// driver as much as for the daemon.
    public var qemuUser = "libvirt-qemu"
    /// The binary the `qemu-direct` row starts.
    public var emulator = DirectQEMULauncher.defaultEmulator

    public init(stateDirectory: StateDirectory, connectURI: String? = nil, images: ImageSet = .defaultLocation()) {
        self.stateDirectory = stateDirectory
        self.connectURI = connectURI
        self.images = images
    }

    /// Runs every check.
    public func examine() async -> DoctorReport {
        // The state directory goes first: it is created here when missing,
        // as compare creates it, and libvirt logs into it from its first call.
        let (state, stateWritable) = checkStateDirectory()
        let library = checkLibvirtLibrary(stateWritable: stateWritable)
        let (connection, manager) = await checkConnection(stateWritable: stateWritable)
        let qemu = await checkQEMU()
        let (accelerator, choice) = checkAccelerator(manager: manager)
        let kvm = checkKVMDevice(chosen: choice)
        let containerHost = ContainerHost.probe()
        let runc = await checkRuntime(.runc, required: true, host: containerHost)
        let crun = await checkRuntime(.crun, required: false, host: containerHost)
        let cgroups = checkCgroups(containerHost)
        let images = await checkImages()
        let orphans = checkOrphans()
        return DoctorReport(
            checks: [library, connection, qemu, accelerator, kvm, runc, crun, cgroups] + images + [state, orphans])
    }

    private var uri: LibvirtURI? {
        guard let connectURI else { return .embedded(root: stateDirectory.subdirectory("libvirt")) }
        return try? LibvirtURI(parsing: connectURI)
    }

    // MARK: libvirt

    /// The library itself: if it were missing, mvm would not have started at
    /// all (it is linked), so what can fail is its set-up, and an embedded
    /// driver too old to exist.
    private func checkLibvirtLibrary(stateWritable: Bool) -> DoctorCheck {
        let name = "libvirt"
        guard stateWritable else {
            return .problem(
                name, "not checked: libvirt writes its log into the state directory, which mvm cannot use",
                fix: "make the state directory usable first (see its check)")
        }
        let version: String
        do {
            version = try LibvirtLibrary.version(stateDirectory: stateDirectory)
        } catch {
            return .problem(name, error.description, fix: "install libvirt: apt-get install libvirt0 libvirt-daemon-system")
        }
        // libvirt's docs (drvqemu.rst, "Embedded driver"): since 6.1.0.
        let parts = version.split(separator: ".").compactMap { Int($0) }
        if uri?.isEmbedded == true, parts.lexicographicallyPrecedes([6, 1]) {
            return .problem(
                name, "libvirt \(version) has no embedded QEMU driver (it came with 6.1.0)",
                fix: "install libvirt 6.1 or later, or run libvirtd and pass --connect qemu:///system")
        }
        return .passed(name, "libvirt \(version)")
    }

    /// Opens the connection as `mvm compare` does; the manager is kept for
    /// the accelerator check, which asks the same connection.
    private func checkConnection(stateWritable: Bool) async -> (DoctorCheck, DomainManager?) {
        let name = "connection"
        let shown = uri?.text ?? connectURI ?? ""
        guard stateWritable else {
            return (
                .problem(
                    name, "\(shown) not opened: libvirt's log and client files live in the state directory, which mvm cannot use",
                    fix: "make the state directory usable first (see its check)"), nil
            )
        }
        do {
            let manager = try await DomainManager(uri: connectURI, stateDirectory: stateDirectory)
            let versions = manager.versions()
            let served = [versions.libvirt.map { "libvirt \($0)" }, versions.hypervisor.map { "QEMU \($0)" }].compactMap { $0 }
            return (.passed(name, "\(manager.uri) opens" + (served.isEmpty ? "" : ": " + served.joined(separator: ", "))), manager)
        } catch {
            return (.problem(name, error.description, fix: connectionFix(for: error)), nil)
        }
    }

    private func connectionFix(for error: VMMError) -> String {
        guard case .libvirt(let failure) = error, let uri else {
            return "pass a libvirt URI of the form driver[+transport]://[host]/path, e.g. qemu:///system, or leave --connect out"
        }
        if uri.isEmbedded {
            if failure.message.contains("pid file") {
                return "another process (a running mvm?) holds the embedded driver of this state directory: wait for it, or pass another --state-dir"
            }
            return "install libvirt's QEMU driver: apt-get install libvirt-daemon-system (package libvirt-daemon-driver-qemu)"
        }
        if uri.isLocal {
            return "start libvirt's daemon (bash scripts/libvirt-daemons.sh where there is no systemd, else systemctl start libvirtd), "
                + "check the URI, or leave --connect out to use the embedded driver"
        }
        return "check that the host is reachable and runs libvirtd: virsh -c '\(uri.text)' version"
    }

    // MARK: QEMU and the accelerator

    /// The binary the `qemu-direct` row runs, and the machine types mvm's
    /// domains use: `microvm` for the micro-VM, `pc` for `--stock` and
    /// bzImage kernels.
    private func checkQEMU() async -> DoctorCheck {
        let name = "qemu"
        let install = "apt-get install qemu-system-x86"
        guard FileManager.default.isExecutableFile(atPath: emulator) else {
            return .problem(name, "\(emulator) is not installed", fix: install)
        }
        let result = try? await Subprocess.run(
            .path(FilePath(emulator)), arguments: ["-machine", "help"], output: .string(limit: 1 << 20), error: .discarded)
        guard let result, result.terminationStatus.isSuccess else {
            return .problem(name, "\(emulator) -machine help failed", fix: "reinstall QEMU: \(install) --reinstall")
        }
        let machines = Self.machineTypes(machineHelp: result.standardOutput)
        guard machines.contains("microvm") else {
            return .problem(
                name, "\(emulator) lists no microvm machine type: the micro-VM cannot boot",
                fix: "install a QEMU built with microvm (Debian's 7.2 has it): \(install)")
        }
        guard machines.contains("pc") else {
            return DoctorCheck(
                name: name, status: .warn, required: true,
                detail: "\(emulator) lists microvm but no pc machine type: --stock and bzImage kernels cannot boot",
                fix: "install a QEMU with the pc machine: \(install)")
        }
        return .passed(name, "\(emulator) lists the microvm and pc machine types")
    }

    /// The names in `qemu-system-x86_64 -machine help`: the first word of
    /// each line after "Supported machines are:".
    static func machineTypes(machineHelp: String) -> Set<String> {
        let lines = machineHelp.split(separator: "\n").drop { !$0.hasPrefix("Supported machines") }.dropFirst()
        return Set(lines.compactMap { $0.split(separator: " ").first.map(String.init) })
    }

    /// The choice `mvm compare` makes with its default `--accel auto`, on
    /// the same facts: the connection's host, or this machine when the
    /// connection did not open and is local.
    private func checkAccelerator(manager: DomainManager?) -> (DoctorCheck, AcceleratorChoice?) {
        let name = "accelerator"
        let virtualization: HostVirtualization
        if let manager {
            do {
                virtualization = try manager.hostVirtualization()
            } catch {
                return (.problem(name, error.description, fix: "check the connection (above)"), nil)
            }
        } else if uri?.isLocal ?? true {
            virtualization = .probeLocal()
        } else {
            return (
                .problem(
                    name, "not checked: the accelerator is chosen from the remote host's capabilities, and the connection did not open",
                    fix: "fix the connection (above)"), nil
            )
        }
        do {
            let choice = try AcceleratorChoice.choose(.auto, host: virtualization)
            return (.passed(name, "\(choice.accelerator.rawValue): \(choice.reason)"), choice)
        } catch {
            // `auto` falls back to TCG rather than throwing; kept for the typed throw.
            return (.problem(name, error.description, fix: "pass --accel tcg"), nil)
        }
    }

    /// Whether QEMU's user can open /dev/kvm. libvirt runs QEMU as that user
    /// even under TCG, and when it cannot open the device libvirt finds its
    /// capability cache stale on every look-up and re-probes QEMU (tens of
    /// seconds per domain). Under KVM the guest cannot start at all.
    private func checkKVMDevice(chosen: AcceleratorChoice?) -> DoctorCheck {
        let name = "/dev/kvm"
        let usesKVM = chosen?.accelerator == .kvm
        // A remote host's /dev/kvm is out of reach; this one only serves qemu-direct.
        let required = usesKVM && (uri?.isLocal ?? true)
        let grant = "chgrp kvm /dev/kvm && chmod 0660 /dev/kvm, with \(qemuUser) in group kvm (what udev does; scripts/setup.sh does it)"
        var device = stat()
        guard stat("/dev/kvm", &device) == 0 else {
            let problem = Errno(rawValue: errno)
            guard problem == .noSuchFileOrDirectory else {
                return .problem(name, required: required, "cannot look at /dev/kvm: \(problem)", fix: grant)
            }
            return .problem(
                name, required: false, "does not exist: the VMs run under TCG",
                fix: "load kvm_intel or kvm_amd (modprobe), or enable nested virtualization in the hypervisor this host runs on")
        }
        let mode = permissionsDescription(of: "/dev/kvm", device)
        guard let account = UserAccount(named: qemuUser) else {
            return .problem(
                name, required: required, "\(mode); there is no user \(qemuUser) to run QEMU as",
                fix: "apt-get install libvirt-daemon-system (it creates \(qemuUser))")
        }
        guard account.may([.read, .write], device) else {
            let consequence = usesKVM ? "KVM guests cannot start" : "libvirt re-probes QEMU on every look-up (tens of seconds per domain)"
            return .problem(
                name, required: required, "\(mode): \(qemuUser), QEMU's user, cannot open it read-write, so \(consequence)", fix: grant)
        }
        return .passed(name, required: required, "\(mode): \(qemuUser), QEMU's user, can open it read-write")
    }

    // MARK: containers

    /// A runtime as the container launcher finds and checks it.
    private func checkRuntime(_ selection: RuntimeSelection, required: Bool, host: ContainerHost) async -> DoctorCheck {
        let name = selection.description
        let otherwise = required ? "" : "; only --runtime \(selection) needs it, runc is the default"
        do {
            let found = try await ContainerLauncher.checkRuntime(selection, host: host, stateDirectory: stateDirectory)
            guard let version = found.version else {
                return .problem(
                    name, required: required, "\(found.path) does not answer --version", fix: "reinstall it: apt-get install --reinstall \(selection)")
            }
            return .passed(name, required: required, "\(found.path): \(version)")
        } catch {
            switch error {
            case .runtimeNotFound:
                return .problem(name, required: required, "\(selection) is not on PATH" + otherwise, fix: "apt-get install \(selection)")
            case .runtimeUnsupported(let runtime, let reason, let alternative):
                return .problem(
                    name, required: required, "\(runtime) cannot run containers on this host: \(reason)",
                    fix: required ? alternative : "use runc (the default); crun needs a host with cgroup v2 only")
            default:
                return .problem(name, required: required, error.description, fix: "apt-get install --reinstall \(selection)")
            }
        }
    }

    /// The cgroup layout the container spec is written for, and the memory
    /// controller that holds the container's memory limit.
    private func checkCgroups(_ host: ContainerHost) -> DoctorCheck {
        let name = "cgroups"
        let layout: String
        let hasMemoryController: Bool
        switch host.cgroups {
        case .v2:
            layout = "cgroup v2 only"
            hasMemoryController = readSmallFile("/sys/fs/cgroup/cgroup.controllers")?.split(separator: " ").contains {
                $0.trimmingCharacters(in: .whitespacesAndNewlines) == "memory"
            } ?? false
        case .hybrid, .v1:
            layout = host.cgroups == .hybrid ? "hybrid (cgroup v1 controllers, cgroup2 at /sys/fs/cgroup/unified)" : "cgroup v1"
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

    // MARK: images

    /// manifest.json, then each output: present, and with the sha256 the
    /// manifest records. `mvm compare` records the manifest's hashes as the
    /// images it measured, so a file that differs would make that record false.
    private func checkImages() async -> [DoctorCheck] {
        let manifestExists = FileManager.default.fileExists(atPath: images.manifest)
        let recorded = images.manifestHashes()
        let build = "build the images: bash images/build.sh (or set MVM_IMAGES to the directory that holds them)"
        var checks: [DoctorCheck] = []
        if !manifestExists {
            checks.append(.problem("images", "\(images.manifest) does not exist", fix: build))
        } else if recorded.isEmpty {
            checks.append(.problem("images", "\(images.manifest) lists no outputs with a sha256", fix: build))
        } else {
            checks.append(.passed("images", "\(images.directory): manifest.json lists \(recorded.keys.sorted().joined(separator: ", "))"))
        }
        let outputs: [(file: String, path: String, neededBy: String?)] = [
            ("vmlinux", images.minimalVmlinux, nil),
            ("initramfs.cpio", images.initramfs, nil),
            ("rootfs", images.rootfs, nil),
            ("bzImage", images.minimalBzImage, "--machine pc"),
            ("stock-vmlinuz", images.stockKernel, "--stock"),
        ]
        let digests = await onDedicatedThreadTyped { () -> [String: Result<String, SystemFailure>] in
            var digests: [String: Result<String, SystemFailure>] = [:]
            for output in outputs where FileManager.default.fileExists(atPath: output.path) {
                digests[output.file] = Result { () throws(SystemFailure) -> String in
                    output.file == "rootfs" ? try ImageDigest.tree(at: output.path) : try ImageDigest.file(at: output.path)
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

    // MARK: the state directory

    /// Writable (a file of its own created and removed), as compare writes
    /// sockets, bundles and libvirt's root there, and reachable by QEMU's
    /// user. Also returns whether mvm can write there, which libvirt needs
    /// before anything else.
    private func checkStateDirectory() -> (DoctorCheck, writable: Bool) {
        let name = "state directory"
        let path = stateDirectory.path
        let fix = "pass a writable --state-dir (or set MVM_STATE_DIR)"
        guard path.hasPrefix("/") else {
            return (.problem(name, "\(path) is not an absolute path, which libvirt's embedded driver needs", fix: fix), false)
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
                return (.problem(name, "cannot create \(path): \(error.underlying.map(Self.reason) ?? error.action)", fix: fix), false)
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
        if uri?.isLocal ?? true, let account = UserAccount(named: qemuUser), let barrier = account.firstBarrier(toward: path) {
            let check = DoctorCheck.problem(
                name,
                "\(path) is writable, but \(qemuUser), QEMU's user, cannot enter \(barrier.directory) "
                    + "(\(permissionsDescription(of: barrier.directory, barrier.info))), so QEMU cannot reach its files there",
                fix: "chmod a+x \(barrier.directory), or pass a --state-dir QEMU's user can reach")
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
    private func checkOrphans() -> DoctorCheck {
        let name = "orphans"
        let names = GarbageCollector(stateDirectory: stateDirectory).quickScan()
        guard !names.isEmpty else { return .passed(name, required: false, "none in \(stateDirectory.path)") }
        let shown = names.prefix(3).joined(separator: ", ") + (names.count > 3 ? ", …" : "")
        return .problem(
            name, required: false, "\(names.count) instance\(names.count == 1 ? "" : "s") left by an mvm that is gone: \(shown)",
            fix: "mvm gc --state-dir \(stateDirectory.path) removes \(names.count == 1 ? "it" : "them") (--dry-run lists first)")
    }
}

/// A local user, for deciding what a process running as it may open.
struct UserAccount {
    var uid: uid_t
    var groups: [gid_t]

    init?(named name: String) {
        var entry = passwd()
        var buffer = [CChar](repeating: 0, count: 4096)
        var found: UnsafeMutablePointer<passwd>?
        guard getpwnam_r(name, &entry, &buffer, buffer.count, &found) == 0, found != nil else { return nil }
        var memberships = Array(repeating: gid_t(0), count: 256)
        var count = Int32(memberships.count)
        guard getgrouplist(name, entry.pw_gid, &memberships, &count) >= 0 else { return nil }
        uid = entry.pw_uid
        groups = Array(memberships.prefix(Int(count)))
    }

    /// What a process may do with a file or directory.
    struct Access: OptionSet {
        let rawValue: mode_t
        static let read = Access(rawValue: 4)
        static let write = Access(rawValue: 2)
        /// Run a file, or enter a directory.
        static let execute = Access(rawValue: 1)
    }

    /// Whether the permission bits let this user do `access`: the owner's
    /// bits when it owns the file, else the group's when it is in the group,
    /// else the others'. Root may do anything.
    func may(_ access: Access, _ file: stat) -> Bool {
        if uid == 0 { return true }
        let shift: mode_t = file.st_uid == uid ? 6 : groups.contains(file.st_gid) ? 3 : 0
        return (file.st_mode >> shift) & access.rawValue == access.rawValue
    }

    /// The first directory on the way to `path` (itself included) that this
    /// user cannot enter, with its permissions.
    func firstBarrier(toward path: String) -> (directory: String, info: stat)? {
        var directory = ""
        for component in [""] + path.split(separator: "/").map(String.init) {
            directory += component.isEmpty ? "/" : (directory == "/" ? "" : "/") + component
            var info = stat()
            guard stat(directory, &info) == 0 else { return nil }
            if !may(.execute, info) { return (directory, info) }
        }
        return nil
    }
}

/// "0660 root:kvm": a file's permission bits, owner and group.
func permissionsDescription(of path: String, _ info: stat) -> String {
    let attributes = try? FileManager.default.attributesOfItem(atPath: path)
    let owner = attributes?[.ownerAccountName] as? String ?? "\(info.st_uid)"
    let group = attributes?[.groupOwnerAccountName] as? String ?? "\(info.st_gid)"
    return "0" + String(info.st_mode & 0o7777, radix: 8) + " \(owner):\(group)"
}
