import Foundation

/// The host's hardware and kernel, for environment fingerprints.
public struct HostFacts: Sendable, Codable, Equatable {
    public var kernelRelease: String
    public var cpuModel: String
    public var cores: Int
    public var memoryBytes: UInt64

    public static func probe() -> HostFacts {
        let release = readSmallFile("/proc/sys/kernel/osrelease")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
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

extension ImageSet {
    /// sha256 of each output, from manifest.json (empty when it is missing).
    public func manifestHashes() -> [String: String] {
        guard
            let data = FileManager.default.contents(atPath: manifest),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let outputs = object["outputs"] as? [String: Any]
        else { return [:] }
        var hashes: [String: String] = [:]
        for (name, entry) in outputs {
            if let hash = (entry as? [String: Any])?["sha256"] as? String { hashes[name] = hash }
        }
        return hashes
    }

    /// The checkout the images belong to (images/out is two levels down).
    public var checkoutDirectory: String {
        URL(fileURLWithPath: directory).deletingLastPathComponent().deletingLastPathComponent().path
    }
}
