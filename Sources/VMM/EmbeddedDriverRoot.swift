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

    /// Creates the root and its etc/qemu.conf (rewritten only when it differs).
    func prepare() throws(VMMError) {
        let etc = path + "/etc"
        let file = etc + "/qemu.conf"
        do {
            try FileManager.default.createDirectory(atPath: etc, withIntermediateDirectories: true)
            if readSmallFile(file) != Self.qemuConfiguration {
                try Self.qemuConfiguration.write(toFile: file, atomically: true, encoding: .utf8)
            }
        } catch {
            throw .system(SystemFailure("cannot prepare libvirt's embedded root \(path)", underlying: error, advice: "pass a writable --state-dir"))
        }
    }
}
