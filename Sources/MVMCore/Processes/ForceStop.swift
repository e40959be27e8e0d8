import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The last resort against a hung hypervisor or runtime: a QEMU stopped
/// before libvirt's QMP greeting holds libvirt's domain lock for ever, and
/// a stopped runc keeps its create, kill or delete waiting. Killing the
/// instance's processes unblocks whatever waits on them, and the normal
/// teardown then runs to its end.
package enum ForceStop {
    /// The processes of this machine whose argument vector `matches` says
    /// yes to, this process excepted.
    package static func processes(where matches: ([String]) -> Bool) -> [Int32] {
        let me = getpid()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard pid != me, let arguments = commandLine(of: pid) else { return false }
            return matches(arguments)
        }.sorted()
    }

    /// SIGKILL to each (a stopped process dies of it too); the pids killed.
    @discardableResult
    package static func kill(_ pids: [Int32]) -> [Int32] {
        pids.filter { Glibc.kill($0, SIGKILL) == 0 }
    }

    /// The argument vector of a running process; nil for a kernel thread
    /// or a process that is gone.
    static func commandLine(of pid: Int32) -> [String]? {
        guard let text = readSmallFile("/proc/\(pid)/cmdline"), !text.isEmpty else { return nil }
        return text.split(separator: "\0").map(String.init)
    }
}
