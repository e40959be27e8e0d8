import Foundation
import MVMCore

/// Where and with what a comparison ran, so that a result can be read (and
/// compared with another) without guessing.
public struct EnvironmentFingerprint: Sendable, Codable, Equatable {
    public var hostKernel: String
    public var cpuModel: String
    public var cores: Int
    public var memoryBytes: UInt64
    public var accelerator: String
    public var acceleratorReason: String
    /// Tool versions by name: qemu, libvirt, runc.
    public var versions: [String: String]
    /// sha256 of each image (images/out/manifest.json).
    public var images: [String: String]
    public var mvmVersion: String
    public var gitCommit: String
    public var startedAt: Date
    public var finishedAt: Date

    public init(
        hostKernel: String, cpuModel: String, cores: Int, memoryBytes: UInt64, accelerator: String,
        acceleratorReason: String, versions: [String: String], images: [String: String], mvmVersion: String,
        gitCommit: String, startedAt: Date, finishedAt: Date
    ) {
        self.hostKernel = hostKernel
        self.cpuModel = cpuModel
        self.cores = cores
        self.memoryBytes = memoryBytes
        self.accelerator = accelerator
        self.acceleratorReason = acceleratorReason
        self.versions = versions
        self.images = images
        self.mvmVersion = mvmVersion
        self.gitCommit = gitCommit
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}

/// Everything one `mvm compare` produced: raw samples, their statistics, and
/// the environment. The JSON export is this value (schema documented in the
/// README); its samples reproduce every printed figure.
public struct ComparisonReport: Sendable, Codable, Equatable {
    public static let schemaVersion = 1

    public var schema = ComparisonReport.schemaVersion
    public var environment: EnvironmentFingerprint
    public var plan: ComparisonPlan
    public var bootstrap: BootstrapSettings
    /// Contender names in report order.
    public var contenders: [String]
    /// The role each contender played (what its ratios and sections mean).
    public var roles: [String: ContenderRole]
    /// What a reader must know to read the figures (from the launchers).
    public var caveats: [String]
    /// The limits each contender went without (a rootless container without
    /// delegated cgroups); absent when every contender had its limits.
    public var unappliedLimits: [String: [String]]?
    public var samples: [InstanceSample]
    public var summary: ComparisonSummary
    /// True when the comparison was interrupted: the samples are those of
    /// the runs that completed. Absent from a complete report.
    public var partial: Bool?
    /// What `--dimensions` asked for; absent means boot only.
    public var measuredDimensions: [ComparisonDimension]?
    /// The sections beyond boot, when asked for.
    public var dimensions: DimensionResults?
    /// One traced start per contender (`--trace`, and every nightly run),
    /// by contender name; never samples.
    public var traces: [String: ContenderTrace]?

    /// Whether the boot table was measured (it is unless `--dimensions`
    /// left it out).
    public var includesBoot: Bool { measuredDimensions?.contains(.boot) ?? true }

    public init(
        environment: EnvironmentFingerprint, plan: ComparisonPlan, bootstrap: BootstrapSettings = .default,
        contenders: [String], roles: [String: ContenderRole], caveats: [String], samples: [InstanceSample]
    ) {
        self.environment = environment
        self.plan = plan
        self.bootstrap = bootstrap
        self.contenders = contenders
        self.roles = roles
        self.caveats = caveats
        self.samples = samples
        summary = ComparisonSummary(samples: samples, contenders: contenders, roles: roles, bootstrap: bootstrap)
    }

    public func jsonData() throws -> Data {
        try mvmJSONData(self)
    }

    public static func decode(_ data: Data) throws -> ComparisonReport {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(ComparisonReport.self, from: data)
    }
}

/// A contender's traced start: when it was asked for, where its time went,
/// and by how much tracing slowed it against the measured runs' median.
public struct ContenderTrace: Sendable, Codable, Equatable {
    public var requestedAt: Date
    public var trace: BootTrace?
    /// Why the traced start failed, when it did.
    public var failure: String?
    /// The median time to ready of the measured (untraced) runs.
    public var untracedReadyMedian: Double?

    public init(requestedAt: Date, trace: BootTrace?, failure: String? = nil, untracedReadyMedian: Double? = nil) {
        self.requestedAt = requestedAt
        self.trace = trace
        self.failure = failure
        self.untracedReadyMedian = untracedReadyMedian
    }

    /// Seconds tracing added to the time to ready (traced minus the
    /// untraced median); negative when the traced start was quicker.
    public var tracingCost: Double? {
        guard let trace, let untracedReadyMedian else { return nil }
        return trace.ready - untracedReadyMedian
    }
}
