import Foundation
import MVMCore

/// An OCI image made ready for both sides: its tree with mvm's image init
/// under /.mvm, run by the container, and the same tree as an initramfs,
/// booted by the micro-VM.
public struct PreparedImage: Sendable, Equatable, Codable {
    /// What the user named (`layout:tag`, an archive).
    public var reference: String
    /// The manifest's digest: what the cache and the plan key use.
    public var digest: String
    public var configuration: ImageConfiguration
    public var rootfs: String
    public var initramfs: String
    /// The initramfs's size, about the tree's: the micro-VM holds it in
    /// memory, and its unpacked copy too.
    public var initramfsBytes: UInt64

    /// mvm's folder inside the tree: its init, busybox, the workload file.
    static let directory = ".mvm"
    public static let initPath = "/" + directory + "/init"

    /// What the container runs: mvm's image init, which runs the workload.
    public var containerCommand: [String] { [Self.initPath] }
    /// What the micro-VM's kernel needs to run the same init.
    public var kernelArguments: [String] { ["rdinit=" + Self.initPath] }

    /// The memory a micro-VM needs for this image, in MiB. The kernel
    /// holds the initramfs while it unpacks it into a tmpfs that may take
    /// half of the memory only: a 94 MiB Debian tree failed to unpack in
    /// 256 MiB ("Initramfs unpacking failed: write error") and booted in 320.
    public var minimumMemoryMiB: Int {
        3 * Int((initramfsBytes + (1 << 20) - 1) >> 20) + 32
    }

    /// What is wrong with `memoryMiB` for this image, said of `name` ("is
    /// too small for image L:python: ..."); nil when it is enough.
    public func memoryProblem(memoryMiB: Int, naming name: String) -> String? {
        guard memoryMiB < minimumMemoryMiB else { return nil }
        return
            "is too small for \(name): the micro-VM holds its \(initramfsBytes >> 20) MiB initramfs and the tree unpacked from it in memory; use \(minimumMemoryMiB) or more"
    }
}
