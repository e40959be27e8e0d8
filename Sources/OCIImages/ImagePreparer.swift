import Foundation
import MVMCore
import Subprocess
import SystemPackage

/// Turns an OCI image on disk into a `PreparedImage`, once per manifest
/// digest: unpacks it with umoci, adds mvm's image init, packs the
/// initramfs. Never pulls: a measurement must not depend on a network.
public struct ImagePreparer: Sendable {
    public let stateDirectory: StateDirectory
    /// mvm's image init and the static busybox it runs on.
    public let initScript: String
    public let busybox: String

    public init(stateDirectory: StateDirectory, images: ImageSet) {
        self.stateDirectory = stateDirectory
        initScript = images.imageInit
        busybox = images.rootfs + "/bin/busybox"
    }

    /// Reads, checks and (unless cached) unpacks the image `reference` names.
    public func prepare(_ reference: ImageReference) async throws(ImageError) -> PreparedImage {
        let path = URL(fileURLWithPath: reference.path).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .notFound(path: reference.path)
        }
        for (file, name) in [(initScript, "mvm's image init"), (busybox, "the static busybox")]
        where !FileManager.default.isReadableFile(atPath: file) {
            throw .tool(
                name: file, problem: "(\(name)) is missing",
                advice: "build the images (images/build.sh) or point MVM_IMAGES at them")
        }
        let cache: String
        do throws(SystemFailure) {
            cache = try stateDirectory.ensureSubdirectory(Self.cacheName, permissions: 0o755)
        } catch {
            throw .system(error.description)
        }
        let work = cache + "/" + Self.partialPrefix + "\(getpid())-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: work) }
        do {
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: false)
        } catch {
            throw .system("cannot create \(work): \(error.localizedDescription); use a writable state directory")
        }
        let layout: OCILayout
        var tag = reference.tag
        if isDirectory.boolValue {
            layout = try OCILayout(path: path)
        } else {
            layout = try await Self.convertArchive(path, tag: reference.tag, into: work + "/converted")
            tag = nil
        }
        let architecture = hostOCIArchitecture()
        let chosen = try layout.select(tag: tag, hostArchitecture: architecture, name: reference.description)
        let manifest = try layout.blob(ImageManifest.self, chosen, what: "manifest")
        let configuration = try layout.blob(ImageConfiguration.self, manifest.config, what: "config")
        guard configuration.os == "linux", configuration.architecture == architecture else {
            throw .otherPlatform(
                image: reference.description, platform: "\(configuration.os)/\(configuration.architecture)",
                host: "linux/\(architecture)")
        }
        guard !configuration.command.isEmpty else { throw .noCommand(image: reference.description) }
        let digest = chosen.digest
        // Named by the image and by mvm's init: a new init makes a new tree.
        let final = cache + "/" + digest.replacing(":", with: "-") + "-" + initKey()
        if let cached = Self.load(final), cached.configuration == configuration {
            return PreparedImage(
                reference: reference.description, digest: digest, configuration: configuration,
                rootfs: cached.rootfs, initramfs: cached.initramfs, initramfsBytes: cached.initramfsBytes)
        }
        let tree = try await unpack(chosen, of: layout, into: work)
        try TreeCommand.check(configuration, tree: tree, image: reference.description)
        try installInit(configuration, tree: tree)
        let initramfsBytes = try await Initramfs.pack(tree: tree, into: work + "/initramfs.cpio")
        let prepared = PreparedImage(
            reference: reference.description, digest: digest, configuration: configuration,
            rootfs: final + "/rootfs", initramfs: final + "/initramfs.cpio", initramfsBytes: initramfsBytes)
        try? FileManager.default.removeItem(atPath: work + "/converted")
        try? FileManager.default.removeItem(atPath: work + "/layout")
        do {
            try writeJSON(prepared, to: work + "/image.json")
            // Another mvm may have made it meanwhile: theirs is as good.
            if rename(work, final) != 0, Self.load(final) == nil {
                throw SystemFailure("cannot move \(work) to \(final)", underlying: Errno(rawValue: errno))
            }
        } catch {
            throw .system("\(error)")
        }
        return prepared
    }

    /// `<state>/oci`: one folder per prepared image, named by its digest.
    static let cacheName = "oci"

    /// The tools `prepare` needs (umoci, skopeo, cpio) that it would not
    /// find: what `mvm doctor` reports.
    public static func missingTools() -> [String] { Tools.missing() }

    /// Where a preparation works until it renames its folder into place;
    /// named by its process, so that `mvm gc` knows an abandoned one.
    static let partialPrefix = ".partial-"

    /// Half-made image folders whose mvm is gone (killed while unpacking).
    public static func abandonedWork(in stateDirectory: StateDirectory) -> [String] {
        let cache = stateDirectory.subdirectory(cacheName)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []
        return entries.filter { entry in
            guard entry.hasPrefix(partialPrefix),
                let pid = Int32(entry.dropFirst(partialPrefix.count).prefix { $0 != "-" })
            else { return false }
            return kill(pid, 0) != 0 && errno == ESRCH
        }.sorted().map { cache + "/" + $0 }
    }

    /// The version of mvm's image init and busybox, as image staging keys
    /// its copies: from their inodes, sizes and ctimes, without reading
    /// 2 MiB of busybox on every run.
    private func initKey() -> String {
        String(
            ImageStaging.fnv1a(ImageStaging.identity(of: initScript) + "\n" + ImageStaging.identity(of: busybox)),
            radix: 16)
    }

    private static func load(_ folder: String) -> PreparedImage? {
        guard let data = FileManager.default.contents(atPath: folder + "/image.json") else { return nil }
        return try? mvmJSONDecoder().decode(PreparedImage.self, from: data)
    }

    /// A `docker save` (or `podman save`, or OCI) archive, copied by skopeo
    /// into a layout of one image.
    private static func convertArchive(_ archive: String, tag: String?, into folder: String) async throws(ImageError)
        -> OCILayout
    {
        var reasons: [String] = []
        for transport in ["docker-archive", "oci-archive"] {
            let source = "\(transport):\(archive)" + (tag.map { ":" + $0 } ?? "")
            let result = try await Tools.run("skopeo", ["copy", "--quiet", source, "oci:\(folder):mvm"])
            if result.succeeded { return try OCILayout(path: folder) }
            reasons.append(result.lastLine)
            try? FileManager.default.removeItem(atPath: folder)
        }
        throw .notAnImage(path: archive, detail: "skopeo: \(reasons.first ?? "failed")")
    }

    /// The chosen manifest's tree, by umoci, through a layout of its own
    /// whose index names only that manifest (umoci needs a tag; the user's
    /// layout is never written).
    private func unpack(_ chosen: Descriptor, of layout: OCILayout, into work: String) async throws(ImageError)
        -> String
    {
        let scratch = work + "/layout"
        var descriptor = chosen
        descriptor.annotations = [Descriptor.refName: "mvm"]
        descriptor.platform = nil
        do {
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: layout.path + "/oci-layout", toPath: scratch + "/oci-layout")
            try FileManager.default.createSymbolicLink(
                atPath: scratch + "/blobs",
                withDestinationPath: URL(fileURLWithPath: layout.path + "/blobs").standardizedFileURL.path)
            try writeJSON(ImageIndex(schemaVersion: 2, manifests: [descriptor]), to: scratch + "/index.json")
        } catch {
            throw .system("cannot write \(scratch): \(error)")
        }
        let tree = work + "/rootfs"
        var arguments = ["raw", "unpack"]
        // An ordinary user cannot chown; umoci then keeps the files as theirs.
        if geteuid() != 0 { arguments.append("--rootless") }
        let result = try await Tools.run("umoci", arguments + ["--image", scratch + ":mvm", tree])
        guard result.succeeded else {
            throw .tool(
                name: "umoci", problem: "could not unpack \(layout.path) (\(result.lastLine))",
                advice: "check the image's layers (umoci raw unpack), or export it again")
        }
        // umoci makes the tree's root 0700: the VM's and the container's
        // users must reach it.
        chmod(tree, 0o755)
        return tree
    }

    /// /.mvm: mvm's image init, a static busybox, and the workload file.
    private func installInit(_ configuration: ImageConfiguration, tree: String) throws(ImageError) {
        let folder = tree + "/" + PreparedImage.directory
        var environment = configuration.environment
        // As Docker does: an image without PATH gets the usual one.
        if !environment.contains(where: { $0.hasPrefix("PATH=") }) {
            environment.insert(TreeCommand.defaultPath, at: 0)
        }
        let script = workloadScript(
            command: configuration.command, environment: environment,
            workingDirectory: configuration.workingDirectory)
        do {
            try? FileManager.default.removeItem(atPath: folder)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
            try FileManager.default.copyItem(atPath: busybox, toPath: folder + "/busybox")
            try FileManager.default.copyItem(atPath: initScript, toPath: folder + "/init")
            try Data(script.utf8).write(to: URL(fileURLWithPath: folder + "/workload"))
            // A fixed time, so that the initramfs of one image is the same
            // bytes on every host.
            let epoch = Date(timeIntervalSince1970: TimeInterval(Initramfs.epoch))
            for (name, mode) in [("busybox", 0o755), ("init", 0o755), ("workload", 0o644), ("", 0o755)] {
                let path = name.isEmpty ? folder : folder + "/" + name
                try FileManager.default.setAttributes(
                    [.posixPermissions: mode, .modificationDate: epoch], ofItemAtPath: path)
            }
        } catch {
            throw .system("cannot add mvm's image init to \(tree): \(error)")
        }
    }
}

/// Writes `value` as mvm writes JSON everywhere.
func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
    try mvmJSONData(value).write(to: URL(fileURLWithPath: path))
}
