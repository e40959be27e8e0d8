import CLibvirt

/// A libvirt domain handle (`virDomainPtr`), freed exactly once when the
/// last reference goes away. Freeing the handle does not stop the domain.
final class Domain: @unchecked Sendable {
    private let pointer: virDomainPtr

    /// For the other wrappers of this layer (streams); never leaves it.
    var rawPointer: virDomainPtr { pointer }

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
