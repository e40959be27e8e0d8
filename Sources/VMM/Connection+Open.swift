import Foundation
import MVMCore

extension Connection {
    /// Opens `uri`, or the embedded driver under the state directory when it
    /// is nil, off Swift's cooperative threads (the first connection to a new
    /// embedded root probes QEMU for seconds). Creates the state directory,
    /// which also holds libvirt's client log.
    static func open(uri: LibvirtURI?, stateDirectory: StateDirectory) async throws(VMMError) -> Connection {
        do throws(SystemFailure) { try stateDirectory.ensureExists() } catch { throw .system(error) }
        let resolved: LibvirtURI
        if let uri {
            resolved = uri.routedThroughDaemon()
        } else {
            let root = EmbeddedDriverRoot(stateDirectory: stateDirectory)
            try root.prepare()
            resolved = root.uri
        }
        let logFile = clientLogFile(in: stateDirectory)
        do {
            return try await onDedicatedThreadTyped { () throws(LibvirtError) in
                try Connection(uri: resolved, logFile: logFile)
            }
        } catch {
            if let root = resolved.embeddedRoot, error.message.contains("acquire pid file") {
                throw .system(embeddedDriverBusy(root: root))
            }
            throw .libvirt(error)
        }
    }

    /// libvirt lets one process at a time use an embedded driver's root:
    /// a second mvm on the same state directory is told who holds it.
    private static func embeddedDriverBusy(root: String) -> SystemFailure {
        let holder = readSmallFile(root + "/run/qemu/driver.pid")?.trimmingCharacters(in: .whitespacesAndNewlines)
        let who =
            holder.flatMap { pid in
                readSmallFile("/proc/\(pid)/comm").map {
                    "\($0.trimmingCharacters(in: .whitespacesAndNewlines)) (pid \(pid))"
                }
            } ?? "another process"
        return SystemFailure(
            "the embedded libvirt driver at \(root) is in use by \(who)",
            advice: "wait until it is done, or give this run its own state directory (or use qemu:///system)")
    }

    /// Where libvirt's own log messages go (see `LibvirtRuntime.ensureReady`).
    static func clientLogFile(in stateDirectory: StateDirectory) -> String {
        stateDirectory.subdirectory("libvirt-client.log")
    }

    /// What the connection's host offers for KVM: this machine's /dev/kvm
    /// and CPU flags for a local URI, libvirt's capabilities for a remote
    /// one (its /dev/kvm is out of reach).
    func hostVirtualization() throws(LibvirtError) -> HostVirtualization {
        uri.isLocal ? .probeLocal() : .probe(capabilitiesXML: try capabilitiesXML())
    }
}
