import Crypto
import Foundation
import MVMCore
import SystemPackage

/// The sha256 digests images/build.sh writes into manifest.json, computed
/// the same way so that `mvm doctor` can compare them.
enum ImageDigest {
    /// sha256 of a file's bytes, as `sha256sum` prints it.
    static func file(at path: String) throws(SystemFailure) -> String {
        var hash = SHA256()
        do {
            let descriptor = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
            try descriptor.closeAfter {
                var chunk = [UInt8](repeating: 0, count: 1 << 20)
                while true {
                    let count = try chunk.withUnsafeMutableBytes { try descriptor.read(into: $0) }
                    if count == 0 { break }
                    hash.update(data: chunk[0..<count])
                }
            }
        } catch {
            throw SystemFailure("cannot read \(path)", underlying: error)
        }
        return hex(hash.finalize())
    }

    /// The rootfs digest of images/build.sh (`rootfs_digest`): sha256 of a
    /// listing with one line per entry below the root, sorted by path in
    /// byte order (`LC_ALL=C sort`):
    /// `/path l MODE TARGET`, `/path f MODE SHA256`, `/path d MODE`, or
    /// `/path TYPE MODE MAJOR:MINOR` for anything else (as `stat -c '%F %a %t:%T'`),
    /// with MODE in octal as `stat -c %a` prints it.
    static func tree(at root: String) throws(SystemFailure) -> String {
        var listing = ""
        for path in try entries(below: root, relative: "").sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            let full = root + "/" + path
            var info = stat()
            guard lstat(full, &info) == 0 else {
                throw SystemFailure("cannot look at \(full)", underlying: Errno(rawValue: errno))
            }
            let mode = String(info.st_mode & 0o7777, radix: 8)
            switch info.st_mode & S_IFMT {
            case S_IFLNK:
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: full) else {
                    throw SystemFailure("cannot read the link \(full)")
                }
                listing += "/\(path) l \(mode) \(target)\n"
            case S_IFREG:
                listing += "/\(path) f \(mode) \(try file(at: full))\n"
            case S_IFDIR:
                listing += "/\(path) d \(mode)\n"
            default:
                listing +=
                    "/\(path) \(fileType(info.st_mode)) \(mode) \(hexNumber(major(info.st_rdev))):\(hexNumber(minor(info.st_rdev)))\n"
            }
        }
        return hex(SHA256.hash(data: Data(listing.utf8)))
    }

    /// Paths of everything below `root`, relative to it, without following
    /// symbolic links (`find . -mindepth 1 -printf '%P\n'`).
    private static func entries(below root: String, relative: String) throws(SystemFailure) -> [String] {
        let directory = relative.isEmpty ? root : root + "/" + relative
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw SystemFailure("cannot list \(directory)", underlying: error)
        }
        var found: [String] = []
        for name in names {
            let path = relative.isEmpty ? name : relative + "/" + name
            found.append(path)
            var info = stat()
            if lstat(root + "/" + path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
                found += try entries(below: root, relative: path)
            }
        }
        return found
    }

    /// `stat -c %F` for the types a listing spells out in words.
    private static func fileType(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFCHR: "character special file"
        case S_IFBLK: "block special file"
        case S_IFIFO: "fifo"
        case S_IFSOCK: "socket"
        default: "weird file"
        }
    }

    /// glibc's `major` and `minor` (macros, out of Swift's reach).
    private static func major(_ device: dev_t) -> UInt64 {
        ((UInt64(device) >> 8) & 0xfff) | UInt64(UInt32(truncatingIfNeeded: UInt64(device) >> 32) & ~0xfff)
    }

    private static func minor(_ device: dev_t) -> UInt64 {
        (UInt64(device) & 0xff) | UInt64(UInt32(truncatingIfNeeded: UInt64(device) >> 12) & ~0xff)
    }

    private static func hexNumber(_ value: UInt64) -> String { String(value, radix: 16) }

    private static func hex<Digest: Sequence>(_ digest: Digest) -> String where Digest.Element == UInt8 {
        digest.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
