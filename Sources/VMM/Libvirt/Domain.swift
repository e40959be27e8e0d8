import CLibvirt

#if canImport(Glibc)
    import Glibc
#endif

/// A libvirt domain handle (`virDomainPtr`), freed exactly once when the
/// last reference goes away. Freeing the handle does not stop the domain.
final class Domain: @unchecked Sendable {
    private let pointer: virDomainPtr

    /// Takes ownership of a handle libvirt returned.
    init(owning pointer: virDomainPtr) {
        self.pointer = pointer
    }

    deinit {
        virDomainFree(pointer)
    }

    func name() throws(LibvirtError) -> String {
        guard let raw = virDomainGetName(pointer) else {
            throw .takeLast(context: "reading domain name")
        }
        // Owned by the domain object: copy, do not free.
        return String(cString: raw)
    }

    /// True while the domain runs (or is paused); false once defined only.
    func isActive() throws(LibvirtError) -> Bool {
        let active = virDomainIsActive(pointer)
        guard active >= 0 else { throw .takeLast(context: "asking whether the domain runs") }
        return active == 1
    }

    /// Resumes a domain started paused.
    func resume() throws(LibvirtError) {
        guard virDomainResume(pointer) == 0 else {
            throw .takeLast(context: "resuming domain")
        }
    }

    /// Connects `stream` to the domain's first console (a pty serial port).
    /// `takeOver` takes it from any other client (`VIR_DOMAIN_CONSOLE_FORCE`);
    /// otherwise libvirt refuses while another client has it.
    func openConsole(into stream: Stream, takeOver: Bool = true) throws(LibvirtError) {
        let flags = takeOver ? UInt32(VIR_DOMAIN_CONSOLE_FORCE.rawValue) : 0
        guard virDomainOpenConsole(pointer, nil, stream.rawPointer, flags) == 0 else {
            throw .takeLast(context: "opening the console of the domain")
        }
    }

    /// Resident memory of the domain's QEMU process in bytes, as libvirt reads
    /// it on the domain's host (`VIR_DOMAIN_MEMORY_STAT_RSS`): the one memory
    /// figure available for a domain on another machine.
    func residentBytes() throws(LibvirtError) -> UInt64? {
        var stats = [virDomainMemoryStatStruct](
            repeating: virDomainMemoryStatStruct(), count: Int(VIR_DOMAIN_MEMORY_STAT_NR.rawValue))
        let count = virDomainMemoryStats(pointer, &stats, UInt32(stats.count), 0)
        guard count >= 0 else { throw .takeLast(context: "reading the domain's memory statistics") }
        return stats.prefix(Int(count)).first { $0.tag == Int32(VIR_DOMAIN_MEMORY_STAT_RSS.rawValue) }.map {
            $0.val * 1024
        }
    }

    /// The live domain XML (`virDomainGetXMLDesc`, no flags): what libvirt
    /// and QEMU actually set up, with the defaults they filled in (machine
    /// type version, implicit controllers), not the XML mvm asked for.
    func liveXML() throws(LibvirtError) -> String {
        guard let raw = virDomainGetXMLDesc(pointer, 0) else {
            throw .takeLast(context: "reading the live XML of the domain")
        }
        defer { free(raw) }
        return String(cString: raw)
    }

    /// Runs a human monitor (HMP) command in the domain's QEMU
    /// (`virDomainQemuMonitorCommand`) and returns what QEMU printed. libvirt
    /// marks the domain "tainted: custom-monitor" in its log, since a
    /// command could change QEMU behind libvirt's back: use read-only
    /// commands (`info ...`) only.
    func humanMonitorCommand(_ command: String) throws(LibvirtError) -> String {
        var result: UnsafeMutablePointer<CChar>?
        let status = virDomainQemuMonitorCommand(
            pointer, command, &result, UInt32(VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP.rawValue))
        guard status == 0 else {
            throw .takeLast(context: "running the QEMU monitor command '\(command)'")
        }
        // Allocated by libvirt for the caller: freed here, once.
        guard let result else { return "" }
        defer { free(result) }
        return String(cString: result)
    }

    /// Stops the domain at once, like pulling the plug (`virDomainDestroy`).
    /// A domain that already stopped counts as destroyed.
    func destroy() throws(LibvirtError) {
        guard virDomainDestroy(pointer) == 0 else {
            let error = LibvirtError.takeLast(context: "destroying domain")
            if error.isNoDomain || error.isOperationInvalid { return }
            throw error
        }
    }
}
