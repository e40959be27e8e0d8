import Compare
import Crypto
import Foundation
import MVMCore

/// The facts of a host that do not drift, and their hash: runs compare with
/// each other only when their host keys match.
///
/// Memory is rounded to whole GiB because MemTotal moves by a few hundred
/// KiB when the kernel changes (its own reservations), and a kernel change is
/// a stack fact, not a new machine. Load, clock speed and bogomips drift from
/// run to run; they are recorded with each run (`HostConditions`), never hashed.
public struct HostIdentity: Sendable, Codable, Equatable, Hashable {
    public var cpuModel: String
    public var cores: Int
    public var memoryGiB: Int
    public var hostname: String
    /// /etc/machine-id (or D-Bus's copy); empty where the host has none.
    public var machineID: String

    public init(cpuModel: String, cores: Int, memoryGiB: Int, hostname: String, machineID: String) {
        self.cpuModel = cpuModel
        self.cores = cores
        self.memoryGiB = memoryGiB
        self.hostname = hostname
        self.machineID = machineID
    }

    public init(
        host: HostFacts, hostname: String = ProcessInfo.processInfo.hostName,
        machineID: String = HostIdentity.readMachineID()
    ) {
        self.init(
            cpuModel: host.cpuModel, cores: host.cores,
            memoryGiB: Int((Double(host.memoryBytes) / Double(1 << 30)).rounded()), hostname: hostname,
            machineID: machineID)
    }

    /// First 16 hex digits of the SHA-256 of the facts, one per line.
    public var key: String {
        stableHash([
            "cpu=\(cpuModel)", "cores=\(cores)", "memory-gib=\(memoryGiB)", "hostname=\(hostname)",
            "machine-id=\(machineID)",
        ])
    }

    public static func readMachineID() -> String {
        for path in ["/etc/machine-id", "/var/lib/dbus/machine-id"] {
            if let text = readSmallFile(path)?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty {
                return text
            }
        }
        return ""
    }
}

/// What was measured: runs compare with each other only when their plans
/// match. The seed is left out on purpose: it only orders the runs.
public struct PlanIdentity: Sendable, Codable, Equatable, Hashable {
    public var contenders: [String]
    public var memoryMiB: Int
    public var vcpus: Int
    public var accelerator: String
    public var runs: Int
    public var warmup: Int
    public var concurrency: Int
    /// The user's own images and kernel arguments (`--kernel`, `--initrd`,
    /// `--append`, `--machine`, `--rootfs`), as given; nil: mvm's own.
    /// Their bytes are stack facts: a kernel rebuilt at the same path is a
    /// change in the same series, as mvm's own images are.
    public var workload: String?

    public init(
        contenders: [String], memoryMiB: Int, vcpus: Int, accelerator: String, runs: Int, warmup: Int, concurrency: Int,
        workload: String? = nil
    ) {
        self.contenders = contenders
        self.memoryMiB = memoryMiB
        self.vcpus = vcpus
        self.accelerator = accelerator
        self.runs = runs
        self.warmup = warmup
        self.concurrency = concurrency
        self.workload = workload
    }

    /// mvm's own workload keeps the key it had before plans could name one.
    public var key: String {
        stableHash(
            [
                "contenders=\(contenders.sorted().joined(separator: ","))", "memory-mib=\(memoryMiB)", "vcpus=\(vcpus)",
                "accelerator=\(accelerator)", "runs=\(runs)", "warmup=\(warmup)", "concurrency=\(concurrency)",
            ] + (workload.map { ["workload=\($0)"] } ?? []))
    }

    /// "vm,container · 128 MiB · 1 vCPU · tcg · 10 runs"
    public var description: String {
        "\(contenders.joined(separator: ",")) · \(memoryMiB) MiB · \(vcpus) vCPU · \(accelerator) · \(runs) runs"
            + (concurrency > 1 ? " ×\(concurrency)" : "") + (workload.map { " · \($0)" } ?? "")
    }
}

/// What the measured things were made of. Not part of any key: a change here
/// is what a nightly job exists to catch, and verdicts name it.
public struct StackFacts: Sendable, Codable, Equatable {
    public var hostKernel: String
    /// Tool versions by name: qemu, libvirt, runtime.
    public var versions: [String: String]
    /// sha256 of each image.
    public var images: [String: String]
    /// sha256 of the micro-VM's domain XML (name left out).
    public var domainXML: String
    public var mvmVersion: String
    public var gitCommit: String

    public init(
        hostKernel: String, versions: [String: String], images: [String: String], domainXML: String, mvmVersion: String,
        gitCommit: String
    ) {
        self.hostKernel = hostKernel
        self.versions = versions
        self.images = images
        self.domainXML = domainXML
        self.mvmVersion = mvmVersion
        self.gitCommit = gitCommit
    }

    /// Every fact as (name, value), in a fixed order.
    public var entries: [(String, String)] {
        var entries: [(String, String)] = [("kernel", hostKernel)]
        entries += versions.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        entries += images.sorted { $0.key < $1.key }.map { ("image \($0.key)", String($0.value.prefix(12))) }
        entries += [
            ("domain-xml", String(domainXML.prefix(12))), ("mvm", mvmVersion), ("commit", String(gitCommit.prefix(12))),
        ]
        return entries
    }

    /// What differs from `earlier`: "qemu 7.2.0 → 8.0.0".
    public func changes(since earlier: StackFacts) -> [String] {
        let before = Dictionary(earlier.entries, uniquingKeysWith: { first, _ in first })
        let after = Dictionary(entries, uniquingKeysWith: { first, _ in first })
        var changes: [String] = []
        for (name, value) in entries where before[name] != value {
            changes.append("\(name) \(before[name] ?? "none") → \(value)")
        }
        for (name, value) in earlier.entries where after[name] == nil {
            changes.append("\(name) \(value) → none")
        }
        return changes
    }
}

/// Readings that drift and are recorded with a run, never hashed: the
/// pre-flight check's load and steal at the start and the end.
public struct HostConditions: Sendable, Codable, Equatable {
    public var loadAverageAtStart: Double
    public var loadAverageAtEnd: Double
    /// Share of CPU time stolen by the hypervisor over the run (0...1).
    public var stealFraction: Double
    /// MHz of the first CPU and bogomips, as /proc/cpuinfo said at the start.
    public var cpuMHz: Double?
    public var bogomips: Double?
    /// Other mvm, QEMU or runc processes seen at the start or the end.
    public var intruders: [String]

    public init(
        loadAverageAtStart: Double, loadAverageAtEnd: Double, stealFraction: Double, cpuMHz: Double?, bogomips: Double?,
        intruders: [String]
    ) {
        self.loadAverageAtStart = loadAverageAtStart
        self.loadAverageAtEnd = loadAverageAtEnd
        self.stealFraction = stealFraction
        self.cpuMHz = cpuMHz
        self.bogomips = bogomips
        self.intruders = intruders
    }

    /// A host whose one-minute load stayed under half a core per core at both
    /// ends, with under 5 % steal, counts as quiet.
    public func isQuiet(cores: Int) -> Bool {
        let limit = Double(max(cores, 1)) * 0.5
        return loadAverageAtStart < limit && loadAverageAtEnd < limit && stealFraction < 0.05
    }
}

/// First 16 hex digits of the SHA-256 of `lines` joined by newlines.
func stableHash(_ lines: [String]) -> String {
    sha256Hex(Data(lines.joined(separator: "\n").utf8)).prefix(16).description
}

public func sha256Hex(_ data: Data) -> String {
    SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
}
