import Foundation
import MVMCore

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The serial console of a running domain, opened through libvirt
/// (`virDomainOpenConsole`) for `mvm console`: any domain with a pty serial
/// port, on any connection, remote ones included. Closing it (or dropping
/// it) lets go of the console; the domain runs on.
public final class DomainConsole: Sendable {
    public let name: String
    private let stream: StreamConsole

    fileprivate init(name: String, stream: StreamConsole) {
        self.name = name
        self.stream = stream
    }

    package var connection: SharedDescriptor { stream.console }

    public func close() { stream.close() }
}

extension DomainManager {
    /// Opens the console of the running domain `name`. Refused in one line
    /// when there is no such domain, when it does not run, when it has no
    /// serial port libvirt can stream (only a pty can be), and while
    /// another client has the console (mvm refuses rather than take it over,
    /// as `virsh console` without `--force` does).
    public func openConsole(named name: String) throws(VMMError) -> DomainConsole {
        let domain: Domain
        do {
            domain = try connection.lookupDomain(name: name)
        } catch {
            guard error.isNoDomain else { throw .libvirt(error) }
            throw .invalidConfiguration("there is no domain named \(name) on \(uri); mvm list shows mvm's running ones")
        }
        let (active, xml): (Bool, String)
        do { (active, xml) = (try domain.isActive(), try domain.liveXML()) } catch { throw .libvirt(error) }
        guard let serial = Self.serialType(in: xml) else {
            throw .invalidConfiguration(
                "domain \(name) has no serial console; give it a <serial type='pty'> port to use mvm console")
        }
        guard serial == "pty" else {
            let hint =
                serial == "unix" ? "; an mvm VM keeps its console for mvm console when booted with -it --keep" : ""
            throw .invalidConfiguration(
                "the serial console of domain \(name) is of type \(serial), which libvirt cannot stream (only a pty)\(hint)"
            )
        }
        guard active else { throw .invalidConfiguration("domain \(name) on \(uri) is not running; start it first") }
        let stream: Stream
        do {
            stream = try connection.makeStream()
            try domain.openConsole(into: stream, takeOver: false)
        } catch {
            guard error.isOperationFailed else { throw .libvirt(error) }
            throw .invalidConfiguration(
                "the console of \(name) is attached elsewhere (\(error.message)); detach it there first")
        }
        return DomainConsole(name: name, stream: try StreamConsole(stream: stream))
    }

    /// The type of the domain's first serial port (or console), nil when
    /// it has neither.
    static func serialType(in xml: String) -> String? {
        guard let document = try? XMLDocument(xmlString: xml),
            let port = try? document.nodes(forXPath: "/domain/devices/serial | /domain/devices/console").first
                as? XMLElement
        else { return nil }
        return port.attribute(forName: "type")?.stringValue
    }
}
