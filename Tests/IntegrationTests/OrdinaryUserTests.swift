import Foundation
import MVMCore
import Subprocess
import SystemPackage
import Testing

extension RealInstances {
    /// mvm run by an ordinary user that the test creates (and removes): the
    /// VM side through the embedded driver under the user's home, the
    /// container side through a rootless runc.
    @Suite struct OrdinaryUser {
        /// No cgroup is delegated to a new user here: the comparison runs,
        /// every row is ok, and the report says the container went without
        /// its limits, in a caveat and in each ratio line.
        @Test func compareAsANewUserNamesTheLimitsItCouldNotApply() async throws {
            try Fixtures.requireImages()
            let user = try await TestUser.create()
            defer { user.remove() }
            let json = user.home + "/compare.json"
            let compare = try await user.run(["compare", "-n", "3", "--export-json", json])
            #expect(compare.exitCode == 0, "\(compare.stdout)\(compare.stderr)")
            let okRows = compare.stdout.split(separator: "\n").first { $0.hasPrefix("ok runs") } ?? ""
            #expect(okRows.split(separator: " ").filter { $0 == "3/3" }.count == 4, "\(compare.stdout)")
            let ratios = compare.stdout.split(separator: "\n").filter { $0.contains(" than vm ") }
            #expect(ratios.count == 2, "\(compare.stdout)")
            for ratio in ratios {
                #expect(ratio.hasSuffix("; limits differ: container had no memory, CPU or pids limit"), "\(ratio)")
            }
            #expect(
                compare.stdout.contains("caveat: the containers ran rootless (uid \(user.uid)) without their memory"),
                "\(compare.stdout)")
            let report = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json)))
                    as? [String: Any])
            let unapplied = try #require(report["unappliedLimits"] as? [String: [String]])
            #expect(unapplied == ["container": ["memory", "CPU", "pids"], "runc-direct": ["memory", "CPU", "pids"]])
            // doctor says the same, with what to do, and still lets compare run.
            let doctor = try await user.run(["doctor"])
            #expect(doctor.exitCode == 0, "\(doctor.stdout)\(doctor.stderr)")
            #expect(doctor.stdout.contains("WARN  rootless              uid \(user.uid) may not make cgroups under "))
            #expect(doctor.stdout.contains("fix: delegate those cgroups to the user"))
            try await user.expectNothingLeft()
        }

        /// With the user's cgroups delegated (as pam_cgfs or an
        /// administrator's chown does), the rootless container gets its own
        /// cgroup with the VM's memory limit and CPU count, and no caveat.
        @Test func delegatedCgroupsGiveTheRootlessContainerItsLimits() async throws {
            try Fixtures.requireImages()
            let user = try await TestUser.create()
            defer { user.remove() }
            let delegated = try user.delegateCgroups()
            let kept = try await user.run(["run", "--keep", "--json", "--memory", "96"], inCgroups: delegated)
            #expect(kept.exitCode == 0, "\(kept.stderr)")
            let report = try #require(
                try JSONSerialization.jsonObject(with: Data(kept.stdout.utf8)) as? [String: Any], "\(kept.stdout)")
            let name = try #require(report["name"] as? String)
            #expect(report["caveats"] == nil && report["unappliedLimits"] == nil, "\(kept.stdout)")
            let footprint = try #require(report["footprint"] as? [String: Any])
            #expect((footprint["cgroup-usage"] as? Int ?? 0) > 0, "\(footprint)")
            let memory = try #require(delegated.first { $0.hasPrefix("/sys/fs/cgroup/memory/") })
            #expect(readSmallFile("\(memory)/\(name)/memory.limit_in_bytes") == "\(96 << 20)\n")
            let cpuset = try #require(delegated.first { $0.hasPrefix("/sys/fs/cgroup/cpuset/") })
            #expect(readSmallFile("\(cpuset)/\(name)/cpuset.cpus") == "0\n")
            let destroyed = try await user.run(["destroy", name], inCgroups: delegated)
            #expect(destroyed.exitCode == 0, "\(destroyed.stderr)")
            for directory in delegated {
                #expect(!FileManager.default.fileExists(atPath: "\(directory)/\(name)"), "\(directory)/\(name)")
            }
            try await user.expectNothingLeft()
        }

        /// What cannot work rootless is refused in one line that says what to do.
        @Test func aContainerWithoutAUserNamespaceIsRefused() async throws {
            try Fixtures.requireImages()
            let user = try await TestUser.create()
            defer { user.remove() }
            let refused = try await user.run(["run", "--userns", "off"])
            #expect(refused.exitCode == 1)
            #expect(
                refused.stderr
                    == "Error: containers started by a non-root user need a user namespace; leave --userns at auto, or run mvm as root\n"
            )
            try await user.expectNothingLeft()
        }
    }
}

/// A user made for one test, with mvm installed where it can run it: a
/// copy of the built mvm beside the images (a link when every user can
/// read them where they are, else a copy).
struct TestUser {
    let name: String
    let uid: UInt32
    let home: String
    let prefix: URL
    private let delegatedName: String

    static func create() async throws -> TestUser {
        let name = "mvmtest" + UUID().uuidString.prefix(6).lowercased()
        let added = try await Subprocess.run(
            .path("/usr/sbin/useradd"), arguments: ["--create-home", "--shell", "/bin/sh", name], output: .discarded,
            error: .string(limit: 4096))
        try #require(added.terminationStatus.isSuccess, "useradd: \(added.standardError)")
        guard let entry = getpwnam(name) else { throw TestUserError("useradd made no \(name)") }
        let prefix = FileManager.default.temporaryDirectory.appendingPathComponent("mvm-user-\(name)")
        let user = TestUser(
            name: name, uid: entry.pointee.pw_uid, home: String(cString: entry.pointee.pw_dir), prefix: prefix,
            delegatedName: "mvm-delegated-" + name)
        let share = prefix.appendingPathComponent("share/mvm")
        try FileManager.default.createDirectory(at: share, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            at: prefix.appendingPathComponent("bin"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: mvmExecutable, to: prefix.appendingPathComponent("bin/mvm"))
        let images = Fixtures.images.directory
        let reachable = [images, Fixtures.images.rootfs, Fixtures.images.minimalVmlinux, Fixtures.images.initramfs]
            .allSatisfy(ImageStaging.isReachableByEveryone)
        if reachable {
            try FileManager.default.createSymbolicLink(
                atPath: share.appendingPathComponent("images").path, withDestinationPath: images)
        } else {
            let copied = try await Subprocess.run(
                .path("/bin/cp"), arguments: ["-a", images, share.appendingPathComponent("images").path],
                output: .discarded, error: .string(limit: 4096))
            try #require(copied.terminationStatus.isSuccess, "cp: \(copied.standardError)")
        }
        return user
    }

    /// mvm as the user, from its home, with an environment of its own
    /// (runuser keeps the caller's otherwise); first moved into `cgroups`
    /// when given.
    func run(_ arguments: [String], inCgroups cgroups: [String] = []) async throws -> CommandResult {
        let join = cgroups.map { "echo $$ > '\($0)/cgroup.procs' && " }.joined()
        let mvm = ([prefix.appendingPathComponent("bin/mvm").path] + arguments).map { "'\($0)'" }.joined(
            separator: " ")
        let script =
            "\(join)cd '\(home)' && exec /usr/sbin/runuser -u \(name) -- /usr/bin/env -i HOME='\(home)' "
            + "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \(mvm)"
        let result = try await Subprocess.run(
            .path("/bin/sh"), arguments: ["-c", script], output: .string(limit: 1 << 20),
            error: .string(limit: 1 << 20))
        return CommandResult(
            status: result.terminationStatus, stdout: result.standardOutput,
            stderr: result.standardError)
    }

    /// Makes a cgroup owned by the user beside the test's own in every v1
    /// hierarchy (the cgroup2 one on a v2-only host), as a delegation does;
    /// their directories.
    func delegateCgroups() throws -> [String] {
        let memberships = CgroupMembership.of(pid: getpid())
        let v1 = memberships.filter { !$0.controllers.isEmpty }
        var made: [String] = []
        for membership in v1.isEmpty ? memberships : v1 {
            guard let parent = membership.directory else { continue }
            let directory = parent + "/" + delegatedName
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
            made.append(directory)
            if membership.controllers.split(separator: ",").contains("cpuset") {
                for file in ["cpuset.cpus", "cpuset.mems"] {
                    try (readSmallFile(parent + "/" + file) ?? "").write(
                        toFile: directory + "/" + file, atomically: false, encoding: .utf8)
                }
            }
            for entry in [directory]
                + ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).map({
                    directory + "/" + $0
                })
            {
                guard chown(entry, uid, gid) == 0 else { throw TestUserError("cannot chown \(entry)") }
            }
        }
        return made
    }

    private var gid: UInt32 { getpwnam(name)?.pointee.pw_gid ?? uid }

    /// No process of the user, no owner record, console or bundle in its
    /// state directory.
    func expectNothingLeft() async throws {
        // A zombie is not left running: the init of a container destroyed
        // after its mvm exited waits there for this machine's pid 1.
        let processes = try await Subprocess.run(
            .path("/bin/ps"), arguments: ["-u", name, "-o", "stat=,pid=,args="], output: .string(limit: 1 << 16))
        let running = processes.standardOutput.split(separator: "\n").filter { !$0.hasPrefix("Z") }
        #expect(running.isEmpty, "\(running)")
        let state = StateDirectory(path: home + "/.local/state/mvm")
        for subdirectory in ["owners", "bundles"] {
            let left = (try? FileManager.default.contentsOfDirectory(atPath: state.subdirectory(subdirectory))) ?? []
            #expect(left.isEmpty, "\(subdirectory): \(left)")
        }
        #expect(Fixtures.consoleFiles(in: state).isEmpty)
    }

    /// Kills what the user still runs, removes the user, its home, the
    /// installed copy and the delegated cgroups.
    func remove() {
        for command in [["/usr/bin/pkill", "-KILL", "-u", name], ["/usr/sbin/userdel", "--remove", name]] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: command[0])
            process.arguments = Array(command.dropFirst())
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try? process.run()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: prefix)
        for membership in CgroupMembership.of(pid: getpid()) {
            guard let parent = membership.directory else { continue }
            rmdir(parent + "/" + delegatedName)
        }
    }
}

struct TestUserError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
