import ContainerShim
import Foundation
import MVMCore
import Subprocess
import SystemPackage
import VMM

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
    /// driver as much as for the daemon, when mvm runs as root; mvm's own
    /// user for a non-root embedded driver or session daemon.
    public var qemuUser: String
    /// The binary the `qemu-direct` row starts.
    public var emulator = DirectQEMULauncher.defaultEmulator

    public init(stateDirectory: StateDirectory, connectURI: String? = nil, images: ImageSet = .defaultLocation()) {
        self.stateDirectory = stateDirectory
        self.connectURI = connectURI
        self.images = images
        qemuUser = LibvirtURI.rootQEMUUser
        if geteuid() != 0, let uri, uri.isEmbedded || uri.path == "/session",
            let account = getpwuid(geteuid())
        {
            qemuUser = String(cString: account.pointee.pw_name)
        }
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
        let rootless = checkRootless(containerHost).map { [$0] } ?? []
        let images = await checkImages()
        let ladder = await checkLadder(containerHost)
        let orphans = checkOrphans()
        return DoctorReport(
            checks: [library, connection, qemu, accelerator, kvm, runc, crun, cgroups] + rootless + ladder + images + [
                checkImageTools(), state, orphans,
            ])
    }

    var uri: LibvirtURI? {
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
            return .problem(
                name, error.description, fix: "install libvirt: apt-get install libvirt0 libvirt-daemon-system")
        }
        // libvirt's docs (drvqemu.rst, "Embedded driver"): since 6.1.0.
        let parts = version.split(separator: ".").compactMap { Int($0) }
        if uri?.isEmbedded == true, parts.lexicographicallyPrecedes([6, 1]) {
            return .problem(
                name, "libvirt \(version) has no embedded QEMU driver (it came with 6.1.0)",
                fix: "install libvirt 6.1 or later, or run libvirtd and connect to qemu:///system")
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
                    name,
                    "\(shown) not opened: libvirt's log and client files live in the state directory, which mvm cannot use",
                    fix: "make the state directory usable first (see its check)"), nil
            )
        }
        do {
            let manager = try await DomainManager(uri: connectURI, stateDirectory: stateDirectory)
            let versions = manager.versions()
            let served = [versions.libvirt.map { "libvirt \($0)" }, versions.hypervisor.map { "QEMU \($0)" }].compactMap
            { $0 }
            return (
                .passed(name, "\(manager.uri) opens" + (served.isEmpty ? "" : ": " + served.joined(separator: ", "))),
                manager
            )
        } catch {
            return (.problem(name, error.description, fix: connectionFix(for: error)), nil)
        }
    }

    private func connectionFix(for error: VMMError) -> String {
        guard case .libvirt(let failure) = error, let uri else {
            return
                "pass a libvirt URI of the form driver[+transport]://[host]/path, e.g. qemu:///system, or use the default embedded driver"
        }
        if uri.isEmbedded {
            if failure.message.contains("pid file") {
                return
                    "another process (a running mvm?) holds the embedded driver of this state directory: wait for it, or use another state directory"
            }
            return
                "install libvirt's QEMU driver: apt-get install libvirt-daemon-system (package libvirt-daemon-driver-qemu)"
        }
        if uri.isLocal {
            return
                "start libvirt's daemon (bash scripts/libvirt-daemons.sh where there is no systemd, else systemctl start libvirtd), "
                + "check the URI, or use the default embedded driver"
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
            .path(FilePath(emulator)), arguments: ["-machine", "help"], output: .string(limit: 1 << 20),
            error: .discarded)
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
                detail:
                    "\(emulator) lists microvm but no pc machine type: the stock VM and bzImage kernels cannot boot",
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
                    name,
                    "not checked: the accelerator is chosen from the remote host's capabilities, and the connection did not open",
                    fix: "fix the connection (above)"), nil
            )
        }
        do {
            let choice = try AcceleratorChoice.choose(.auto, host: virtualization)
            return (.passed(name, "\(choice.accelerator.rawValue): \(choice.reason)"), choice)
        } catch {
            // `auto` falls back to TCG rather than throwing; kept for the typed throw.
            return (.problem(name, error.description, fix: "use the tcg accelerator"), nil)
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
        let grant =
            "chgrp kvm /dev/kvm && chmod 0660 /dev/kvm, with \(qemuUser) in group kvm (what udev does; scripts/setup.sh does it)"
        var device = stat()
        guard stat("/dev/kvm", &device) == 0 else {
            let problem = Errno(rawValue: errno)
            guard problem == .noSuchFileOrDirectory else {
                return .problem(name, required: required, "cannot look at /dev/kvm: \(problem)", fix: grant)
            }
            return .problem(
                name, required: false, "does not exist: the VMs run under TCG",
                fix:
                    "load kvm_intel or kvm_amd (modprobe), or enable nested virtualization in the hypervisor this host runs on"
            )
        }
        let mode = permissionsDescription(of: "/dev/kvm", device)
        guard let account = UserAccount(named: qemuUser) else {
            return .problem(
                name, required: required, "\(mode); there is no user \(qemuUser) to run QEMU as",
                fix: "apt-get install libvirt-daemon-system (it creates \(qemuUser))")
        }
        guard account.may([.read, .write], device) else {
            // QEMU running as mvm's own (non-root) user: the accelerator
            // check chose TCG for that reason already.
            let runsAsSelf = geteuid() != 0 && account.uid == geteuid()
            let consequence =
                usesKVM
                ? "KVM guests cannot start"
                : runsAsSelf
                    ? "the VMs run under TCG" : "libvirt re-probes QEMU on every look-up (tens of seconds per domain)"
            return .problem(
                name, required: required,
                "\(mode): \(qemuUser), QEMU's user, cannot open it read-write, so \(consequence)",
                fix: runsAsSelf ? "as root: usermod -aG kvm \(qemuUser), then log in again" : grant)
        }
        return .passed(name, required: required, "\(mode): \(qemuUser), QEMU's user, can open it read-write")
    }
}
