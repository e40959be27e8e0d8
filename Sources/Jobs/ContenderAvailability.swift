import ContainerEngines
import Foundation
import MVMCore
import SystemPackage

extension ContenderSelection {
    /// Whether a step of the isolation ladder could run here, by a look
    /// that starts nothing: its command is installed and, for Docker, its
    /// daemon's socket takes a connection. What `all` selects; the doctor
    /// looks deeper.
    public static func isInstalled(_ name: Name) -> Bool {
        switch name {
        case .gvisor: return findExecutable(named: "runsc") != nil
        case .podman: return findExecutable(named: "podman") != nil
        case .docker:
            guard findExecutable(named: "docker") != nil,
                let connection = try? UnixSocket.connect(to: ContainerEngine.dockerSocket)
            else {
                return false
            }
            try? connection.close()
            return true
        case .vm, .container, .qemuDirect, .runcDirect, .vmWarm, .vmStock: return true
        }
    }

}
