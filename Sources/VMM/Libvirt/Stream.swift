import CLibvirt

/// A libvirt data stream (`virStreamPtr`), freed exactly once when the last
/// reference goes away. Used blocking, from one thread at a time.
final class Stream: @unchecked Sendable {
    fileprivate let pointer: virStreamPtr

    fileprivate init(owning pointer: virStreamPtr) {
        self.pointer = pointer
    }

    deinit {
        virStreamFree(pointer)
    }

    /// Blocks until data arrives; returns the count, 0 at the end of the
    /// stream. libvirt errors (a hung-up console) throw.
    func receive(into buffer: UnsafeMutableRawBufferPointer) throws(LibvirtError) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        let count = virStreamRecv(pointer, base.assumingMemoryBound(to: CChar.self), buffer.count)
        guard count >= 0 else { throw .takeLast(context: "reading the guest console stream") }
        return Int(count)
    }
}

extension Connection {
    /// A new blocking stream on this connection.
    func makeStream() throws(LibvirtError) -> Stream {
        guard let raw = virStreamNew(rawPointer, 0) else {
            throw .takeLast(context: "creating a stream on \(uri)")
        }
        return Stream(owning: raw)
    }
}

extension Domain {
    /// Connects `stream` to the domain's first console (a pty serial port),
    /// taking it over from any other client (`VIR_DOMAIN_CONSOLE_FORCE`).
    func openConsole(into stream: Stream) throws(LibvirtError) {
        guard virDomainOpenConsole(rawPointer, nil, stream.pointer, UInt32(VIR_DOMAIN_CONSOLE_FORCE.rawValue)) == 0 else {
            throw .takeLast(context: "opening the console of the domain")
        }
    }

    /// Resident memory of the domain's QEMU process in bytes, as libvirt reads
    /// it on the domain's host (`VIR_DOMAIN_MEMORY_STAT_RSS`): the one memory
    /// figure available for a domain on another machine.
    func residentBytes() throws(LibvirtError) -> UInt64? {
        var stats = [virDomainMemoryStatStruct](
            repeating: virDomainMemoryStatStruct(), count: Int(VIR_DOMAIN_MEMORY_STAT_NR.rawValue))
        let count = virDomainMemoryStats(rawPointer, &stats, UInt32(stats.count), 0)
        guard count >= 0 else { throw .takeLast(context: "reading the domain's memory statistics") }
        return stats.prefix(Int(count)).first { $0.tag == Int32(VIR_DOMAIN_MEMORY_STAT_RSS.rawValue) }.map { $0.val * 1024 }
    }
}
