import Foundation
import Testing

@testable import MVMCore

@Suite struct OwnershipTests {
    func temporaryState() -> StateDirectory {
        StateDirectory(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("mvm-owners-\(UUID().uuidString)").path)
    }

    @Test func aProcessIsKnownByItsStartTime() {
        #expect(processStartTime(getpid()) != nil)
        #expect(processStartTime(0) == nil)
        #expect(processStartTime(Int32.max) == nil)
    }

    @Test func aClaimedInstanceBelongsToALiveOwnerUntilRemoved() throws {
        let state = temporaryState()
        defer { try? FileManager.default.removeItem(atPath: state.path) }
        let records = OwnerRecords(stateDirectory: state)
        let record = try records.claim("mvm-0000000a", kind: "micro-vm", connectURI: nil)
        let owner = try #require(records.owner(of: "mvm-0000000a"))
        #expect(owner.pid == getpid() && owner.ownerIsAlive && !owner.isOrphan)
        #expect(records.orphans().isEmpty)
        record.markKept()
        #expect(records.owner(of: "mvm-0000000a")?.kept == true)
        record.remove()
        #expect(records.all().isEmpty)
    }

    /// A record whose process is gone (a finished child's pid) is an orphan;
    /// the same record kept with --keep is not; a pid reused by another
    /// process (other start time) does not revive it.
    @Test func aDeadOwnerMakesAnOrphanUnlessKept() throws {
        let state = temporaryState()
        defer { try? FileManager.default.removeItem(atPath: state.path) }
        let records = OwnerRecords(stateDirectory: state)
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        let childPID = child.processIdentifier
        child.waitUntilExit()
        try FileManager.default.createDirectory(atPath: records.directory, withIntermediateDirectories: true)
        for (name, pid, startTime, kept) in [
            ("mvm-0000000b", childPID, UInt64(1), false), ("mvm-0000000c", childPID, UInt64(1), true),
            ("mvm-0000000d", getpid(), UInt64(1), false),
        ] {
            let owner = InstanceOwner(
                name: name, kind: "container", pid: pid, startTime: startTime, connectURI: nil, childPID: nil,
                childStartTime: nil,
                kept: kept, createdAt: Date())
            try mvmJSONData(owner).write(to: URL(fileURLWithPath: records.directory + "/" + name + ".json"))
        }
        #expect(records.orphans().map(\.name) == ["mvm-0000000b", "mvm-0000000d"])
    }
}
