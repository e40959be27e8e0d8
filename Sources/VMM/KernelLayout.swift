import Foundation

/// Where a kernel image puts itself in the guest's physical memory, read
/// from its headers: the highest address it occupies once loaded. A guest
/// given less memory than that cannot boot, and does not say so: under
/// microvm a vmlinux loaded past the end of RAM runs zeros, silently, until
/// mvm's timeout (measured: 16 MiB for a kernel that loads at 16 MiB).
struct KernelLayout: Equatable {
    /// The lowest and the highest guest-physical address the kernel occupies.
    var start: UInt64
    var end: UInt64

    /// Reads an ELF vmlinux (its PT_LOAD segments' physical addresses and
    /// memory sizes) or a bzImage (the setup header's pref_address and
    /// init_size, boot protocol 2.10 and later); nil for anything else.
    static func read(path: String) -> KernelLayout? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 4096), head.count >= 64 else { return nil }
        let bytes = [UInt8](head)
        if bytes.starts(with: [0x7F, 0x45, 0x4C, 0x46]) { return elf(bytes, handle: handle) }
        return bzImage(bytes)
    }

    private static func elf(_ head: [UInt8], handle: FileHandle) -> KernelLayout? {
        // ELF64, little-endian (x86-64): class 2, data 1.
        guard head[4] == 2, head[5] == 1 else { return nil }
        let tableOffset = little(head, at: 0x20, size: 8)
        let entrySize = little(head, at: 0x36, size: 2)
        let count = little(head, at: 0x38, size: 2)
        guard entrySize >= 0x30, count > 0, count < 256 else { return nil }
        guard (try? handle.seek(toOffset: tableOffset)) != nil,
            let table = try? handle.read(upToCount: Int(entrySize * count)), table.count == Int(entrySize * count)
        else { return nil }
        let entries = [UInt8](table)
        var start = UInt64.max
        var end: UInt64 = 0
        for index in 0..<Int(count) {
            let base = index * Int(entrySize)
            guard little(entries, at: base, size: 4) == 1 else { continue }  // PT_LOAD
            let address = little(entries, at: base + 0x18, size: 8)
            let (segmentEnd, overflow) = address.addingReportingOverflow(little(entries, at: base + 0x28, size: 8))
            guard !overflow else { return nil }
            start = min(start, address)
            end = max(end, segmentEnd)
        }
        return end > 0 ? KernelLayout(start: start, end: end) : nil
    }

    private static func bzImage(_ head: [UInt8]) -> KernelLayout? {
        // "HdrS" at 0x202, the boot protocol version at 0x206.
        guard head.count >= 0x264, Array(head[0x202..<0x206]) == Array("HdrS".utf8),
            little(head, at: 0x206, size: 2) >= 0x020A
        else { return nil }
        let preferred = little(head, at: 0x258, size: 8)
        let (end, overflow) = preferred.addingReportingOverflow(little(head, at: 0x260, size: 4))
        return overflow ? nil : KernelLayout(start: preferred, end: end)
    }

    private static func little(_ bytes: [UInt8], at offset: Int, size: Int) -> UInt64 {
        guard offset >= 0, offset + size <= bytes.count else { return 0 }
        var value: UInt64 = 0
        for index in (0..<size).reversed() { value = value << 8 | UInt64(bytes[offset + index]) }
        return value
    }
}
