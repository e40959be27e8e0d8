import Foundation
import MVMCore
import Testing

@testable import ContainerShim

/// A launch with a terminal that fails on the runtime's side leaves
/// nothing: no socket file, no bundle, no owner record, no teardown. The
/// runtime is a stand-in script named runc (runc itself: IntegrationTests'
/// ContainerConsole). One at a time: the teardown registry is the process's.
@Suite(.serialized) struct TerminalLaunchTests {
    let root: String

    init() throws {
        root =
            FileManager.default.temporaryDirectory.appendingPathComponent(
                "mvm-tty-launch-\(UUID().uuidString.prefix(8))"
            ).path
        try FileManager.default.createDirectory(atPath: root + "/rootfs", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
        try write("#!/bin/sh\nexit 0\n", to: root + "/rootfs/init")
    }

    var state: StateDirectory { StateDirectory(path: root + "/state") }

    func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    }

    /// A launcher whose runtime runs `create` for its create command and
    /// succeeds at everything else (kill, delete, an empty list).
    func launcher(create: String, timeoutSeconds: Double) throws -> ContainerLauncher {
        let runtime = root + "/bin/runc"
        try write("#!/bin/sh\ncase \" $* \" in\n*\" create \"*) \(create) ;;\nesac\nexit 0\n", to: runtime)
        var configuration = ContainerConfiguration(stateDirectory: state, rootfsPath: root + "/rootfs")
        configuration.runtime = .path(runtime)
        configuration.userNamespace = .off
        configuration.terminal = true
        let host = HostFacts(kernelRelease: "6.1", cpuModel: "test", cores: 4, memoryBytes: 1 << 34)
        configuration.limits = try InstanceLimits.checked(
            memoryMiB: 128, vcpus: 1, timeoutSeconds: timeoutSeconds, host: host)
        return try ContainerLauncher(
            configuration, host: ContainerHost(cgroups: .v2, swapAccounting: false, userNamespacesAllowed: false))
    }

    func entries(_ name: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: state.subdirectory(name))) ?? []
    }

    func expectNothingLeft() {
        #expect(entries("consoles").isEmpty, "\(entries("consoles"))")
        #expect(entries("bundles").isEmpty, "\(entries("bundles"))")
        #expect(entries("owners").isEmpty, "\(entries("owners"))")
        #expect(!TeardownRegistry.shared.registeredKeys.contains { $0.hasPrefix(instanceNamePrefix) })
    }

    @Test func aFailedCreateWakesTheSocketAndLeavesNothing() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let launcher = try launcher(
            create: "echo 'level=error msg=\"stand-in create failed\"' >&2; exit 1", timeoutSeconds: 60)
        let started = ContinuousClock.now
        let error = await #expect(throws: ContainerError.self) { _ = try await launcher.launch() }
        #expect(error?.description == "runc create failed: stand-in create failed", "\(String(describing: error))")
        // The socket was closed at once, not left to wait for the deadline.
        #expect(ContinuousClock.now - started < .seconds(30))
        expectNothingLeft()
    }

    @Test func aRuntimeThatNeverSendsTheTerminalFailsAtTheDeadlineAndLeavesNothing() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let launcher = try launcher(create: "exit 0", timeoutSeconds: 1)
        let error = await #expect(throws: ContainerError.self) { _ = try await launcher.launch() }
        #expect(
            error?.description.hasPrefix("runc did not connect to the terminal socket \(state.path)/consoles/mvm-")
                == true, "\(String(describing: error))")
        expectNothingLeft()
    }

    @Test func theSpecAsksForATerminal() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(try launcher(create: "exit 0", timeoutSeconds: 1).describeSpec().process.terminal)
    }
}
