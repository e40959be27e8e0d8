import Compare
import ContainerEngines
import ContainerShim
import Foundation
import MVMCore
import Testing

extension RealInstances {
    /// gVisor, Podman and Docker beside the micro-VM and runc: real
    /// sandboxes and engines (the test command installs them and starts
    /// dockerd), and nothing of theirs left afterwards.
    @Suite struct IsolationLadder {
        /// What the ladder's contenders could leave: sandboxes, monitors,
        /// containers and images in the engines, owner records.
        static func leftovers() async throws -> [String] {
            var found: [String] = []
            for (pid, arguments) in Self.commandLines() {
                let line = arguments.joined(separator: " ")
                // The ladder's programs (not the tests' own daemons, whose
                // data also lives in the state directory).
                let program = URL(fileURLWithPath: arguments.first ?? "").lastPathComponent
                let ladder = ["runsc", "runsc-sandbox", "runsc-gofer", "conmon", "podman", "docker"].contains(program)
                let ours = line.contains(Fixtures.state.path) || line.contains(instanceNamePrefix)
                if ladder && ours { found.append("process \(pid): \(line.prefix(160))") }
            }
            for engine in ["podman", "docker"] {
                var arguments = ["ps", "--all", "--format", "{{.Names}}"]
                if engine == "podman" {
                    let root = Fixtures.state.subdirectory("podman")
                    guard FileManager.default.fileExists(atPath: root) else { continue }
                    arguments =
                        ["--root", root + "/storage", "--runroot", root + "/run", "--cgroup-manager", "cgroupfs"]
                        + arguments
                }
                let listed = try await runCommand("/usr/bin/\(engine)", arguments)
                found += listed.stdout.split(separator: "\n").filter { $0.hasPrefix(instanceNamePrefix) }.map {
                    "\(engine) container \($0)"
                }
            }
            let images = try await runCommand("/usr/bin/docker", ["images", "--format", "{{.Repository}}"])
            found += images.stdout.split(separator: "\n").filter { $0.hasPrefix(instanceNamePrefix) }.map {
                "docker image \($0)"
            }
            let sandboxes = (try? FileManager.default.contentsOfDirectory(atPath: Fixtures.state.subdirectory("runsc")))
            found += (sandboxes ?? []).map { "runsc state \($0)" }
            found += OwnerRecords(stateDirectory: Fixtures.state).all().map { "owner record \($0.name)" }
            return found
        }

        /// Every process's command line, by pid.
        static func commandLines() -> [(Int32, [String])] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return entries.compactMap { entry in
                guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                    !data.isEmpty
                else { return nil }
                return (pid, data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) })
            }
        }

        @Test func everyStepOfTheLadderRunsOkAndLeavesNothing() async throws {
            try Fixtures.requireImages()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mvm-ladder-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let json = directory.appendingPathComponent("r.json").path
            let result = try await runMVM([
                "compare", "-n", "2", "--warmup", "0", "--timeout", "90",
                "--contenders", "vm,container,gvisor,podman,docker", "--export-json", json,
            ])
            #expect(result.exitCode == 0, "\(result.stdout)\n\(result.stderr)")
            let report = try ComparisonReport.decode(Data(contentsOf: URL(fileURLWithPath: json)))
            #expect(report.contenders == ["vm", "container", "gvisor", "podman", "docker"])
            #expect(report.roles["gvisor"] == .sandboxedContainer)
            #expect(report.roles["podman"] == .containerEngine && report.roles["docker"] == .containerEngine)
            #expect(report.samples.allSatisfy { $0.ok }, "\(report.samples.compactMap(\.failure))")
            // gVisor runs its own kernel; the engines share the host's.
            let gvisor = report.samples.first { $0.contender == "gvisor" }
            #expect(gvisor?.guest?.kernelRelease == "4.4.0")
            let podman = report.samples.first { $0.contender == "podman" }
            #expect(podman?.guest?.kernelRelease == HostFacts.probe().kernelRelease)
            // The sandbox and gofer's memory, the monitors', Docker's daemons apart.
            let pss = { (name: String) in report.summary.contender(name)?.metric(.pss)?.summary?.median ?? 0 }
            #expect(pss("gvisor") > pss("container") * 3)
            #expect(report.summary.contender("podman")?.metric(.monitorPSS)?.summary?.median ?? 0 > 0)
            #expect(report.summary.contender("docker")?.metric(.daemonPSS)?.summary?.median ?? 0 > 10 * 1_048_576)
            // Each step against runc and against the micro-VM.
            for step in ["gvisor", "podman", "docker"] {
                for denominator in ["container", "vm"] {
                    #expect(
                        report.summary.ratios.contains {
                            $0.metric == "ready" && $0.numerator == step && $0.denominator == denominator
                        }, "no ready ratio of \(step) over \(denominator)")
                }
            }
            let left = try await Self.leftovers()
            #expect(left.isEmpty, "\(left)")
            #expect(Fixtures.allQEMUProcesses().isEmpty)
        }

        @Test func theDimensionsCoverTheLadder() async throws {
            try Fixtures.requireImages()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mvm-ladder-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let json = directory.appendingPathComponent("r.json").path
            let result = try await runMVM([
                "compare", "-n", "1", "--warmup", "0", "--timeout", "90", "--contenders",
                "vm,container,gvisor,podman,docker", "--dimensions", "isolation,size,teardown", "--teardown-runs", "1",
                "--export-json", json,
            ])
            #expect(result.exitCode == 0, "\(result.stdout)\n\(result.stderr)")
            let report = try ComparisonReport.decode(Data(contentsOf: URL(fileURLWithPath: json)))
            let isolation = try #require(report.dimensions?.isolation)
            #expect(isolation.sides == ["vm", "container", "gvisor", "podman", "docker"])
            #expect(isolation.failures.isEmpty, "\(isolation.failures)")
            let allowed = { (side: String) in Int(isolation.observations[side]?["host.allowedSyscalls"] ?? "") ?? 0 }
            // The Sentry's filter leaves it far fewer host syscalls than
            // runc's unfiltered init; the engines' default profiles some.
            #expect(allowed("gvisor") > 0 && allowed("gvisor") < allowed("container") / 2)
            #expect(allowed("docker") < allowed("container") && allowed("podman") < allowed("container"))
            let kernel = isolation.aspects.first { $0.name == "kernel" }
            #expect(kernel?.values["gvisor"]?.hasPrefix("4.4.0: its own, gVisor's Sentry") == true)
            let teardown = try #require(report.dimensions?.teardown)
            #expect(Set(teardown.sides) == ["vm", "container", "gvisor", "podman", "docker"])
            #expect(report.dimensions?.failures == nil, "\(String(describing: report.dimensions?.failures))")
            let left = try await Self.leftovers()
            #expect(left.isEmpty, "\(left)")
        }

        /// Starts `mvm compare` of the whole ladder in the background.
        static func startLadderCompare() throws -> Process {
            let process = Process()
            process.executableURL = mvmExecutable
            process.arguments = [
                "compare", "-n", "20", "--warmup", "0", "--contenders", "vm,container,gvisor,podman,docker",
            ]
            process.environment = ProcessInfo.processInfo.environment.merging(["MVM_STATE_DIR": Fixtures.state.path]) {
                $1
            }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }

        /// Waits until an instance of one of `kinds` is being measured.
        static func waitForOwner(ofKind kinds: Set<String>) async throws -> Bool {
            let deadline = ContinuousClock.now + .seconds(120)
            while ContinuousClock.now < deadline {
                let owners = OwnerRecords(stateDirectory: Fixtures.state).all()
                if owners.contains(where: { kinds.contains($0.kind) }) { return true }
                try await Task.sleep(for: .milliseconds(20))
            }
            return false
        }

        /// Ctrl-C while a sandbox or an engine's container runs: exit 130,
        /// and the sandbox, the container and Docker's imported tree are gone.
        @Test(arguments: ["gvisor", "podman", "docker"])
        func anInterruptLeavesNothingOfTheLadder(kind: String) async throws {
            try Fixtures.requireImages()
            let process = try Self.startLadderCompare()
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            #expect(try await Self.waitForOwner(ofKind: [kind]), "no \(kind) instance started")
            process.interrupt()
            process.waitUntilExit()
            #expect(process.terminationStatus == 130)
            let left = try await Self.leftovers()
            #expect(left.isEmpty, "\(left)")
            #expect(Fixtures.allQEMUProcesses().isEmpty)
        }

        /// kill -9 of mvm while the ladder runs: `mvm gc` removes the
        /// sandbox, the engines' containers and the imported tree.
        @Test func gcRemovesWhatAKilledLadderLeft() async throws {
            try Fixtures.requireImages()
            let process = try Self.startLadderCompare()
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            #expect(try await Self.waitForOwner(ofKind: ["docker"]), "no docker container started")
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            // What a killed mvm leaves: at least Docker's container and tree.
            #expect(try await !Self.leftovers().isEmpty)
            let collected = try await runMVM(["gc"])
            #expect(collected.exitCode == 0, "\(collected.stdout)\(collected.stderr)")
            #expect(collected.stdout.contains("docker image"), "\(collected.stdout)")
            // A QEMU of the killed run is gc's too, with the domain.
            try await Task.sleep(for: .seconds(1))
            let left = try await Self.leftovers()
            #expect(left.isEmpty, "\(left)")
            #expect(Fixtures.allQEMUProcesses().isEmpty)
        }

        @Test(arguments: ["podman", "docker"])
        func anEngineRunsThroughMvmRun(engine: String) async throws {
            try Fixtures.requireImages()
            let result = try await runMVM(["run", "--engine", engine, "--timeout", "60"])
            #expect(result.exitCode == 0, "\(result.stdout)\n\(result.stderr)")
            #expect(result.stdout.contains(": \(engine) container, 128 MiB limit, 1 CPU, on runc"), "\(result.stdout)")
            #expect(result.stdout.contains("created") && result.stdout.contains("monitor-pss"), "\(result.stdout)")
            let left = try await Self.leftovers()
            #expect(left.isEmpty, "\(left)")
            let refused = try await runMVM(["run", "--engine", engine, "--keep"])
            #expect(refused.exitCode == 64 && refused.stderr.contains("leave out --keep"), "\(refused.stderr)")
        }

        @Test func aSandboxRunsThroughMvmRun() async throws {
            try Fixtures.requireImages()
            let result = try await runMVM(["run", "--runtime", "runsc", "--timeout", "60"])
            #expect(result.exitCode == 0, "\(result.stdout)\n\(result.stderr)")
            #expect(result.stdout.contains("via /usr/bin/runsc") && result.stdout.contains("kernel 4.4.0"))
            let left = try await Self.leftovers()
            #expect(left.isEmpty, "\(left)")
        }

        @Test func dockerdDownIsOneLineThatSaysHowToStartIt() async throws {
            try Fixtures.requireImages()
            let result = try await runMVM(
                ["compare", "-n", "1", "--contenders", "vm,container,docker"],
                environment: ["DOCKER_HOST": "unix:///nonexistent/docker.sock"])
            #expect(result.exitCode != 0)
            #expect(
                result.stderr.hasPrefix("Error: dockerd does not answer on /nonexistent/docker.sock")
                    && result.stderr.contains("start it (systemctl start docker, or dockerd"), "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
            #expect(Fixtures.allQEMUProcesses().isEmpty)
            let left = try await Self.leftovers()
            #expect(left.isEmpty, "\(left)")
        }

        /// Podman asked to run crun on hybrid cgroups (this host's, and the
        /// runtime a containers.conf may name): one line that says runc.
        @Test func podmanOnCrunWithHybridCgroupsIsOneLine() async throws {
            let host = ContainerHost(cgroups: .hybrid, swapAccounting: false, userNamespacesAllowed: true)
            do {
                _ = try await ContainerEngine.resolve(
                    .podman, stateDirectory: Fixtures.state, runtime: .crun, host: host)
                Issue.record("podman on crun with hybrid cgroups was accepted")
            } catch {
                #expect(
                    error.description
                        == "podman cannot run mvm's containers on this host: it would run containers with crun, which does not support these hybrid cgroups (v1 controllers with a v2 hierarchy beside them); use --runtime runc"
                )
            }
            // Without the engine installed, the line says how to install it.
            #expect(
                EngineError.notInstalled(.podman).description
                    == "podman is not installed, which the podman contender needs; install it (apt-get install --no-install-recommends podman) or leave podman out of --contenders"
            )
        }

        @Test func aPlatformThisRunscLacksIsOneLine() async throws {
            try Fixtures.requireImages()
            let result = try await runMVM(["run", "--runtime", "runsc", "--runsc-platform", "systrap"])
            #expect(result.exitCode != 0)
            #expect(
                result.stderr.contains("has no platform systrap (it has ptrace, kvm); use --runsc-platform ptrace"),
                "\(result.stderr)")
            let left = try await Self.leftovers()
            #expect(left.isEmpty, "\(left)")
        }

        @Test func doctorSaysWhichRunscPlatformsWorkAndWhatRunsUnderTheEngines() async throws {
            let result = try await runMVM(["doctor"])
            #expect(result.stdout.contains("gvisor (runsc)") && result.stdout.contains("ptrace"), "\(result.stdout)")
            #expect(result.stdout.contains("podman 4.") && result.stdout.contains("containers on runc"))
            #expect(result.stdout.contains("docker 20.10"), "\(result.stdout)")
            let left = try await Self.leftovers()
            #expect(left.isEmpty, "\(left)")
        }
    }
}
