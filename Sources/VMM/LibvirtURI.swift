import Foundation

/// A libvirt connection URI, parsed once: `driver[+transport]://[host]/path[?query]`
/// (`qemu:///embed?root=/var/lib/mvm/libvirt`, `qemu:///system`,
/// `qemu+ssh://root@host/system`). What mvm needs to know about a
/// connection comes from here, never from string prefixes elsewhere.
public struct LibvirtURI: Sendable, Hashable, CustomStringConvertible {
    /// The user Debian's libvirt runs QEMU as when it runs as root: the
    /// system daemon, and root's embedded driver (a non-root driver runs
    /// QEMU as its own user).
    public static let rootQEMUUser = "libvirt-qemu"

    /// The URI as given.
    public let text: String
    /// `qemu`, `test`, ...
    public let driver: String
    /// `ssh`, `tcp`, `unix`, ...; nil when the URI names none.
    public let transport: String?
    /// The authority (`root@host:2222`); empty for this machine.
    public let authority: String
    /// `/system`, `/session`, `/embed`, `/default`, ...
    public let path: String
    /// The query's parameters in order.
    public let parameters: [(name: String, value: String)]

    public init(parsing text: String) throws(VMMError) {
        guard let schemeEnd = text.range(of: "://") else {
            throw .invalidConfiguration(
                "\(text) is not a libvirt URI: use driver[+transport]://[host]/path, e.g. qemu:///system")
        }
        let scheme = text[..<schemeEnd.lowerBound]
        let parts = scheme.split(separator: "+", maxSplits: 1, omittingEmptySubsequences: false)
        let rest = text[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        let path = rest.dropFirst(authority.count).prefix { $0 != "?" }
        let query = rest.dropFirst(authority.count + path.count).dropFirst()
        guard let driver = parts.first, !driver.isEmpty, driver.allSatisfy({ $0.isLetter || $0.isNumber }),
            parts.count == 1 || !parts[1].isEmpty, !text.contains(where: { $0.isWhitespace || $0.isNewline })
        else {
            throw .invalidConfiguration(
                "\(text) is not a libvirt URI: use driver[+transport]://[host]/path, e.g. qemu:///system")
        }
        self.text = text
        self.driver = String(driver)
        transport = parts.count == 2 ? String(parts[1]) : nil
        self.authority = String(authority)
        self.path = String(path)
        parameters = query.split(separator: "&").map { pair in
            let name = pair.prefix { $0 != "=" }
            return (String(name), String(pair.dropFirst(name.count + 1)))
        }
    }

    /// libvirt's embedded QEMU driver rooted at `root`: no daemon needed.
    public static func embedded(root: String) -> LibvirtURI {
        LibvirtURI(text: "qemu:///embed?root=" + root, root: root)
    }

    private init(text: String, root: String) {
        self.text = text
        driver = "qemu"
        transport = nil
        authority = ""
        path = "/embed"
        parameters = [("root", root)]
    }

    public var description: String { text }

    public static func == (lhs: LibvirtURI, rhs: LibvirtURI) -> Bool { lhs.text == rhs.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }

    public func parameter(_ name: String) -> String? {
        parameters.first { $0.name == name }?.value
    }

    /// No remote host: the domain's QEMU runs on this machine, so mvm can
    /// share a socket with it and read its /proc entry.
    public var isLocal: Bool {
        let host = authority.split(separator: "@").last.map { $0.prefix { $0 != ":" } } ?? ""
        return host.isEmpty || host == "localhost"
    }

    /// libvirt's QEMU driver inside this process (`qemu:///embed?root=...`).
    public var isEmbedded: Bool { driver == "qemu" && authority.isEmpty && path == "/embed" }

    /// The embedded driver's root directory.
    public var embeddedRoot: String? { isEmbedded ? parameter("root") : nil }

    /// The file the embedded driver writes a domain's QEMU output to (its
    /// qemu.conf says `stdio_handler = "file"`). libvirt keeps it after the
    /// domain is gone, so mvm removes it with the domain: its names are
    /// random, and the files would pile up in the state directory. A daemon's
    /// logs are the daemon's (virtlogd, rotated by the host) and stay.
    public func embeddedQEMULogPath(domain name: String) -> String? {
        embeddedRoot.map { $0 + "/log/qemu/" + name + ".log" }
    }

    /// A connection to a libvirt daemon (libvirtd, virtqemud), local or remote.
    public var isDaemon: Bool { !isEmbedded }

    /// The administration URIs of the local daemon that serves this URI
    /// (virtqemud's where the modular daemons run, else libvirtd's), for
    /// its log settings; empty when no local daemon does.
    public func daemonAdminURIs(
        socketExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }
    ) -> [String] {
        guard driver == "qemu", isLocal, !isEmbedded, path == "/system" || path == "/session" else { return [] }
        let directory =
            path == "/system"
            ? "/run/libvirt"
            : (ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"] ?? "/run/user/\(getuid())") + "/libvirt"
        let modular = socketExists(directory + "/virtqemud-admin-sock")
        return [(modular ? "virtqemud://" : "libvirtd://") + path]
    }

    /// libvirt destroys a domain started with AUTODESTROY when the
    /// connection closes. The embedded driver cannot ("Domain autodestroy
    /// not supported for embedded drivers yet"); mvm's teardown registry
    /// does that job there.
    public var supportsAutoDestroy: Bool { !isEmbedded }

    /// Where libvirt's QEMU driver keeps its pid files, for local URIs.
    public func qemuRunDirectory(
        runtimeDirectory: String = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"] ?? "/run/user/\(getuid())"
    ) -> String? {
        guard driver == "qemu", isLocal else { return nil }
        if let root = embeddedRoot { return root + "/run/qemu" }
        switch path {
        case "/system": return "/run/libvirt/qemu"
        case "/session": return runtimeDirectory + "/libvirt/qemu/run"
        default: return nil
        }
    }

    /// Once a process has opened the embedded QEMU driver, libvirt hands it
    /// every later `qemu:///...` URI (which then asks for `root`), and its
    /// remote driver declines local URIs that name no socket. Naming the UNIX
    /// transport and the daemon's socket sends `qemu:///system` and
    /// `qemu:///session` to the daemon, as they go in a process that never
    /// embedded the driver. Other URIs, and ones that name a socket, stay.
    public func routedThroughDaemon(
        runtimeDirectory: String = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"] ?? "/run/user/\(getuid())",
        socketExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }
    ) -> LibvirtURI {
        guard driver == "qemu", transport == nil || transport == "unix", authority.isEmpty,
            path == "/system" || path == "/session", parameter("socket") == nil
        else { return self }
        // libvirtd's socket, or virtqemud's where the modular daemons run.
        let directory = path == "/system" ? "/run/libvirt" : runtimeDirectory + "/libvirt"
        let modular = directory + "/virtqemud-sock"
        let socket = socketExists(modular) ? modular : directory + "/libvirt-sock"
        let query = (parameters.map { $0.name + "=" + $0.value } + ["socket=" + socket]).joined(separator: "&")
        return (try? LibvirtURI(parsing: "qemu+unix://\(path)?\(query)")) ?? self
    }
}
