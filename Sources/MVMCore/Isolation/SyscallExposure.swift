import CSyscallProbe
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// How much of the host kernel's system call interface one process can
/// reach: its seccomp mode and filters, and how many of the host's system
/// calls those let through. For a container this is the isolation boundary
/// itself; for a micro-VM it is the QEMU process a guest escape would land in.
public struct SyscallExposure: Sendable, Codable, Equatable {
    /// `Seccomp:` in /proc/PID/status.
    public enum Mode: Int, Sendable, Codable, Equatable {
        case disabled = 0
        /// `SECCOMP_MODE_STRICT`: read, write, _exit and rt_sigreturn only.
        case strict = 1
        case filter = 2
    }

    public var mode: Mode
    /// `Seccomp_filters:`: the filters stacked on the process (0 unless `filter`).
    public var filterCount: Int
    /// `NoNewPrivs:`: execve cannot gain privileges (setuid, file capabilities).
    public var noNewPrivileges: Bool
    /// The x86-64 system calls the host knows: the `#define __NR_` lines of
    /// /usr/include/x86_64-linux-gnu/asm/unistd_64.h (Debian's
    /// linux-libc-dev). That header follows the kernel headers mvm was
    /// installed with, which can be older than the running kernel: calls
    /// added since are not counted (nor judged).
    public var hostSyscallCount: Int
    /// How many of those the process may make: all of them without seccomp,
    /// 4 in strict mode, and in filter mode those for which every filter
    /// answers `SECCOMP_RET_ALLOW` or `SECCOMP_RET_LOG` (see
    /// `SeccompAction.allowsTheCall`). Filters are asked with the x86-64
    /// architecture, instruction pointer 0 and all arguments 0: a call a
    /// filter allows or denies only for some arguments (clone without
    /// CLONE_THREAD, ioctl requests, socket families) is counted by what it
    /// answers for zeros. x32 calls (numbers with bit 30) are not asked.
    public var allowedSyscallCount: Int
    /// Names of the host's system calls the process may not make, in number order.
    public var deniedSyscalls: [String]

    public init(
        mode: Mode, filterCount: Int, noNewPrivileges: Bool, hostSyscallCount: Int, allowedSyscallCount: Int,
        deniedSyscalls: [String]
    ) {
        self.mode = mode
        self.filterCount = filterCount
        self.noNewPrivileges = noNewPrivileges
        self.hostSyscallCount = hostSyscallCount
        self.allowedSyscallCount = allowedSyscallCount
        self.deniedSyscalls = deniedSyscalls
    }

    /// The system calls strict mode allows (kernel/seccomp.c, `mode1_syscalls`).
    static let strictModeSyscalls: Set<String> = ["read", "write", "exit", "rt_sigreturn"]

    /// Judges every system call of `table` for a process with `status` and
    /// these filters (the kernel runs them all; the strictest answer wins, so
    /// a call is allowed only when each of them allows it).
    public init(
        status: ProcessSeccompStatus, filters: [SeccompFilter], table: HostSyscallTable
    ) throws(SeccompFilterError) {
        var denied: [String] = []
        for syscall in table.syscalls {
            let allowed: Bool
            switch status.mode {
            case .disabled:
                allowed = true
            case .strict:
                allowed = Self.strictModeSyscalls.contains(syscall.name)
            case .filter:
                allowed = try Self.everyFilterAllows(filters, SeccompData(nr: syscall.number))
            }
            if !allowed { denied.append(syscall.name) }
        }
        self.init(
            mode: status.mode, filterCount: status.filterCount ?? filters.count,
            noNewPrivileges: status.noNewPrivileges,
            hostSyscallCount: table.syscalls.count, allowedSyscallCount: table.syscalls.count - denied.count,
            deniedSyscalls: denied)
    }

    private static func everyFilterAllows(_ filters: [SeccompFilter], _ data: SeccompData) throws(SeccompFilterError)
        -> Bool
    {
        for filter in filters where !SeccompAction(verdict: try filter.evaluate(data)).allowsTheCall { return false }
        return true
    }

    /// Reads a live process: its /proc status and, in filter mode, each of
    /// its filters through ptrace. Blocking; needs CAP_SYS_ADMIN and
    /// CAP_SYS_PTRACE (root) for a filtered process, and a caller that is
    /// not under seccomp itself. The process is stopped for the moment the
    /// filters are read (microseconds) and then let go. Only the thread
    /// whose id is `pid` is read: filters are per thread, and a process
    /// whose threads differ (installed without TSYNC) is judged by its main
    /// thread.
    public static func read(pid: Int32, table: HostSyscallTable? = nil) throws(SyscallExposureError) -> SyscallExposure
    {
        let table = if let table { table } else { try HostSyscallTable.load() }
        let path = "/proc/\(pid)/status"
        guard let text = readSmallFile(path) else { throw .statusUnreadable(pid: pid, path: path) }
        guard let status = ProcessSeccompStatus(procStatus: text) else { throw .statusUnparsable(pid: pid, path: path) }
        let filters = status.mode == .filter ? try SeccompFilterReader.read(pid: pid, count: status.filterCount) : []
        do {
            return try SyscallExposure(status: status, filters: filters, table: table)
        } catch {
            throw .filterNotInterpretable(pid: pid, error)
        }
    }
}

/// The seccomp lines of /proc/PID/status.
public struct ProcessSeccompStatus: Sendable, Equatable {
    public var mode: SyscallExposure.Mode
    /// `Seccomp_filters:` (kernel 5.9 and later); nil on older kernels.
    public var filterCount: Int?
    public var noNewPrivileges: Bool

    public init(mode: SyscallExposure.Mode, filterCount: Int?, noNewPrivileges: Bool) {
        self.mode = mode
        self.filterCount = filterCount
        self.noNewPrivileges = noNewPrivileges
    }

    /// Parses the text of /proc/PID/status; nil without a `Seccomp:` line
    /// (a kernel without CONFIG_SECCOMP) or with a mode mvm does not know.
    public init?(procStatus text: String) {
        var fields: [Substring: Int] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon]
            guard key == "Seccomp" || key == "Seccomp_filters" || key == "NoNewPrivs" else { continue }
            fields[key] = Int(line[line.index(after: colon)...].filter { $0 != " " && $0 != "\t" })
        }
        guard let rawMode = fields["Seccomp"], let mode = SyscallExposure.Mode(rawValue: rawMode) else { return nil }
        self.init(mode: mode, filterCount: fields["Seccomp_filters"], noNewPrivileges: fields["NoNewPrivs"] == 1)
    }
}

/// The host's x86-64 system calls, by name and number.
public struct HostSyscallTable: Sendable, Equatable {
    public struct Syscall: Sendable, Equatable {
        public var name: String
        public var number: Int32

        public init(name: String, number: Int32) {
            self.name = name
            self.number = number
        }
    }

    /// In number order.
    public var syscalls: [Syscall]

    public init(syscalls: [Syscall]) {
        self.syscalls = syscalls.sorted { $0.number < $1.number }
    }

    /// Debian's linux-libc-dev header of x86-64 system call numbers.
    public static let headerPath = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"

    /// Parses `#define __NR_name number` lines.
    public init(header text: String) {
        let syscalls = text.split(separator: "\n").compactMap { line -> Syscall? in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 3, fields[0] == "#define", fields[1].hasPrefix("__NR_"),
                let number = Int32(fields[2])
            else { return nil }
            return Syscall(name: String(fields[1].dropFirst("__NR_".count)), number: number)
        }
        self.init(syscalls: syscalls)
    }

    public static func load(path: String = headerPath) throws(SyscallExposureError) -> HostSyscallTable {
        guard let text = readSmallFile(path) else { throw .syscallTableUnreadable(path: path) }
        let table = HostSyscallTable(header: text)
        guard !table.syscalls.isEmpty else { throw .syscallTableUnreadable(path: path) }
        return table
    }
}

public enum SyscallExposureError: Error, CustomStringConvertible, Equatable, Sendable {
    case statusUnreadable(pid: Int32, path: String)
    case statusUnparsable(pid: Int32, path: String)
    case syscallTableUnreadable(path: String)
    /// A ptrace request failed: which one, and its errno.
    case ptrace(pid: Int32, request: String, errno: Errno)
    /// The process exited (or was killed) while mvm was reading its filters.
    case processExited(pid: Int32)
    case filterNotInterpretable(pid: Int32, SeccompFilterError)

    public var description: String {
        switch self {
        case .statusUnreadable(let pid, let path):
            return "cannot read \(path): process \(pid) is gone or not readable by this user"
        case .statusUnparsable(let pid, let path):
            return "\(path) of process \(pid) has no Seccomp line mvm understands (a kernel without CONFIG_SECCOMP?)"
        case .syscallTableUnreadable(let path):
            return "cannot read the host's system call numbers from \(path); install linux-libc-dev"
        case .ptrace(let pid, let request, let errno):
            var text = "reading the seccomp filters of process \(pid): \(request) failed: \(errno)"
            if errno == .notPermitted || errno == .permissionDenied {
                text +=
                    "; it needs root (CAP_SYS_ADMIN and CAP_SYS_PTRACE), a caller not under seccomp itself, and a process no other tracer holds"
            }
            return text
        case .processExited(let pid):
            return "process \(pid) exited while mvm was reading its seccomp filters"
        case .filterNotInterpretable(let pid, let error):
            return "cannot judge the seccomp filters of process \(pid): \(error)"
        }
    }
}

/// Reads a process's seccomp filters with PTRACE_SECCOMP_GET_FILTER, which
/// only works on a tracee in a ptrace-stop: seize, interrupt, wait for the
/// stop, read, detach. Every step runs on the calling thread, because the
/// kernel ties a tracee to the thread that attached. A reaper elsewhere in
/// the process calling waitpid(-1) (as a child subreaper would) could take
/// the stop notification first: none exists in mvm today.
enum SeccompFilterReader {
    /// Filter 0 is the one installed last; the order does not matter to
    /// the verdict. Without a known count, reads until the kernel says there
    /// is no such filter.
    static func read(pid: Int32, count: Int?) throws(SyscallExposureError) -> [SeccompFilter] {
        guard mvm_ptrace_seize(pid) == 0 else { throw .ptrace(pid: pid, request: "PTRACE_SEIZE", errno: .current) }
        // The signal to hand back on detach when the stop was a signal's
        // delivery: detaching without it would swallow the signal.
        var pendingSignal: Int32 = 0
        // Detach on every path, errors included: a tracee left attached
        // stays with this thread until it exits.
        defer { _ = mvm_ptrace_detach(pid, pendingSignal) }
        guard mvm_ptrace_interrupt(pid) == 0 else {
            throw .ptrace(pid: pid, request: "PTRACE_INTERRUPT", errno: .current)
        }
        pendingSignal = try waitForStop(pid: pid)
        var filters: [SeccompFilter] = []
        var index = 0
        while count.map({ index < $0 }) ?? true {
            guard let filter = try readFilter(pid: pid, index: index, isLastAllowed: count == nil) else { break }
            filters.append(filter)
            index += 1
        }
        return filters
    }

    /// Waits for the ptrace-stop that PTRACE_INTERRUPT asked for, and
    /// returns the signal of a signal-delivery-stop that came first (0 for
    /// the interrupt's own stop or a group-stop). Blocks for as long as the
    /// tracee takes to stop: at once unless it sleeps uninterruptibly.
    private static func waitForStop(pid: Int32) throws(SyscallExposureError) -> Int32 {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, __WALL)
            if result == pid { break }
            if result == -1 && errno == EINTR { continue }
            throw .ptrace(pid: pid, request: "waitpid after PTRACE_INTERRUPT", errno: .current)
        }
        // WIFSTOPPED: the low byte is 0x7f. Anything else is an exit or a
        // killing signal.
        guard status & 0xff == 0x7f else { throw .processExited(pid: pid) }
        let signal = (status >> 8) & 0xff
        let event = status >> 16
        // PTRACE_EVENT_STOP covers the interrupt's stop and group-stops;
        // event 0 with a signal is a signal-delivery-stop.
        return event == 0 ? signal : 0
    }

    private static func readFilter(pid: Int32, index: Int, isLastAllowed: Bool) throws(SyscallExposureError)
        -> SeccompFilter?
    {
        let length = mvm_ptrace_get_seccomp_filter(pid, UInt(index), nil, 0)
        if length < 0 {
            let failure = Errno.current
            // ENOENT: no filter at this index.
            if isLastAllowed && failure == .noSuchFileOrDirectory { return nil }
            throw .ptrace(pid: pid, request: "PTRACE_SECCOMP_GET_FILTER for filter \(index)", errno: failure)
        }
        var buffer = [sock_filter](repeating: sock_filter(), count: Int(length))
        let copied = buffer.withUnsafeMutableBufferPointer { pointer in
            mvm_ptrace_get_seccomp_filter(pid, UInt(index), pointer.baseAddress, UInt(pointer.count))
        }
        // A filter never changes once installed, so the second call returns
        // the same length.
        guard copied == length else {
            throw .ptrace(
                pid: pid, request: "PTRACE_SECCOMP_GET_FILTER for filter \(index)",
                errno: copied < 0 ? .current : .ioError)
        }
        return SeccompFilter(buffer.map { SeccompFilter.Instruction(code: $0.code, jt: $0.jt, jf: $0.jf, k: $0.k) })
    }
}

extension Errno {
    /// The calling thread's errno, right after a failed call.
    fileprivate static var current: Errno { Errno(rawValue: errno) }
}
