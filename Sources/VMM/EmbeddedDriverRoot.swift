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
            throw .system("cannot prepare libvirt's embedded root \(path): \(error.localizedDescription); pass a writable --state-dir")
        }
    }
}

extension Connection {
    /// Opens `uri`, or the embedded driver under the state directory when it
    /// is nil, off Swift's cooperative threads (the first connection to a new
    /// embedded root probes QEMU for seconds). Creates the state directory,
    /// which also holds libvirt's client log.
    static func open(uri: String?, stateDirectory: StateDirectory) async throws(VMMError) -> Connection {
        do {
            try FileManager.default.createDirectory(atPath: stateDirectory.path, withIntermediateDirectories: true)
        } catch {
            throw .system("cannot create state directory \(stateDirectory.path): \(error.localizedDescription); pass a writable --state-dir")
        }
        if uri == nil { try EmbeddedDriverRoot(stateDirectory: stateDirectory).prepare() }
        let resolved = uri.map { routedThroughDaemon($0) } ?? MicroVMConfiguration.embeddedURI(stateDirectory: stateDirectory)
        let logFile = stateDirectory.subdirectory("libvirt-client.log")
        do {
            return try await onDedicatedThreadTyped { () throws(LibvirtError) in
                try Connection(uri: resolved, logFile: logFile)
            }
        } catch {
            throw .libvirt(error)
        }
    }
}

/// Once a process has opened the embedded QEMU driver, libvirt hands it every
/// later `qemu:///...` URI (which then asks for `root`), and its remote driver
/// declines local URIs that name no socket. Naming the UNIX transport and the
/// daemon's socket sends `qemu:///system` and `qemu:///session` to the daemon,
/// as they go in a process that never embedded the driver. Other URIs, and
/// ones that already name a socket, are left alone.
func routedThroughDaemon(
    _ uri: String,
    runtimeDirectory: String = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"] ?? "/run/user/\(getuid())",
    socketExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }
) -> String {
    for scheme in ["qemu:///", "qemu+unix:///"] {
        guard uri.hasPrefix(scheme) else { continue }
        let rest = uri.dropFirst(scheme.count)
        let path = rest.prefix { $0 != "?" }
        let query = rest.dropFirst(path.count).dropFirst()
        guard path == "system" || path == "session", !query.contains("socket=") else { return uri }
        // libvirtd's socket, or virtqemud's where the modular daemons run.
        let directory = path == "system" ? "/run/libvirt" : runtimeDirectory + "/libvirt"
        let modular = directory + "/virtqemud-sock"
        let socket = socketExists(modular) ? modular : directory + "/libvirt-sock"
        let parameters = (query.isEmpty ? "" : query + "&") + "socket=" + socket
        return "qemu+unix:///\(path)?\(parameters)"
    }
    return uri
}
