import Foundation
import Synchronization

/// Which process an instance belongs to, written to the state directory
/// before the instance starts (`<state>/owners/<name>.json`) and removed
/// when its teardown completes. After a SIGKILL, a crash or a power loss the
/// record stays while its process is gone: that is how `mvm gc` tells an
/// orphan from an instance another mvm is still using. A process is named by
/// its pid and its start time (field 22 of /proc/PID/stat), since pids are
/// reused.
public struct InstanceOwner: Sendable, Codable, Equatable {
    public var name: String
    /// What the instance is: "micro-vm", "container", "qemu-direct", "runc-direct".
    public var kind: String
    public var pid: Int32
    /// Clock ticks after boot at which the owner started.
    public var startTime: UInt64
    /// The libvirt URI of a VM (nil: the embedded driver under the state dir).
    public var connectURI: String?
    /// A process the instance runs as, when mvm started it itself (the
    /// plain-QEMU reference): gc kills it if it outlived its owner.
    public var childPID: Int32?
    public var childStartTime: UInt64?
    /// Handed over with `--keep`: never an orphan; `mvm destroy` removes it.
    public var kept: Bool
    public var createdAt: Date

    /// True while the owning process runs.
    public var ownerIsAlive: Bool {
        processStartTime(pid) == startTime
    }

    /// An instance that nobody will tear down: its owner is gone and it was
    /// not kept.
    public var isOrphan: Bool { !kept && !ownerIsAlive }
}

/// The start time of a running process, or nil when there is none.
public func processStartTime(_ pid: Int32) -> UInt64? {
    guard pid > 0, let stat = readSmallFile("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else {
        return nil
    }
    // After "pid (comm)": state is field 3, so starttime (22) is the 20th.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 19, !fields[0].hasPrefix("Z") else { return nil }
    return UInt64(fields[19])
}

/// The owner records of one state directory.
public struct OwnerRecords: Sendable {
    public let directory: String
    private let stateDirectory: StateDirectory

    public init(stateDirectory: StateDirectory) {
        self.stateDirectory = stateDirectory
        directory = stateDirectory.subdirectory("owners")
    }

    func path(of name: String) -> String { directory + "/" + name + ".json" }

    /// Records that this process owns `name`, before anything of it exists.
    package func claim(_ name: String, kind: String, connectURI: String?) throws(SystemFailure) -> OwnerRecord {
        let pid = getpid()
        let owner = InstanceOwner(
            name: name, kind: kind, pid: pid, startTime: processStartTime(pid) ?? 0, connectURI: connectURI,
            childPID: nil,
            childStartTime: nil, kept: false, createdAt: Date())
        let record = OwnerRecord(path: path(of: name), owner: owner)
        // The state directory first, with its own mode (QEMU must pass
        // through it); only the records' directory is private.
        try stateDirectory.ensureExists()
        _ = try stateDirectory.ensureSubdirectory("owners", permissions: 0o700)
        try record.write(owner)
        return record
    }

    /// Every record, with those that cannot be read left out (a record is
    /// written whole or not at all, so an unreadable one is not mvm's).
    public func all() -> [InstanceOwner] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted().compactMap { name in
            guard let data = FileManager.default.contents(atPath: directory + "/" + name) else { return nil }
            return try? mvmJSONDecoder().decode(InstanceOwner.self, from: data)
        }
    }

    /// Records whose owner is gone and that were not kept.
    public func orphans() -> [InstanceOwner] {
        all().filter(\.isOrphan)
    }

    public func owner(of name: String) -> InstanceOwner? {
        all().first { $0.name == name }
    }

    public func remove(_ name: String) {
        unlink(path(of: name))
    }
}

/// One instance's owner record, held by its launch and its teardown.
package final class OwnerRecord: Sendable {
    let path: String
    private let owner: Mutex<InstanceOwner>

    init(path: String, owner: InstanceOwner) {
        self.path = path
        self.owner = Mutex(owner)
    }

    fileprivate func write(_ owner: InstanceOwner) throws(SystemFailure) {
        do {
            let data = try mvmJSONData(owner)
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw SystemFailure(
                "cannot write \(path)", underlying: error, advice: "use a writable state directory with free space")
        }
    }

    /// Notes a process mvm started for the instance.
    package func noteChild(_ pid: Int32) {
        update {
            $0.childPID = pid
            $0.childStartTime = processStartTime(pid)
        }
    }

    /// `--keep`: the instance outlives this process on purpose.
    package func markKept() {
        update { $0.kept = true }
    }

    private func update(_ change: (inout InstanceOwner) -> Void) {
        let updated = owner.withLock { owner in
            change(&owner)
            return owner
        }
        try? write(updated)
    }

    /// The instance is gone.
    package func remove() {
        unlink(path)
    }
}
