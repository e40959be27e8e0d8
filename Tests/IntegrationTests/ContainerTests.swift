import ContainerShim
import Foundation
import MVMCore
import Subprocess
import SystemPackage
import Testing

extension RealInstances {
    /// Real containers through runc, from the rootfs images/build.sh makes.
    @Suite struct Containers {
        static let runtimeRoot = Fixtures.state.subdirectory("runc")

        func configuration(rootfs: String = Fixtures.images.rootfs) throws -> ContainerConfiguration {
            var configuration = ContainerConfiguration(stateDirectory: Fixtures.state, rootfsPath: rootfs)
            configuration.limits = try Fixtures.limits(timeoutSeconds: 30)
            return configuration
        }

        /// `runc exec` inside the container: what its processes see.
        func exec(_ id: String, _ command: String) async throws -> (ok: Bool, output: String) {
            let result = try await run(
                .path("/usr/sbin/runc"), arguments: ["--root", Self.runtimeRoot, "exec", id, "/bin/sh", "-c", command],
                output: .string(limit: 1 << 16), error: .string(limit: 1 << 16))
            return (result.terminationStatus.isSuccess, result.standardOutput + result.standardError)
        }

        func runtimeContainers() async throws -> [String] {
            let result = try await run(
                .path("/usr/sbin/runc"), arguments: ["--root", Self.runtimeRoot, "list", "--quiet"],
                output: .string(limit: 1 << 16), error: .discarded)
            return result.standardOutput.split(separator: "\n").map(String.init)
        }

        func bundles() -> [String] {
            (try? FileManager.default.contentsOfDirectory(atPath: Fixtures.state.subdirectory("bundles"))) ?? []
        }

        func expectNothingLeft() async throws {
            #expect(try await runtimeContainers().isEmpty)
            #expect(bundles().isEmpty)
            #expect(TeardownRegistry.shared.registeredKeys.isEmpty)
        }

        @Test func containerReachesReadinessWithItsLimitsAndLeavesNothing() async throws {
            try Fixtures.requireImages()
            let launcher = try ContainerLauncher(try configuration(), host: .probe())
            let container = try await launcher.launch()
            let (pids, cgroupDirectory) = try await checkThenStop(container) { container in
                #expect(
                    container.boot.timeline.marks.map(\.phase) == [.request, .created, .started, .firstOutput, .ready])
                #expect(container.boot.timeline.isOrdered)
                // The container shares the host's kernel.
                let hostRelease = try String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)
                #expect(
                    container.boot.facts?.kernelRelease == hostRelease.trimmingCharacters(in: .whitespacesAndNewlines))
                #expect(container.boot.facts?.cpus == 1)

                let footprint = try await container.footprint()
                #expect((footprint[.pss] ?? 0) > 0)
                #expect((footprint[.rss] ?? 0) >= (footprint[.pss] ?? 0))
                #expect((footprint[.cgroupUsage] ?? 0) > 0)

                let cgroup = try ContainerCgroup(initPID: container.initPID)
                #expect(cgroup.memoryLimit() == 128 * 1_048_576)
                let limitFile =
                    cgroup.version == .v1 ? "/sys/fs/cgroup/memory/memory.limit_in_bytes" : "/sys/fs/cgroup/memory.max"
                let seen = try await exec(container.name, "cat " + limitFile)
                #expect(seen.ok && seen.output == "134217728\n", "\(seen.output)")
                let write = try await exec(container.name, "touch /written-by-test")
                #expect(!write.ok)
                #expect(write.output.contains("Read-only file system"))
                #expect(!FileManager.default.fileExists(atPath: Fixtures.images.rootfs + "/written-by-test"))
                let capabilities = try await exec(container.name, "grep CapEff /proc/self/status")
                #expect(capabilities.output.contains("0000000000000000"))
                return (try container.processIDs(), cgroup.directory)
            }
            #expect(!pids.isEmpty)
            #expect(pids.allSatisfy { !Fixtures.processExists($0) })
            #expect(!FileManager.default.fileExists(atPath: cgroupDirectory))
            try await expectNothingLeft()
        }

        /// A rootfs the container's user-namespace root could not reach (a
        /// checkout in root's private home) is staged in the state directory.
        @Test func privateRootfsIsStagedForTheUserNamespace() async throws {
            try Fixtures.requireImages()
            let (directory, copies) = try Fixtures.privateCopies(of: [Fixtures.images.rootfs])
            defer { try? FileManager.default.removeItem(at: directory) }
            var configuration = try configuration(rootfs: copies[0])
            configuration.userNamespace = .on
            let launcher = try ContainerLauncher(configuration, host: .probe())
            #expect(launcher.configuration.rootfsPath.hasPrefix(Fixtures.state.subdirectory("images") + "/rootfs-"))
            try await checkThenStop(try await launcher.launch()) { container in
                #expect(container.usesUserNamespace)
                #expect(container.boot.facts?.cpus == 1)
            }
            try await expectNothingLeft()
        }

        @Test func missingRuntimeIsAClearErrorAndLeavesNothing() async throws {
            var configuration = try configuration()
            configuration.runtime = .path("/nonexistent/runc")
            let error = #expect(throws: ContainerError.self) { try ContainerLauncher(configuration, host: .probe()) }
            #expect(error?.description.hasPrefix("OCI runtime /nonexistent/runc does not exist") == true)
            try await expectNothingLeft()
        }

        @Test func missingRootfsIsAClearErrorAndLeavesNothing() async throws {
            let error = #expect(throws: ContainerError.self) {
                try ContainerLauncher(try configuration(rootfs: "/nonexistent/rootfs"), host: .probe())
            }
            #expect(error?.description.hasPrefix("rootfs /nonexistent/rootfs does not exist") == true)
            try await expectNothingLeft()
        }

        @Test func initThatExitsEarlyIsAClearErrorAndLeavesNothing() async throws {
            try Fixtures.requireImages()
            var configuration = try configuration()
            configuration.command = ["/bin/sh", "-c", "echo giving up early; echo on stderr >&2; exit 3"]
            let launcher = try ContainerLauncher(configuration, host: .probe())
            let error = await #expect(throws: ContainerError.self) { _ = try await launcher.launch() }
            guard case .exitedEarly(let tail, let log) = error else {
                Issue.record("expected exitedEarly, got \(String(describing: error))")
                return
            }
            #expect(tail == ["giving up early"])
            #expect(log.contains("on stderr"))
            try await expectNothingLeft()
        }

        @Test func containerThatNeverPrintsTheLineTimesOut() async throws {
            try Fixtures.requireImages()
            var configuration = try configuration()
            configuration.command = ["/bin/sleep", "60"]
            configuration.limits = try Fixtures.limits(timeoutSeconds: 2)
            let launcher = try ContainerLauncher(configuration, host: .probe())
            let error = await #expect(throws: ContainerError.self) { _ = try await launcher.launch() }
            #expect(error?.description.hasPrefix("the container printed no readiness line within 2.0 s") == true)
            try await expectNothingLeft()
        }

        @Test func runCommandReportsPhasesFactsAndFootprint() async throws {
            try Fixtures.requireImages()
            let result = try await runMVM(["run", "--json"])
            #expect(result.exitCode == 0, "\(result.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            let phases = (json["phases"] as? [[String: Any]])?.compactMap { $0["phase"] as? String }
            #expect(phases == ["request", "created", "started", "first-output", "ready"])
            #expect(((json["footprint"] as? [String: Any])?["pss"] as? Int ?? 0) > 0)
            #expect((json["guest"] as? [String: Any])?["kernelRelease"] != nil)
            #expect(json["kind"] as? String == "container")
            try await expectNothingLeft()
        }

        @Test func keepLeavesTheContainerAndDestroyRemovesIt() async throws {
            try Fixtures.requireImages()
            let kept = try await runMVM(["run", "--keep", "--json"])
            #expect(kept.exitCode == 0, "\(kept.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(kept.stdout.utf8)) as? [String: Any]
            let name = try #require(json?["name"] as? String)
            #expect(try await runtimeContainers() == [name])
            let listed = try await runMVM(["list"])
            #expect(listed.stdout == "\(name)  container\n")
            let destroyed = try await runMVM(["destroy", name])
            #expect(destroyed.exitCode == 0, "\(destroyed.stderr)")
            #expect(destroyed.stdout == "destroyed \(name)\n")
            try await expectNothingLeft()
        }

        @Test func runDryRunPrintsConfigJSONAndStartsNothing() async throws {
            try Fixtures.requireImages()
            let result = try await runMVM(["run", "--dry-run", "--memory", "64"])
            #expect(result.exitCode == 0, "\(result.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            #expect(json["ociVersion"] as? String == "1.0.2")
            let resources = (json["linux"] as? [String: Any])?["resources"] as? [String: Any]
            #expect((resources?["memory"] as? [String: Any])?["limit"] as? Int == 64 * 1_048_576)
            try await expectNothingLeft()
        }

        @Test func crunOnThisHostFailsWithTheReason() async throws {
            let hybrid = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/unified/cgroup.controllers")
            try #require(hybrid, "this host's cgroups are not hybrid")
            let result = try await runMVM(["run", "--runtime", "crun"])
            #expect(result.exitCode == 1)
            #expect(result.stderr.contains("hybrid mode"))
            #expect(result.stderr.hasSuffix("use runc, or a host with cgroup v2 only\n"))
            try await expectNothingLeft()
        }
    }
}
