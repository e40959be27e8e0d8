import Foundation
import MVMCore
import Testing

extension RealInstances {
    /// `mvm compare` of the user's own kernel, kernel arguments and root
    /// filesystem: both VM rows boot them, both container rows run them,
    /// and the report names their bytes.
    @Suite struct WorkloadImages {
        struct Report: Decodable {
            struct Environment: Decodable { var images: [String: String] }
            struct Sample: Decodable {
                var contender: String
                var ok: Bool
                var failure: String?
            }
            var environment: Environment
            var samples: [Sample]
        }

        @Test func compareBootsTheUsersKernelAndRunsTheUsersRootfs() async throws {
            try Fixtures.requireImages()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mvm-workload-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            // A rootfs of the user's: a copy of mvm's, in a directory of its own.
            let rootfs = directory.appendingPathComponent("rootfs").path
            let copy = try await runCommand("/bin/cp", ["-a", Fixtures.images.rootfs + "/.", rootfs])
            #expect(copy.exitCode == 0, "\(copy.stderr)")
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
            let json = directory.appendingPathComponent("compare.json").path
            let result = try await runMVM([
                "compare", "-n", "2", "--warmup", "0", "--kernel", Fixtures.images.minimalBzImage, "--append",
                "noapictimer", "--rootfs", rootfs, "--export-json", json, "--timeout", "90",
            ])
            #expect(result.exitCode == 0, "\(result.stdout)\(result.stderr)")
            let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: json)))
            for contender in ["vm", "container", "qemu-direct", "runc-direct"] {
                let own = report.samples.filter { $0.contender == contender }
                #expect(own.count == 2 && own.allSatisfy(\.ok), "\(contender): \(own.compactMap(\.failure))")
            }
            // The bytes measured: the kernel as the manifest has it, the tree's listing digest.
            let manifest = ImageSet.defaultLocation().manifestHashes()
            #expect(report.environment.images["kernel " + Fixtures.images.minimalBzImage] == manifest["bzImage"])
            #expect(report.environment.images["rootfs " + rootfs] == manifest["rootfs"])
            #expect(Fixtures.allQEMUProcesses().isEmpty)
        }

        @Test(arguments: [
            (["--kernel", "/nonexistent/vmlinux"], "/nonexistent/vmlinux"),
            (["--rootfs", "/var/empty-mvm-test-rootfs"], "/var/empty-mvm-test-rootfs"),
        ])
        func missingImagesAreOneLineAndStartNothing(arguments: [String], message: String) async throws {
            try? FileManager.default.createDirectory(
                atPath: "/var/empty-mvm-test-rootfs", withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: "/var/empty-mvm-test-rootfs") }
            let result = try await runMVM(["compare", "-n", "1"] + arguments)
            #expect(result.exitCode != 0)
            let lines = result.stderr.split(separator: "\n").filter { !$0.hasPrefix("warning") }
            #expect(lines.count == 1 && result.stderr.contains(message), "\(result.stderr)")
            #expect(Fixtures.allQEMUProcesses().isEmpty)
            #expect(Fixtures.consoleFiles().isEmpty)
        }
    }
}
