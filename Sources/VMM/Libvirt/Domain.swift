import CLibvirt

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

    /// Resumes a domain started paused.
    func resume() throws(LibvirtError) {
        guard virDomainResume(pointer) == 0 else {
            throw .takeLast(context: "resuming domain")
        }
    }

    /// Connects `stream` to the domain's first console (a pty serial port),
    /// taking it over from any other client (`VIR_DOMAIN_CONSOLE_FORCE`).
    func openConsole(into stream: Stream) throws(LibvirtError) {
        guard virDomainOpenConsole(pointer, nil, stream.rawPointer, UInt32(VIR_DOMAIN_CONSOLE_FORCE.rawValue)) == 0 else {
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
        return stats.prefix(Int(count)).first { $0.tag == Int32(VIR_DOMAIN_MEMORY_STAT_RSS.rawValue) }.map { $0.val * 1024 }
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
