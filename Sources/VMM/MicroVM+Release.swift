import Foundation
import MVMCore

extension MicroVM {
    /// The domain as libvirt knows it, its QEMU process and cgroups when it
    /// runs here, mvm's console socket and log, the files libvirt keeps per
    /// running domain (pid file, status XML, private directory with the
    /// monitor socket) and the embedded driver's QEMU log, which mvm removes.
    public func releaseProbe() -> ReleaseProbe {
        var resources: [HostResource] = []
        if let qemuPID {
            if let process = HostResource.process(pid: qemuPID, description: "QEMU pid \(qemuPID)") {
                resources.append(process)
            }
            // Where libvirt put QEMU: machine/qemu-embed-...-NAME.libvirt-qemu
            // under the embedded driver, machine.slice/machine-qemu\x2d...
            // under systemd; the hierarchies where QEMU stayed in mvm's (or
            // the daemon's) cgroup are not the domain's.
            for directory in CgroupMembership.instanceDirectories(of: qemuPID, named: name) {
                resources.append(.path(directory, kind: .cgroup, description: directory))
            }
        }
        resources.append(domainResource())
        if case .unixSocket(let path) = description.console,
            let socket = HostResource.existingPath(path, kind: .socket, description: "console socket \(path)")
        {
            resources.append(socket)
        }
        if let path = description.consoleLogPath,
            let log = HostResource.existingPath(path, kind: .file, description: "console log \(path)")
        {
            resources.append(log)
        }
        resources += libvirtFiles()
        if let owner = teardown.ownerRecordResource() { resources.append(owner) }
        return ReleaseProbe(resources)
    }

    /// Held while libvirt still finds the domain by its name. mvm's domains
    /// are transient: a destroyed one is undefined at once. Any failure but
    /// "no such domain" (a lost connection) counts as held, since it proves
    /// nothing about the domain. libvirt locks a domain while it destroys it
    /// (1.6 s here, measured: QEMU's reaping by the host's init, then
    /// libvirt's 200 ms polls), and a look-up waits that long: a slow
    /// check, which says "held" while the look-up has not answered.
    private func domainResource() -> HostResource {
        let connection = domainTeardown.connection
        let name = self.name
        return HostResource.slowCheck(kind: .domain, description: "libvirt domain \(name) on \(uri)") {
            do throws(LibvirtError) {
                _ = try connection.lookupDomain(name: name)
                return true
            } catch {
                return !error.isNoDomain
            }
        }
    }

    /// The files libvirt's QEMU driver and mvm keep for the running domain
    /// on this machine, those that exist now.
    private func libvirtFiles() -> [HostResource] {
        guard uri.isLocal else { return [] }
        var resources: [HostResource] = []
        if let run = uri.qemuRunDirectory() {
            for (suffix, what) in [(".pid", "pid file"), (".xml", "status XML")] {
                let path = run + "/" + name + suffix
                if let file = HostResource.existingPath(path, kind: .file, description: "libvirt \(what) \(path)") {
                    resources.append(file)
                }
            }
        }
        // domain-<id>-<name>: the monitor socket and the master key.
        if let library = qemuLibraryDirectory(),
            let entries = try? FileManager.default.contentsOfDirectory(atPath: library)
        {
            for entry in entries.sorted() where entry.hasPrefix("domain-") && entry.hasSuffix("-" + name) {
                let path = library + "/" + entry
                resources.append(.path(path, kind: .directory, description: "libvirt private directory \(path)"))
            }
        }
        if let path = uri.embeddedQEMULogPath(domain: name),
            let log = HostResource.existingPath(path, kind: .file, description: "QEMU log \(path)")
        {
            resources.append(log)
        }
        return resources
    }

    /// libvirt's QEMU state directory (`cfg->libDir`), for local URIs.
    private func qemuLibraryDirectory() -> String? {
        if let root = uri.embeddedRoot { return root + "/lib/qemu" }
        guard uri.driver == "qemu", uri.path == "/system" else { return nil }
        return "/var/lib/libvirt/qemu"
    }
}
