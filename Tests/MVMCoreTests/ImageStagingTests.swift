import Foundation
import MVMCore
import Testing

@Suite struct ImageStagingTests {
    /// A private directory (mode 0700, as /root is) with a file and a tree.
    func privateImages() throws -> URL {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("mvm-staging-\(UUID().uuidString)")
        let images = base.appendingPathComponent("private")
        try FileManager.default.createDirectory(
            at: images.appendingPathComponent("rootfs/bin"), withIntermediateDirectories: true)
        try Data("kernel".utf8).write(to: images.appendingPathComponent("vmlinux"))
        try Data("#!/bin/sh\n".utf8).write(to: images.appendingPathComponent("rootfs/init"))
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o700], ofItemAtPath: images.appendingPathComponent("rootfs/init").path)
        try FileManager.default.createSymbolicLink(
            atPath: images.appendingPathComponent("rootfs/bin/sh").path, withDestinationPath: "busybox")
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: images.path)
        return base
    }

    @Test func reachablePathsAreUsedAsTheyAre() throws {
        let staging = ImageStaging(stateDirectory: StateDirectory(path: "/nonexistent-state"))
        #expect(try staging.reachablePath(for: "/bin/sh") == "/bin/sh")
    }

    @Test func privateImagesAreCopiedOnceWhereEveryoneCanReachThem() throws {
        let base = try privateImages()
        defer { try? FileManager.default.removeItem(at: base) }
        let state = StateDirectory(path: base.appendingPathComponent("state").path)
        let staging = ImageStaging(stateDirectory: state)
        let kernel = base.appendingPathComponent("private/vmlinux").path
        let rootfs = base.appendingPathComponent("private/rootfs").path
        #expect(!ImageStaging.isReachableByEveryone(kernel))

        let stagedKernel = try staging.reachablePath(for: kernel)
        let stagedRootfs = try staging.reachablePath(for: rootfs)
        #expect(stagedKernel.hasPrefix(state.path + "/images/vmlinux-"))
        #expect(stagedRootfs.hasPrefix(state.path + "/images/rootfs-"))
        // The temporary directory itself must be reachable for this to hold.
        #expect(ImageStaging.isReachableByEveryone(stagedKernel) == ImageStaging.isReachableByEveryone(state.path))
        #expect(FileManager.default.contents(atPath: stagedKernel) == Data("kernel".utf8))
        #expect(FileManager.default.isExecutableFile(atPath: stagedRootfs + "/init"))
        let attributes = try FileManager.default.attributesOfItem(atPath: stagedRootfs + "/init")
        #expect(((attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0) & 0o005 == 0o005)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: stagedRootfs + "/bin/sh") == "busybox")

        // Same source: same copy. A rewritten source: a new copy.
        #expect(try staging.reachablePath(for: kernel) == stagedKernel)
        try Data("kernel 2".utf8).write(to: URL(fileURLWithPath: kernel))
        let restaged = try staging.reachablePath(for: kernel)
        #expect(restaged != stagedKernel)
        #expect(FileManager.default.contents(atPath: restaged) == Data("kernel 2".utf8))
    }
}
