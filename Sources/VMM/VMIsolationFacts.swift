import Foundation
import MVMCore

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// What stands between a micro-VM's guest and its host, read from the
/// running domain itself rather than from the XML mvm asked for: the
/// accelerator and machine libvirt and QEMU settled on, the devices QEMU
/// really emulates (each one guest-reachable code in the host process), and
/// the system calls that QEMU process may make on the host.
public struct VMIsolationFacts: Sendable, Codable, Equatable {
    /// `<domain type=...>` of the live XML: `qemu` (TCG, software
    /// emulation) or `kvm`, the accelerator libvirt really started QEMU with.
    public var domainType: String
    /// The machine type as QEMU resolved it (`<os><type machine=...>` of the
    /// live XML): `microvm`, or a versioned one such as `pc-i440fx-7.2` for `pc`.
    public var machine: String
    /// Device models in QEMU's device tree (`info qtree`, one per `dev:`
    /// line), in QEMU's order, repeated when a model has several instances.
    /// Buses and their controllers count, backends (chardevs, block nodes)
    /// do not: they are not devices a guest talks to.
    public var qtreeDevices: [String]
    /// Element children of `<devices>` in the live XML (`<emulator>` and
    /// the controllers libvirt added included): libvirt's view, to set
    /// against QEMU's.
    public var domainXMLDeviceCount: Int
    /// The QEMU process's seccomp confinement; nil when QEMU runs on
    /// another host (its /proc is out of reach).
    public var qemuSyscalls: SyscallExposure?

    /// The number of devices in QEMU's device tree.
    public var qtreeDeviceCount: Int { qtreeDevices.count }

    /// The accelerator `domainType` stands for; nil for a domain type mvm
    /// does not start.
    public var accelerator: Accelerator? {
        switch domainType {
        case "kvm": .kvm
        case "qemu": .tcg
        default: nil
        }
    }

    public init(
        domainType: String, machine: String, qtreeDevices: [String], domainXMLDeviceCount: Int,
        qemuSyscalls: SyscallExposure?
    ) {
        self.domainType = domainType
        self.machine = machine
        self.qtreeDevices = qtreeDevices
        self.domainXMLDeviceCount = domainXMLDeviceCount
        self.qemuSyscalls = qemuSyscalls
    }

    /// Reads the facts out of a live domain XML and the output of HMP
    /// `info qtree`.
    public init(liveXML: String, qtree: String, qemuSyscalls: SyscallExposure? = nil) throws(VMIsolationFactsError) {
        let document: XMLDocument
        do {
            document = try XMLDocument(xmlString: liveXML)
        } catch {
            throw .unparsableXML(describe(error))
        }
        guard let root = document.rootElement(), root.name == "domain" else {
            throw .missingInXML("a <domain> root element")
        }
        guard let domainType = root.attribute(forName: "type")?.stringValue else {
            throw .missingInXML("<domain type=...>")
        }
        let osType = root.elements(forName: "os").first?.elements(forName: "type").first
        guard let machine = osType?.attribute(forName: "machine")?.stringValue else {
            throw .missingInXML("<os><type machine=...>")
        }
        guard let devices = root.elements(forName: "devices").first else {
            throw .missingInXML("<devices>")
        }
        let deviceCount = (devices.children ?? []).filter { $0.kind == .element }.count
        self.init(
            domainType: domainType, machine: machine, qtreeDevices: Self.qtreeDevices(qtree),
            domainXMLDeviceCount: deviceCount, qemuSyscalls: qemuSyscalls)
    }

    /// The model names of `dev: NAME, id "ID"` lines of `info qtree`.
    public static func qtreeDevices(_ qtree: String) -> [String] {
        qtree.split(whereSeparator: \.isNewline).compactMap { line in
            let text = line.drop { $0 == " " || $0 == "\t" }
            guard text.hasPrefix("dev: ") else { return nil }
            let rest = text.dropFirst("dev: ".count)
            return String(rest.prefix { $0 != "," })
        }
    }
}

public enum VMIsolationFactsError: Error, CustomStringConvertible, Equatable, Sendable {
    case unparsableXML(String)
    case missingInXML(String)

    public var description: String {
        switch self {
        case .unparsableXML(let problem): "the live domain XML does not parse: \(problem)"
        case .missingInXML(let what): "the live domain XML has no \(what)"
        }
    }
}
