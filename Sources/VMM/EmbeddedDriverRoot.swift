import Foundation
import MVMCore

/// The root directory of libvirt's embedded QEMU driver
/// (`qemu:///embed?root=DIR`): libvirt keeps its etc/, run/, log/, cache/ and
/// lib/ there, and reads etc/qemu.conf from it.
struct EmbeddedDriverRoot {
    let path: String

    init(stateDirectory: StateDirectory) {
        path = stateDirectory.subdirectory("libvirt")
    }

    var uri: LibvirtURI { .embedded(root: path) }

    /// What mvm needs in the driver's qemu.conf. Without a daemon there is no
    /// virtlogd, so QEMU's stdout/stderr go to a plain log file instead.
    /// No relabelling of images: mvm makes them readable by QEMU's user
    /// itself (ImageStaging), and relabelling would stamp them with xattrs
    /// that libvirtd (qemu:///system) then finds stale, with warnings that
    /// libvirt prints on stderr.
    static let qemuConfiguration = """
        # Written by mvm: the embedded driver runs without libvirt's daemons.
        stdio_handler = "file"
        dynamic_ownership = 0
        remember_owner = 0

        """

    /// mvm's qemu.conf plus, for benchmarks that measure what a setting
    /// costs (scripts/bench.sh: namespaces, cgroup controllers, the seccomp
    /// sandbox), the lines of `MVM_EMBEDDED_QEMU_CONF_EXTRA` ("\n" separated).
    static func qemuConfiguration(environment: [String: String]) -> String {
        guard let extra = environment["MVM_EMBEDDED_QEMU_CONF_EXTRA"], !extra.isEmpty else { return qemuConfiguration }
        return qemuConfiguration + "# From MVM_EMBEDDED_QEMU_CONF_EXTRA:\n"
            + extra.replacingOccurrences(of: "\\n", with: "\n") + "\n"
    }

    /// The longest monitor socket libvirt makes under the root,
    /// `lib/qemu/domain-<id>-<name>/monitor.sock`, with a 4-digit domain id.
    static let monitorSocketSuffix = "/lib/qemu/domain-9999-mvm-12345678/monitor.sock"
    /// sun_path holds 108 bytes with its terminating NUL.
    static let socketPathLimit = 107

    /// Creates the root and its etc/qemu.conf (rewritten only when it differs).
    /// A root so deep that QEMU's monitor socket would not fit in a UNIX
    /// socket address is refused here, in words, rather than by libvirt at
    /// the first domain.
    func prepare() throws(VMMError) {
        let longest = path.utf8.count + Self.monitorSocketSuffix.utf8.count
        guard longest <= Self.socketPathLimit else {
            let room = Self.socketPathLimit - Self.monitorSocketSuffix.utf8.count - "/libvirt".utf8.count
            throw .invalidConfiguration(
                "the state directory \(URL(fileURLWithPath: path).deletingLastPathComponent().path) is too long for libvirt's embedded driver "
                    + "(its QEMU monitor socket path would pass the 107-byte limit of UNIX sockets): use one of at most \(room) characters"
            )
        }
        try checkQEMUUserCanEnter()
        let etc = path + "/etc"
        let file = etc + "/qemu.conf"
        let configuration = Self.qemuConfiguration(environment: ProcessInfo.processInfo.environment)
        do {
            try FileManager.default.createDirectory(atPath: etc, withIntermediateDirectories: true)
            if readSmallFile(file) != configuration {
                try configuration.write(toFile: file, atomically: true, encoding: .utf8)
            }
        } catch {
            throw .system(
                SystemFailure(
                    "cannot prepare libvirt's embedded root \(path)", underlying: error,
                    advice: "use a writable state directory with free space"))
        }
    }

    /// QEMU reads its domain's files under the root (the master key, the
    /// console socket): a directory on the way that QEMU's user cannot enter
    /// would fail every boot with a long "Permission denied" from QEMU, so
    /// it is refused here in one line.
    private func checkQEMUUserCanEnter() throws(VMMError) {
        guard geteuid() == 0, let account = UserAccount(named: LibvirtURI.rootQEMUUser) else { return }
        var nearest = path
        while !FileManager.default.fileExists(atPath: nearest), nearest != "/" {
            nearest = URL(fileURLWithPath: nearest).deletingLastPathComponent().path
        }
        guard let barrier = account.firstBarrier(toward: nearest) else { return }
        throw .invalidConfiguration(
            "\(LibvirtURI.rootQEMUUser), QEMU's user, cannot enter \(barrier.directory) (\(permissionsDescription(of: barrier.directory, barrier.info))), "
                + "on the way to the state directory where QEMU reads its files: chmod a+x \(barrier.directory), or use a state directory it can reach"
        )
    }
}
