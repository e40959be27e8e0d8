import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One thing on the host that an instance holds while it exists: a process,
/// a cgroup directory, a libvirt domain, a socket, the runtime's state, a
/// directory or file mvm made for it. Made while the instance runs (pids,
/// paths and names are known then); its check says, at any later moment,
/// whether the thing is still there.
///
/// Checks are cheap and do not wait for the instance: a look at /proc, one
/// `lstat`; a check that can block (a libvirt look-up, which waits while
/// libvirt destroys the domain) is a `slowCheck`, which answers within a
/// few milliseconds all the same. The teardown measurement runs each check
/// on a thread of its own every millisecond or so, so that no resource's
/// check delays another's.
public struct HostResource: Sendable, CustomStringConvertible {
    /// What sort of resource: the report's teardown breakdown groups by it.
    public enum Kind: String, Sendable, Codable, CaseIterable, Comparable {
        case process
        case cgroup
        case domain
        case socket
        case runtimeState = "runtime-state"
        case directory
        case file

        public static func < (lhs: Kind, rhs: Kind) -> Bool {
            allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
        }
    }

    /// What a check saw.
    public enum State: String, Sendable, Codable {
        /// Still there.
        case held
        /// A process that has exited but was not reaped yet: still held (its
        /// pid, its /proc entry and, for libvirt, the domain wait for it),
        /// but no longer running. Only processes are ever in this state.
        case zombie
        /// Gone.
        case released
    }

    public let kind: Kind
    /// Which one, for a person: "QEMU pid 1234", "cgroup /sys/fs/cgroup/cpu/mvm/mvm-1a2b".
    public let description: String
    private let check: @Sendable () -> State

    /// A resource with a check that may tell a zombie apart (processes).
    public init(kind: Kind, description: String, state: @escaping @Sendable () -> State) {
        self.kind = kind
        self.description = description
        self.check = state
    }

    /// A resource whose check says whether it is still held.
    public init(kind: Kind, description: String, isHeld: @escaping @Sendable () -> Bool) {
        self.init(kind: kind, description: description) { isHeld() ? .held : .released }
    }

    /// Looks now.
    public func state() -> State { check() }

    /// True until the resource is gone (a zombie process is still held).
    public func isHeld() -> Bool { state() != .released }

    /// A running process, known by its pid and its start time, so that a
    /// pid the kernel hands to a new process after this one was reaped does
    /// not count as this one. Held until it is gone from /proc: a zombie is
    /// held too (reported as `.zombie`). Who reaps it matters: mvm reaps the
    /// processes it started itself at once, the host's init reaps orphans
    /// (a daemonized QEMU, a container's init after `runc create`) when it
    /// gets round to it. Nil when there is no such process now.
    public static func process(pid: Int32, description: String) -> HostResource? {
        guard let started = ProcessStatus.read(pid: pid), started.state != "Z", started.state != "X" else { return nil }
        return HostResource(kind: .process, description: description) {
            guard let now = ProcessStatus.read(pid: pid), now.startTime == started.startTime else { return .released }
            return now.state == "Z" || now.state == "X" ? .zombie : .held
        }
    }

    /// A file system entry (directory, file, socket, cgroup directory): held
    /// while the path exists (`lstat`, so a dangling link still counts).
    public static func path(_ path: String, kind: Kind, description: String) -> HostResource {
        HostResource(kind: kind, description: description) { pathExists(path) }
    }

    /// `path(...)` when the path exists now, else nil: what a probe takes
    /// for files that only some configurations make.
    public static func existingPath(_ path: String, kind: Kind, description: String) -> HostResource? {
        pathExists(path) ? Self.path(path, kind: kind, description: description) : nil
    }

    /// A resource whose check may block for a long time (a libvirt look-up
    /// waits while libvirt holds the domain's lock, through a whole
    /// destroy): the look-up runs on a thread of its own, and a check waits
    /// for its answer at most `patience`. While it has not answered, the
    /// resource counts as held: only for checks where an answer that does
    /// not come means the thing is still there (a locked domain exists).
    /// One look-up at a time; a check that comes while one is under way
    /// waits for that one.
    public static func slowCheck(
        kind: Kind, description: String, patience: Duration = .milliseconds(10), isHeld: @escaping @Sendable () -> Bool
    ) -> HostResource {
        let lookup = PatientLookup(isHeld)
        return HostResource(kind: kind, description: description) {
            lookup.isHeld(waitingAtMost: patience) ? .held : .released
        }
    }

    public var descriptionWithKind: String { "\(kind.rawValue) \(description)" }
}

/// The look-up under way of a `slowCheck` resource, and its answer.
private final class PatientLookup: Sendable {
    private struct State {
        /// Signalled when the look-up under way answers; nil when none is.
        var pending: DispatchSemaphore?
        var answer: Bool?
        /// The answer came after the last check gave one: the next check
        /// takes it instead of asking again.
        var fresh = false
    }

    private let body: @Sendable () -> Bool
    private let state = Mutex(State())

    init(_ body: @escaping @Sendable () -> Bool) {
        self.body = body
    }

    func isHeld(waitingAtMost patience: Duration) -> Bool {
        enum Next {
            case answer(Bool)
            case wait(DispatchSemaphore, start: Bool)
        }
        let next = state.withLock { state -> Next in
            if let pending = state.pending { return .wait(pending, start: false) }
            if state.fresh, let answer = state.answer {
                state.fresh = false
                return .answer(answer)
            }
            let answered = DispatchSemaphore(value: 0)
            state.pending = answered
            return .wait(answered, start: true)
        }
        switch next {
        case .answer(let held):
            return held
        case .wait(let answered, let start):
            if start {
                let body = self.body
                let thread = Thread { [self] in
                    let held = body()
                    state.withLock { $0 = State(pending: nil, answer: held, fresh: true) }
                    answered.signal()
                }
                thread.name = "mvm-release-lookup"
                thread.start()
            }
            guard answered.wait(timeout: .now() + patience.seconds) == .success else { return true }
            // Passed on, for a second caller waiting on the same look-up.
            answered.signal()
            return state.withLock { state in
                state.fresh = false
                return state.answer ?? true
            }
        }
    }
}

/// True when `path` names something, a dangling symbolic link included.
package func pathExists(_ path: String) -> Bool {
    var status = stat()
    return lstat(path, &status) == 0
}

/// The two fields of /proc/PID/stat a process resource needs.
struct ProcessStatus: Equatable {
    /// R, S, D, Z, X, ...
    var state: Character
    /// Clock ticks after boot (field 22).
    var startTime: UInt64

    static func read(pid: Int32) -> ProcessStatus? {
        guard pid > 0, let text = readSmallFile("/proc/\(pid)/stat") else { return nil }
        return parse(stat: text)
    }

    static func parse(stat text: String) -> ProcessStatus? {
        // The command may hold spaces and parentheses: fields start after the last ')'.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After "pid (comm)": state is field 3, so starttime (22) is the 20th.
        guard fields.count > 19, let state = fields[0].first, let startTime = UInt64(fields[19]) else { return nil }
        return ProcessStatus(state: state, startTime: startTime)
    }
}

/// What one instance holds on the host, taken while it runs, before
/// `stop()`: the teardown measurement watches each of these go.
public struct ReleaseProbe: Sendable {
    public var resources: [HostResource]

    public init(_ resources: [HostResource]) {
        self.resources = resources
    }

    /// The resources still held now, in order (checked one after another).
    public func held() -> [HostResource] {
        resources.filter { $0.isHeld() }
    }

    /// The kinds it watches, each once, in `Kind` order.
    public var kinds: [HostResource.Kind] {
        Array(Set(resources.map(\.kind))).sorted()
    }
}

extension InstanceTeardown {
    /// The instance's owner record (`<state>/owners/<name>.json`), while it
    /// exists: a completed teardown removes it last, after the instance.
    package func ownerRecordResource() -> HostResource? {
        ownerRecordPath.flatMap { HostResource.existingPath($0, kind: .file, description: "owner record \($0)") }
    }
}
