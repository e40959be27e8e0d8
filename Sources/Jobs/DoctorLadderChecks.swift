import Compare
import ContainerEngines
import ContainerShim
import Foundation
import MVMCore

/// The checks of the isolation ladder's contenders (gvisor, podman,
/// docker): none is required, since only comparisons that name them need
/// them.
extension Doctor {
    func checkLadder(_ host: ContainerHost) async -> [DoctorCheck] {
        [await checkGVisor(host), await checkEngine(.podman, host: host), await checkEngine(.docker, host: host)]
    }

    /// runsc is installed, and each of its platforms starts mvm's rootfs
    /// (a real sandbox, stopped at once): a platform can exist and still
    /// hang, as kvm does on a host whose KVM boots no standard guest.
    private func checkGVisor(_ host: ContainerHost) async -> DoctorCheck {
        let name = "gvisor (runsc)"
        let platforms: [String]
        do {
            let found = try await ContainerLauncher.checkRuntime(
                .runsc(platform: RuntimeSelection.defaultRunscPlatform), host: host, stateDirectory: stateDirectory)
            platforms = RunscPlatforms.available(runsc: found.path)
        } catch {
            return .problem(
                name, required: false, "runsc is not on PATH; only --contenders gvisor needs it",
                fix: "apt-get install runsc")
        }
        guard FileManager.default.fileExists(atPath: images.rootfs + "/init") else {
            return .problem(
                name, required: false, "runsc has \(platforms.joined(separator: ", ")); no rootfs to try them on",
                fix: "build the images: bash images/build.sh")
        }
        var working: [String] = []
        var failing: [String] = []
        // The sandboxes' bundles, records and runsc's root go to a state
        // directory of their own, removed afterwards: the doctor leaves
        // nothing in the user's.
        let scratch = StateDirectory(path: NSTemporaryDirectory() + "mvm-doctor-runsc-" + UUID().uuidString.prefix(8))
        defer { try? FileManager.default.removeItem(atPath: scratch.path) }
        for platform in platforms {
            var configuration = ContainerConfiguration(stateDirectory: scratch, rootfsPath: images.rootfs)
            configuration.runtime = .runsc(platform: platform)
            // Five seconds: a platform that works starts in well under one.
            if let limits = try? InstanceLimits.checked(
                memoryMiB: 128, vcpus: 1, timeoutSeconds: 5, host: HostFacts.probe())
            {
                configuration.limits = limits
            }
            let started = ContinuousClock.now
            do {
                let instance = try await ContainerLauncher(configuration, host: host).launch()
                try? await instance.stop()
                working.append(platform)
            } catch {
                // A platform that hangs (kvm where KVM boots no standard
                // guest) is killed at the deadline: say that, not the kill.
                let hung = ContinuousClock.now - started >= .seconds(5)
                failing.append("\(platform): " + (hung ? "no sandbox within 5 s (it hangs)" : firstLine(of: error)))
            }
        }
        guard !working.isEmpty else {
            return .problem(
                name, required: false, "no runsc platform starts a sandbox here (\(failing.joined(separator: "; ")))",
                fix: "check runsc's debug log: runsc --debug --debug-log=/tmp/runsc/ run ...")
        }
        let detail =
            "platforms that start a sandbox: \(working.joined(separator: ", "))"
            + (failing.isEmpty ? "" : "; not: " + failing.joined(separator: "; "))
        return .passed(name, required: false, detail)
    }

    /// The engine is installed (Docker: its daemon answers), and which
    /// OCI runtime runs its containers.
    private func checkEngine(_ kind: EngineKind, host: ContainerHost) async -> DoctorCheck {
        let name = kind.rawValue
        do {
            let engine = try await ContainerEngine.resolve(
                kind, stateDirectory: stateDirectory, runtime: .runc, host: host)
            let version = await engine.version() ?? "of unknown version"
            return .passed(name, required: false, "\(name) \(version), containers on \(engine.runtimeName)")
        } catch {
            let fix: String
            switch error {
            case .notInstalled:
                fix = kind == .podman ? "apt-get install --no-install-recommends podman" : "apt-get install docker.io"
            case .daemonDown:
                fix = "start dockerd: systemctl start docker, or dockerd --iptables=false --bridge=none &"
            default:
                fix = "use --runtime runc"
            }
            return .problem(name, required: false, firstLine(of: error), fix: fix)
        }
    }
}
