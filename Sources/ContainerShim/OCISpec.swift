/// The part of the OCI runtime specification's config.json that mvm writes
/// (https://github.com/opencontainers/runtime-spec/blob/main/config.md and
/// config-linux.md). Field names follow the spec; optional fields that are
/// nil are left out of the JSON.
public struct OCISpec: Codable, Sendable, Equatable {
    public var ociVersion = "1.0.2"
    public var process: Process
    public var root: Root
    public var hostname: String?
    public var mounts: [Mount]
    public var linux: Linux

    public struct Process: Codable, Sendable, Equatable {
        public var terminal = false
        public var user: User
        public var args: [String]
        public var env: [String]
        public var cwd = "/"
        public var capabilities: Capabilities
        public var rlimits: [Rlimit]
        public var noNewPrivileges = true
    }

    public struct User: Codable, Sendable, Equatable {
        public var uid: UInt32
        public var gid: UInt32
    }

    /// Capability sets; names are `CAP_*`.
    public struct Capabilities: Codable, Sendable, Equatable {
        public var bounding: [String]
        public var effective: [String]
        public var permitted: [String]
        public var ambient: [String]
    }

    public struct Rlimit: Codable, Sendable, Equatable {
        public var type: String
        public var hard: UInt64
        public var soft: UInt64
    }

    public struct Root: Codable, Sendable, Equatable {
        public var path: String
        public var readonly: Bool
    }

    public struct Mount: Codable, Sendable, Equatable {
        public var destination: String
        public var type: String
        public var source: String
        public var options: [String]?
    }

    public struct Linux: Codable, Sendable, Equatable {
        public var namespaces: [Namespace]
        public var uidMappings: [IDMapping]?
        public var gidMappings: [IDMapping]?
        public var resources: Resources?
        public var cgroupsPath: String?
        public var maskedPaths: [String]
        public var readonlyPaths: [String]
    }

    public struct Namespace: Codable, Sendable, Equatable {
        public var type: String
    }

    public struct IDMapping: Codable, Sendable, Equatable {
        public var containerID: UInt32
        public var hostID: UInt32
        public var size: UInt32
    }

    public struct Resources: Codable, Sendable, Equatable {
        public var devices: [DeviceRule]
        public var memory: Memory?
        public var cpu: CPU?
        public var pids: Pids?
    }

    public struct DeviceRule: Codable, Sendable, Equatable {
        public var allow: Bool
        public var access: String
    }

    public struct Memory: Codable, Sendable, Equatable {
        /// Bytes.
        public var limit: Int64
        /// Memory plus swap, bytes: equal to `limit` means no swap.
        public var swap: Int64?
    }

    public struct CPU: Codable, Sendable, Equatable {
        /// Microseconds of CPU time per `period`: vCPUs × period.
        public var quota: Int64?
        public var period: UInt64?
        /// The CPUs the container may run on (cpuset list, "0-1").
        public var cpus: String?
    }

    public struct Pids: Codable, Sendable, Equatable {
        public var limit: Int64
    }
}
