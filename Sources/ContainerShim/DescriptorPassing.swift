import MVMCore
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Why no single descriptor came from `receiveDescriptor`.
enum DescriptorPassingFailure: Error, Equatable, CustomStringConvertible {
    /// recvmsg(2) failed.
    case system(Errno)
    /// The peer closed the connection without sending anything.
    case endOfStream
    /// A message came with no descriptor in it.
    case noDescriptor
    /// More than one descriptor came (all of them were closed).
    case tooMany(Int)
    /// The kernel cut the control data short (MSG_CTRUNC): descriptors were lost.
    case truncated

    var description: String {
        switch self {
        case .system(let code): "recvmsg failed: \(code)"
        case .endOfStream: "the connection closed before a descriptor came"
        case .noDescriptor: "a message came without a descriptor"
        case .tooMany(let count): "\(count) descriptors came instead of one"
        case .truncated: "the descriptors did not fit the control buffer"
        }
    }
}

/// Receives one descriptor sent with SCM_RIGHTS, and the bytes sent in the
/// same message (runc sends the pty's name there: libcontainer/utils/cmsg.go
/// `SendFd`). The descriptor is close-on-exec from the start
/// (MSG_CMSG_CLOEXEC), so no runtime mvm starts meanwhile inherits it: a
/// stray copy of a pty master would keep the terminal open after mvm let go.
/// Blocking: poll first.
func receiveDescriptor(on socket: FileDescriptor) throws(DescriptorPassingFailure) -> (
    descriptor: FileDescriptor, payload: [UInt8]
) {
    // Room for a few descriptors, so that a peer that sends more is noticed
    // (and what it sent is closed) instead of the kernel dropping the rest.
    let room = 4
    let capacity = controlSpace(forDescriptors: room)
    let control = UnsafeMutableRawBufferPointer.allocate(
        byteCount: capacity, alignment: MemoryLayout<cmsghdr>.alignment)
    defer { control.deallocate() }
    control.initializeMemory(as: UInt8.self, repeating: 0)
    // runc's names are at most 4096 bytes (MaxNameLen in cmsg.go).
    var payload = [UInt8](repeating: 0, count: 4096)
    var controlLength = 0
    var flags: Int32 = 0
    var code: Int32 = 0
    let count = payload.withUnsafeMutableBytes { bytes -> Int in
        var vector = iovec(iov_base: bytes.baseAddress, iov_len: bytes.count)
        return withUnsafeMutablePointer(to: &vector) { vectorPointer -> Int in
            var message = msghdr()
            message.msg_iov = vectorPointer
            message.msg_iovlen = 1
            message.msg_control = control.baseAddress
            message.msg_controllen = capacity
            while true {
                let result = recvmsg(socket.rawValue, &message, Int32(MSG_CMSG_CLOEXEC))
                if result < 0 && errno == EINTR { continue }
                code = result < 0 ? errno : 0
                controlLength = message.msg_controllen
                flags = message.msg_flags
                return result
            }
        }
    }
    if count < 0 { throw .system(Errno(rawValue: code)) }
    let descriptors = rightsDescriptors(in: UnsafeRawBufferPointer(rebasing: control[0..<min(controlLength, capacity)]))
    if flags & Int32(MSG_CTRUNC) != 0 {
        closeAll(descriptors)
        throw .truncated
    }
    guard descriptors.count <= 1 else {
        closeAll(descriptors)
        throw .tooMany(descriptors.count)
    }
    guard let descriptor = descriptors.first else {
        throw count == 0 ? .endOfStream : .noDescriptor
    }
    return (FileDescriptor(rawValue: descriptor), Array(payload[0..<count]))
}

/// CMSG_SPACE for `count` descriptors: the header and the data, each
/// padded to the alignment of `size_t` (bits/socket.h's CMSG_ALIGN).
func controlSpace(forDescriptors count: Int) -> Int {
    controlAlign(MemoryLayout<cmsghdr>.size) + controlAlign(count * MemoryLayout<Int32>.size)
}

private func controlAlign(_ length: Int) -> Int {
    let unit = MemoryLayout<Int>.size
    return (length + unit - 1) & ~(unit - 1)
}

/// The descriptors of every SCM_RIGHTS message in `control` (what
/// CMSG_FIRSTHDR and CMSG_NXTHDR walk, which Swift cannot import: they
/// are macros).
private func rightsDescriptors(in control: UnsafeRawBufferPointer) -> [Int32] {
    let headerSize = controlAlign(MemoryLayout<cmsghdr>.size)
    var descriptors: [Int32] = []
    var offset = 0
    while offset + MemoryLayout<cmsghdr>.size <= control.count {
        let header = control.loadUnaligned(fromByteOffset: offset, as: cmsghdr.self)
        let length = Int(header.cmsg_len)
        guard length >= headerSize, offset + length <= control.count else { break }
        if header.cmsg_level == SOL_SOCKET && header.cmsg_type == Int32(SCM_RIGHTS) {
            let count = (length - headerSize) / MemoryLayout<Int32>.size
            for index in 0..<count {
                descriptors.append(
                    control.loadUnaligned(
                        fromByteOffset: offset + headerSize + index * MemoryLayout<Int32>.size, as: Int32.self))
            }
        }
        offset += controlAlign(length)
    }
    return descriptors
}

private func closeAll(_ descriptors: [Int32]) {
    for descriptor in descriptors { try? FileDescriptor(rawValue: descriptor).close() }
}
