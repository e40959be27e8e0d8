import Foundation

/// Where mvm keeps its state: the embedded libvirt driver's root, console
/// sockets, container bundles. Everything an instance creates lives below it.
public struct StateDirectory: Sendable, Hashable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// `MVM_STATE_DIR`, else /var/lib/mvm for root, else
    /// `$XDG_STATE_HOME/mvm` (or ~/.local/state/mvm).
    public static func defaultLocation(environment: [String: String] = ProcessInfo.processInfo.environment)
        -> StateDirectory
    {
        if let explicit = environment["MVM_STATE_DIR"], !explicit.isEmpty {
            return StateDirectory(path: explicit)
        }
        if getuid() == 0 { return StateDirectory(path: "/var/lib/mvm") }
        if let state = environment["XDG_STATE_HOME"], !state.isEmpty {
            return StateDirectory(path: state + "/mvm")
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return StateDirectory(path: home + "/.local/state/mvm")
    }

    public func subdirectory(_ name: String) -> String {
        path + "/" + name
    }

    /// Creates `subdirectory(name)` (and parents) if needed; returns its path.
    /// `permissions` applies to the subdirectory itself.
    public func ensureSubdirectory(_ name: String, permissions: Int16 = 0o755) throws(SystemFailure) -> String {
        let directory = subdirectory(name)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try FileManager.default.setAttributes([.posixPermissions: permissions], ofItemAtPath: directory)
        } catch {
            throw SystemFailure(
                "cannot create \(directory)", underlying: error,
                advice: "use a writable state directory with free space")
        }
        return directory
    }

    /// Creates the state directory itself if needed.
    /// Made 0711: others may pass through (QEMU under the system daemon runs
    /// as libvirt-qemu and reaches its console socket) but not list or read.
    public func ensureExists() throws(SystemFailure) {
        do {
            if !FileManager.default.fileExists(atPath: path) {
                try FileManager.default.createDirectory(
                    atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
            }
        } catch {
            throw SystemFailure(
                "cannot create state directory \(path)", underlying: error,
                advice: "use a writable state directory with free space")
        }
    }
}

/// The images that images/build.sh makes (see images/out/manifest.json).
public struct ImageSet: Sendable, Hashable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// Minimal kernel, uncompressed ELF with a PVH entry (microvm).
    public var minimalVmlinux: String { directory + "/vmlinux" }
    /// Minimal kernel as a bzImage (pc machine).
    public var minimalBzImage: String { directory + "/bzImage" }
    /// Debian's cloud kernel, the ordinary-VM reference.
    public var stockKernel: String { directory + "/stock-vmlinuz" }
    public var initramfs: String { directory + "/initramfs.cpio" }
    /// The same tree as the initramfs, for containers.
    public var rootfs: String { directory + "/rootfs" }
    public var manifest: String { directory + "/manifest.json" }
    /// mvm's init for a user's OCI image (images/init/image-init).
    public var imageInit: String { directory + "/image-init" }

    /// `MVM_IMAGES`, else the `images/out` folder of the checkout this
    /// executable was built in, else the images installed beside it
    /// (`<prefix>/share/mvm/images` for `<prefix>/bin/mvm`). Never the
    /// current directory: mvm works the same from anywhere.
    public static func defaultLocation(
        environment: [String: String] = ProcessInfo.processInfo.environment, executable: String = "/proc/self/exe"
    ) -> ImageSet {
        if let explicit = environment["MVM_IMAGES"], !explicit.isEmpty {
            return ImageSet(directory: explicit)
        }
        let binary = URL(fileURLWithPath: executable).resolvingSymlinksInPath()
        let installed = binary.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
            "share/mvm/images")
        var folder = binary.deletingLastPathComponent()
        while folder.path != "/" {
            let candidate = folder.appendingPathComponent("images/out")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("manifest.json").path) {
                return ImageSet(directory: candidate.path)
            }
            folder = folder.deletingLastPathComponent()
        }
        return ImageSet(directory: installed.path)
    }

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
}

/// `path` made absolute against the current directory: what libvirt and the
/// runtimes need of a path typed on the command line.
public func absolutePath(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
}
