import CLibvirt

/// An error reported by libvirt, with what mvm was doing when it happened.
public struct LibvirtError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What mvm was doing ("starting domain mvm-1a2b").
    public var context: String
    /// libvirt's own message, or a fallback when libvirt set none.
    public var message: String
    /// libvirt's `virErrorNumber` (`VIR_ERR_*`).
    public var code: Int32
    /// libvirt's `virErrorDomain` (`VIR_FROM_*`): the part of libvirt that failed.
    public var origin: Int32

    public var description: String { "\(context): \(message)" }

    /// libvirt reports that the domain does not exist (any more).
    public var isNoDomain: Bool { code == Int32(VIR_ERR_NO_DOMAIN.rawValue) }
    /// libvirt refuses the operation in the object's current state
    /// (for example destroying a domain that already stopped).
    public var isOperationInvalid: Bool { code == Int32(VIR_ERR_OPERATION_INVALID.rawValue) }
    /// libvirt tried and failed (for example: another client has the
    /// domain's console).
    public var isOperationFailed: Bool { code == Int32(VIR_ERR_OPERATION_FAILED.rawValue) }

    /// Takes libvirt's last error of this thread and resets it. Must be called
    /// right after the failing call, on the same thread: libvirt keeps the
    /// last error per thread.
    static func takeLast(context: String) -> LibvirtError {
        defer { virResetLastError() }
        guard let raw = virGetLastError() else {
            return LibvirtError(
                context: context, message: "libvirt reported a failure without an error message",
                code: 0, origin: 0)
        }
        let message = raw.pointee.message.map { String(cString: $0) } ?? "unknown libvirt error"
        return LibvirtError(
            context: context, message: message, code: raw.pointee.code, origin: raw.pointee.domain)
    }
}
