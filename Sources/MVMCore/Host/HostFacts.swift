import Foundation

/// The host's hardware and kernel: for environment fingerprints, and for
/// checking that asked-for limits fit (`InstanceLimits`).
public struct HostFacts: Sendable, Codable, Equatable {
    public var kernelRelease: String
    public var cpuModel: String
    public var cores: Int
    public var memoryBytes: UInt64

    public init(kernelRelease: String, cpuModel: String, cores: Int, memoryBytes: UInt64) {
        self.kernelRelease = kernelRelease
        self.cpuModel = cpuModel
        self.cores = cores
        self.memoryBytes = memoryBytes
    }

    public static func probe() -> HostFacts {
        let release =
            readSmallFile("/proc/sys/kernel/osrelease")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
        let cpuinfo = readSmallFile("/proc/cpuinfo") ?? ""
        let model =
            cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
        let memTotal =
            (readSmallFile("/proc/meminfo") ?? "").split(separator: "\n").first { $0.hasPrefix("MemTotal:") }
            .flatMap { $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first }
            .flatMap { UInt64($0) } ?? 0
        return HostFacts(
            kernelRelease: release, cpuModel: model, cores: ProcessInfo.processInfo.activeProcessorCount,
            memoryBytes: memTotal * 1024)
    }
}

extension ProcessInfo {
    /// `uname -m` ("x86_64"): what the size dimension reports, and what an
    /// OCI image's architecture is checked against.
    public var machineHardwareName: String? {
        var name = utsname()
        guard uname(&name) == 0 else { return nil }
        return withUnsafeBytes(of: &name.machine) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
