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
        case .gvisor: return onPath("runsc")
        case .podman: return onPath("podman")
        case .docker:
            guard onPath("docker"), let connection = try? UnixSocket.connect(to: ContainerEngine.dockerSocket) else {
                return false
            }
            try? connection.close()
            return true
        case .vm, .container, .qemuDirect, .runcDirect, .vmWarm, .vmStock: return true
        }
    }

    private static func onPath(_ command: String) -> Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(command)") }
    }
}
