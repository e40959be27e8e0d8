import Foundation
import SystemPackage

/// Writes a whole file or nothing: the data goes to a hidden temporary file
/// beside `path` (mode `permissions` from its creation on), is flushed to
/// disk, and is renamed over `path`. A full disk, a read-only directory or a
/// crash leaves the previous file as it was. The temporary name does not end
/// like the target's (node_exporter reads every `*.prom` in its directory).
public func writeFileAtomically(_ data: Data, to path: String, permissions: FilePermissions = [.ownerReadWrite])
    throws(SystemFailure)
{
    let url = URL(fileURLWithPath: path)
    let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        .path
    do {
        let descriptor = try FileDescriptor.open(
            FilePath(temporary), .writeOnly, options: [.create, .truncate, .closeOnExec], permissions: permissions)
        do {
            try descriptor.closeAfter {
                _ = try data.withUnsafeBytes { try descriptor.writeAll($0) }
                guard fsync(descriptor.rawValue) == 0 else { throw Errno(rawValue: errno) }
            }
        } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let failure = Errno(rawValue: errno)
            unlink(temporary)
            throw failure
        }
    } catch {
        throw SystemFailure(
            "cannot write \(path)", underlying: error, advice: "the previous file, if any, is unchanged")
    }
}
