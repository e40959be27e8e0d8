import Foundation

/// A newc cpio archive of directories and device nodes, which need no file
/// on disk: what the micro-VM's initramfs gets after the image's tree, so
/// that the kernel finds /dev/console for init's stdio without mvm making
/// a device node (an ordinary user cannot).
struct NewcArchive {
    private(set) var bytes: [UInt8] = []
    private var inode: UInt32 = 1
    let mtime: UInt32

    init(mtime: UInt32) {
        self.mtime = mtime
    }

    mutating func directory(_ name: String, mode: UInt32 = 0o755) {
        entry(name, mode: 0o040000 | mode, nlink: 2)
    }

    mutating func characterDevice(_ name: String, mode: UInt32, major: UInt32, minor: UInt32) {
        entry(name, mode: 0o020000 | mode, nlink: 1, rdev: (major, minor))
    }

    /// The archive with its trailer.
    func finished() -> [UInt8] {
        var archive = self
        archive.entry("TRAILER!!!", mode: 0, nlink: 1)
        return archive.bytes
    }

    private mutating func entry(_ name: String, mode: UInt32, nlink: UInt32, rdev: (UInt32, UInt32) = (0, 0)) {
        let nameBytes = Array(name.utf8) + [0]
        let fields: [UInt32] = [
            name == "TRAILER!!!" ? 0 : inode, mode, 0, 0, nlink, mtime, 0, 0, 0, rdev.0, rdev.1,
            UInt32(nameBytes.count), 0,
        ]
        inode += 1
        var header = "070701"
        for field in fields {
            let hex = String(field, radix: 16, uppercase: true)
            header += String(repeating: "0", count: 8 - hex.count) + hex
        }
        bytes += Array(header.utf8) + nameBytes
        // The name ends on a 4-byte boundary, counting the 110-byte header.
        while bytes.count % 4 != 0 { bytes.append(0) }
    }
}
