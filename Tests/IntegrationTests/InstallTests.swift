import Foundation
import MVMCore
import Testing

extension RealInstances {
    /// mvm as `scripts/install.sh` lays it out: `<prefix>/bin/mvm` beside
    /// `<prefix>/share/mvm/images`, run from a directory that has nothing of
    /// mvm's.
    @Suite struct InstalledLayout {
        /// A prefix with a copy of the built mvm and the checkout's images
        /// (a link: the layout is what is tested, not the copy).
        func installedPrefix() throws -> URL {
            let prefix = FileManager.default.temporaryDirectory.appendingPathComponent(
                "mvm-prefix-\(UUID().uuidString)")
            try FileManager.default.createDirectory(
                at: prefix.appendingPathComponent("bin"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(
                at: prefix.appendingPathComponent("share/mvm"), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: mvmExecutable, to: prefix.appendingPathComponent("bin/mvm"))
            try FileManager.default.createSymbolicLink(
                atPath: prefix.appendingPathComponent("share/mvm/images").path,
                withDestinationPath: Fixtures.images.directory)
            return prefix
        }

        @Test func anInstalledMVMFindsItsImagesFromAnyDirectory() async throws {
            try Fixtures.requireImages()
            let prefix = try installedPrefix()
            defer { try? FileManager.default.removeItem(at: prefix) }
            let mvm = prefix.appendingPathComponent("bin/mvm")
            let images = prefix.appendingPathComponent("share/mvm/images").path

            let boot = try await runMVM(["boot", "--dry-run"], executable: mvm, workingDirectory: "/")
            #expect(boot.exitCode == 0, "\(boot.stderr)")
            #expect(boot.stdout.contains("<kernel>"), "\(boot.stdout)")

            let run = try await runMVM(["run", "--dry-run"], executable: mvm, workingDirectory: "/")
            #expect(run.exitCode == 0, "\(run.stderr)")
            // The rootfs as runc takes it: through no symbolic link (images is one here).
            let rootfs = URL(fileURLWithPath: images + "/rootfs").resolvingSymlinksInPath().path
            #expect(run.stdout.contains(rootfs) || run.stdout.contains("/images/rootfs-"), "\(run.stdout)")

            // Without images anywhere it can look, the error says where it looked and how to get them.
            try FileManager.default.removeItem(atPath: images)
            let missing = try await runMVM(["boot", "--dry-run"], executable: mvm, workingDirectory: "/")
            #expect(missing.exitCode == 1)
            #expect(
                missing.stderr
                    == "Error: kernel \(images)/vmlinux does not exist; install the images (scripts/install.sh), point MVM_IMAGES at them, or name another kernel\n"
            )
        }

        @Test func versionNamesTheCommit() async throws {
            let result = try await runMVM(["--version"])
            #expect(result.exitCode == 0)
            let commit = try #require(result.stdout.split(separator: " ").last)
            #expect(result.stdout.hasPrefix("\(mvmVersion) (commit "))
            #expect(commit.count >= 41, "\(result.stdout)")
        }
    }
}
