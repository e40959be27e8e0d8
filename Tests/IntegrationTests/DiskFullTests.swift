import Foundation
import MVMCore
import Subprocess
import SystemPackage
import Testing

extension RealInstances.Reliability {
    /// A state directory on a full disk (a small tmpfs, filled): `boot` and
    /// `run` fail in one line that names the path and what to do, and
    /// leave no instance, owner record, console or bundle.
    @Test func aFullDiskIsOneLineAndLeavesNothing() async throws {
        try Fixtures.requireImages()
        let mountPoint = "/var/tmp/mvm-test-full-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mounted = try await Subprocess.run(
            .path("/bin/mount"), arguments: ["-t", "tmpfs", "-o", "size=256k", "tmpfs", mountPoint],
            output: .discarded, error: .string(limit: 4096))
        try #require(mounted.terminationStatus.isSuccess, "\(mounted.standardError)")
        defer {
            _ = Task {
                _ = try? await Subprocess.run(.path("/bin/umount"), arguments: [mountPoint], output: .discarded)
                try? FileManager.default.removeItem(atPath: mountPoint)
            }
        }
        // Fill it: dd writes until the disk is full (and then fails).
        _ = try await Subprocess.run(
            .path("/bin/dd"), arguments: ["if=/dev/zero", "of=\(mountPoint)/filler", "bs=4k"], output: .discarded,
            error: .discarded)
        var stats = statvfs()
        #expect(statvfs(mountPoint, &stats) == 0 && stats.f_bavail == 0, "the disk is not full")
        for arguments in [["boot", "--timeout", "20"], ["run", "--timeout", "20"]] {
            let result = try await runMVM(arguments + ["--state-dir", mountPoint])
            #expect(result.exitCode == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("free space"), "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
            let state = StateDirectory(path: mountPoint)
            let owners = (try? FileManager.default.contentsOfDirectory(atPath: state.subdirectory("owners"))) ?? []
            #expect(owners.isEmpty, "\(owners)")
            #expect(Fixtures.consoleFiles(in: state).isEmpty)
            let bundles = (try? FileManager.default.contentsOfDirectory(atPath: state.subdirectory("bundles"))) ?? []
            #expect(bundles.isEmpty, "\(bundles)")
        }
        #expect(Fixtures.allQEMUProcesses().isEmpty)
    }
}
