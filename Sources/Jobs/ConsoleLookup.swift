import MVMCore
import VMM

/// `mvm console NAME`: the console of a kept instance, found the way it
/// was kept. A VM or container kept with `-it --keep` on this machine has
/// a relay (`ConsoleRelay`) that holds its console; a domain on a libvirt
/// daemon with a pty serial port is reached through libvirt's console
/// stream, remote ones included. Anything else is refused in one line
/// that says why and what to do.
public final class OpenedConsole: Sendable {
    public let name: String
    package let connection: SharedDescriptor
    /// Kept open for as long as the attachment lasts.
    private let domainConsole: DomainConsole?

    init(name: String, connection: SharedDescriptor, domainConsole: DomainConsole? = nil) {
        self.name = name
        self.connection = connection
        self.domainConsole = domainConsole
    }

    public func close() {
        connection.close()
        domainConsole?.close()
    }
}

public enum ConsoleLookup {
    /// Opens the console of `name`. `connectURI` nil: mvm's embedded driver
    /// under `stateDirectory`, where only a relay can hold a kept console.
    public static func open(name: String, stateDirectory: StateDirectory, connectURI: String?) async throws
        -> OpenedConsole
    {
        let consoles = stateDirectory.subdirectory("consoles")
        let owner = OwnerRecords(stateDirectory: stateDirectory).owner(of: name)
        var relayEnded = false
        do throws(ConsoleRelayError) {
            let connection = try ConsoleRelay.attach(
                socketPath: ConsoleRelay.socketPath(consoles: consoles, name: name))
            return OpenedConsole(name: name, connection: connection)
        } catch {
            switch error {
            case .busy(let holder):
                let who = holder.map { " (mvm console, pid \($0))" } ?? ""
                throw ConsoleLookupError(
                    "the console of \(name) is attached in another terminal\(who); detach there with Ctrl-] first")
            case .system(let failure):
                throw ConsoleLookupError("cannot reach the console of \(name): \(failure)")
            case .relayGone where owner == nil:
                throw ConsoleLookupError("\(name) has stopped (its console socket is left over); mvm gc removes it")
            case .relayGone:
                relayEnded = true
            case .noRelay:
                break
            }
        }
        if let owner {
            if !owner.kept {
                if owner.ownerIsAlive {
                    throw ConsoleLookupError(
                        "\(name) belongs to a running mvm (pid \(owner.pid)), which holds its console until it is done")
                }
                throw ConsoleLookupError(
                    "\(name) was left behind by an mvm that is gone (pid \(owner.pid)): nothing holds its console; mvm gc removes it"
                )
            }
            if relayEnded {
                throw ConsoleLookupError(
                    "the console relay of \(name) has ended (killed?): nothing holds its console any more; mvm destroy \(name) removes it"
                )
            }
            if owner.kind == "container" {
                throw ConsoleLookupError(
                    "container \(name) was kept without a terminal; start one with mvm run -it --keep to attach later")
            }
        }
        let uri = connectURI ?? owner?.connectURI
        guard let uri, !(try LibvirtURI(parsing: uri)).isEmbedded else {
            guard owner != nil else {
                throw ConsoleLookupError(
                    "there is no kept instance named \(name) in \(stateDirectory.path); mvm list shows the running ones"
                )
            }
            throw ConsoleLookupError(
                "\(name) was kept without -it: nothing holds its console (its output: \(consoles)/\(name).log); boot with mvm boot -it --keep to attach later"
            )
        }
        let domains = try await DomainManager(uri: uri, stateDirectory: stateDirectory)
        let console = try domains.openConsole(named: name)
        return OpenedConsole(name: name, connection: console.connection, domainConsole: console)
    }
}

/// Why `mvm console` cannot attach, in one line.
public struct ConsoleLookupError: Error, CustomStringConvertible {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}
