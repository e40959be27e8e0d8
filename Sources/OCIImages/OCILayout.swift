import Foundation
import MVMCore

/// What `--image` names: a path, and a tag when the path holds several
/// images (`layout:TAG`, as umoci and skopeo write it).
public struct ImageReference: Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var tag: String?

    /// `PATH` or `PATH:TAG`. A path that exists as given is never split, so
    /// a directory whose name has a colon still works.
    public init(_ argument: String) {
        if FileManager.default.fileExists(atPath: argument) {
            self.init(path: argument, tag: nil)
            return
        }
        guard let colon = argument.lastIndex(of: ":"), !argument[argument.index(after: colon)...].contains("/")
        else {
            self.init(path: argument, tag: nil)
            return
        }
        let tag = String(argument[argument.index(after: colon)...])
        self.init(path: String(argument[..<colon]), tag: tag.isEmpty ? nil : tag)
    }

    public init(path: String, tag: String?) {
        self.path = path
        self.tag = tag
    }

    public var description: String { tag.map { "\(path):\($0)" } ?? path }
}

/// The parts of the OCI image spec that mvm reads.
struct Descriptor: Codable, Sendable {
    var mediaType: String?
    var digest: String
    var size: Int64?
    var annotations: [String: String]?
    var platform: Platform?

    struct Platform: Codable, Sendable {
        var architecture: String
        var os: String
    }

    static let refName = "org.opencontainers.image.ref.name"
    var tag: String? { annotations?[Self.refName] }

    var isIndex: Bool {
        mediaType == "application/vnd.oci.image.index.v1+json"
            || mediaType == "application/vnd.docker.distribution.manifest.list.v2+json"
    }
}

struct ImageIndex: Codable, Sendable {
    var schemaVersion: Int
    var manifests: [Descriptor]
}

struct ImageManifest: Decodable, Sendable {
    var config: Descriptor
    var layers: [Descriptor]
}

/// The image's config blob: its platform and what it runs.
public struct ImageConfiguration: Codable, Sendable, Equatable {
    public var architecture: String
    public var os: String
    public var config: Process?

    /// The runtime settings; the spec spells their keys capitalised.
    public struct Process: Codable, Sendable, Equatable {
        public var entrypoint: [String]?
        public var cmd: [String]?
        public var env: [String]?
        public var workingDir: String?
        public var user: String?

        enum CodingKeys: String, CodingKey {
            case entrypoint = "Entrypoint"
            case cmd = "Cmd"
            case env = "Env"
            case workingDir = "WorkingDir"
            case user = "User"
        }
    }

    /// Entrypoint then cmd, as a runtime joins them.
    public var command: [String] { (config?.entrypoint ?? []) + (config?.cmd ?? []) }
    public var environment: [String] { config?.env ?? [] }
    public var workingDirectory: String {
        let directory = config?.workingDir ?? ""
        return directory.isEmpty ? "/" : directory
    }
}

/// An OCI image layout directory (oci-layout, index.json, blobs/), read.
struct OCILayout {
    let path: String

    /// Checks that `path` is a layout; reads nothing else.
    init(path: String) throws(ImageError) {
        let manager = FileManager.default
        guard manager.fileExists(atPath: path + "/oci-layout"), manager.fileExists(atPath: path + "/index.json")
        else {
            throw .notAnImage(path: path, detail: "a directory without oci-layout and index.json")
        }
        self.path = path
    }

    func index() throws(ImageError) -> ImageIndex {
        try decode(ImageIndex.self, at: path + "/index.json", what: "index.json")
    }

    func blobPath(_ digest: String) throws(ImageError) -> String {
        let parts = digest.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, parts[0] == "sha256", parts[1].allSatisfy(\.isHexDigit) else {
            throw .damaged(image: path, problem: "the digest \(digest) is not a sha256 digest")
        }
        return "\(path)/blobs/sha256/\(parts[1])"
    }

    func blob<T: Decodable>(_ type: T.Type, _ descriptor: Descriptor, what: String) throws(ImageError) -> T {
        try decode(type, at: try blobPath(descriptor.digest), what: "its \(what) \(descriptor.digest)")
    }

    private func decode<T: Decodable>(_ type: T.Type, at file: String, what: String) throws(ImageError) -> T {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw .damaged(image: path, problem: "\(what) is missing or unreadable")
        }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw .damaged(image: path, problem: "\(what) is not valid JSON of its kind")
        }
    }

    /// The manifest the reference chooses: by tag, or the only one; an
    /// index (a multi-platform image) gives the host's platform.
    func select(tag: String?, hostArchitecture: String, name: String) throws(ImageError) -> Descriptor {
        let manifests = try index().manifests
        let tags = manifests.compactMap(\.tag).sorted()
        var chosen: Descriptor
        if let tag {
            guard let match = manifests.first(where: { $0.tag == tag }) else {
                throw .noSuchTag(path: path, tag: tag, tags: tags)
            }
            chosen = match
        } else {
            guard manifests.count == 1, let only = manifests.first else {
                if manifests.isEmpty { throw .damaged(image: path, problem: "its index.json lists no image") }
                throw .ambiguous(path: path, tags: tags, untagged: manifests.count - tags.count)
            }
            chosen = only
        }
        if chosen.isIndex {
            let nested = try blob(ImageIndex.self, chosen, what: "image index")
            let platforms = nested.manifests.compactMap(\.platform)
            guard
                let match = nested.manifests.first(where: {
                    $0.platform?.architecture == hostArchitecture && $0.platform?.os == "linux"
                })
            else {
                let built = platforms.map { "\($0.os)/\($0.architecture)" }.joined(separator: ", ")
                throw .otherPlatform(
                    image: name, platform: built.isEmpty ? "no platform it names" : built,
                    host: "linux/\(hostArchitecture)")
            }
            chosen = match
        }
        return chosen
    }
}

/// The host's architecture as the OCI spec names it (GOARCH).
func hostOCIArchitecture() -> String {
    let machine = ProcessInfo.processInfo.machineHardwareName ?? "unknown"
    switch machine {
    case "x86_64": return "amd64"
    case "aarch64": return "arm64"
    case "i686", "i386": return "386"
    default: return machine
    }
}
