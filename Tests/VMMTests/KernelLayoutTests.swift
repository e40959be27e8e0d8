import Foundation
import Testing

@testable import VMM

/// The guest memory a kernel occupies, read from mvm's own images.
@Suite struct KernelLayoutTests {
    static let images = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("images/out")

    @Test func theVmlinuxLoadsAtSixteenMiB() throws {
        let path = Self.images.appendingPathComponent("vmlinux").path
        try #require(FileManager.default.fileExists(atPath: path), "images/build.sh has not run")
        let layout = try #require(KernelLayout.read(path: path))
        #expect(layout.start == 16 << 20)
        #expect(layout.end > layout.start && layout.end < 64 << 20, "\(layout)")
    }

    @Test func theBzImageSaysWhereItDecompresses() throws {
        let path = Self.images.appendingPathComponent("bzImage").path
        try #require(FileManager.default.fileExists(atPath: path), "images/build.sh has not run")
        let layout = try #require(KernelLayout.read(path: path))
        #expect(layout.start == 16 << 20)
        #expect(layout.end > layout.start, "\(layout)")
    }

    @Test func anythingElseHasNoLayout() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-kernel-\(getpid())").path
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        #expect(KernelLayout.read(path: path) == nil)
    }
}
