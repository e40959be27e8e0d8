import Foundation
import MVMCore
import Testing

extension RealInstances {
    /// The `mvm` executable as a user runs it: stdout, stderr, exit code.
    @Suite struct BootCommand {
        @Test func jsonReportHasPhasesFactsAndFootprint() async throws {
            try Fixtures.requireImages()
            let result = try await runMVM(["boot", "--json", "--timeout", "90"])
            #expect(result.exitCode == 0, "\(result.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            #expect(json["accelerator"] as? String == "tcg")
            #expect((json["acceleratorReason"] as? String)?.contains("vmx") == true)
            let phases = try #require(json["phases"] as? [[String: Any]])
            #expect(phases.compactMap { $0["phase"] as? String } == ["request", "started", "first-output", "ready"])
            let offsets = phases.compactMap { $0["seconds"] as? Double }
            #expect(offsets.count == 4 && offsets == offsets.sorted() && offsets[3] > 0)
            let guest = try #require(json["guest"] as? [String: Any])
            #expect((guest["kernelRelease"] as? String)?.hasPrefix("6.1") == true)
            #expect((guest["uptimeSeconds"] as? Double ?? 0) > 0)
            let footprint = try #require(json["footprint"] as? [String: Any])
            #expect((footprint["pss"] as? Int ?? 0) > 0)
            #expect(json["kept"] as? Bool == false)
            #expect(Fixtures.mvmQEMUProcesses().isEmpty)
            let list = try await runMVM(["list"])
            #expect(list.exitCode == 0 && list.stdout.isEmpty, "\(list.stdout)\(list.stderr)")
        }

        @Test func humanSummaryNamesTheAcceleratorAndPhases() async throws {
            try Fixtures.requireImages()
            let result = try await runMVM(["boot", "--timeout", "90"])
            #expect(result.exitCode == 0, "\(result.stderr)")
            for label in ["accelerator   tcg: ", "started", "first-output", "ready", "guest", "memory        pss "] {
                #expect(result.stdout.contains(label), "missing \(label) in:\n\(result.stdout)")
            }
            #expect(Fixtures.mvmQEMUProcesses().isEmpty)
        }

        @Test func keepLeavesTheDomainAndDestroyRemovesIt() async throws {
            try Fixtures.requireImages()
            let kept = try await runMVM(["boot", "--keep", "--json", "--timeout", "90"])
            #expect(kept.exitCode == 0, "\(kept.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(kept.stdout.utf8)) as? [String: Any]
            let name = try #require(json?["name"] as? String)
            let listed = try await runMVM(["list"])
            #expect(listed.stdout == name + "  vm\n")
            #expect(Fixtures.mvmQEMUProcesses().count == 1)
            let destroyed = try await runMVM(["destroy", name])
            #expect(destroyed.exitCode == 0, "\(destroyed.stderr)")
            #expect(destroyed.stdout == "destroyed \(name)\n")
            #expect(Fixtures.mvmQEMUProcesses().isEmpty)
            #expect(Fixtures.consoleFiles().isEmpty)
            // Destroyed by another process than the one that started it.
            #expect(Fixtures.mvmDomainCgroups().isEmpty)
        }

        @Test func dryRunPrintsTheXMLAndBootsNothing() async throws {
            try Fixtures.requireImages()
            let result = try await runMVM(["boot", "--dry-run", "--memory", "256", "--vcpus", "2"])
            #expect(result.exitCode == 0, "\(result.stderr)")
            #expect(result.stdout.hasPrefix("<domain type='qemu'>"))
            #expect(result.stdout.contains("<memory unit='MiB'>256</memory>"))
            #expect(result.stdout.contains("<vcpu>2</vcpu>"))
            #expect(Fixtures.mvmQEMUProcesses().isEmpty)
        }

        @Test func missingKernelIsOneClearLineAndAFailure() async throws {
            let result = try await runMVM(["boot", "--kernel", "/nonexistent/vmlinux"])
            #expect(result.exitCode == 1)
            #expect(result.stdout.isEmpty)
            #expect(
                result.stderr
                    == "Error: kernel /nonexistent/vmlinux does not exist; install the images (scripts/install.sh), point MVM_IMAGES at them, or name another kernel\n"
            )
            #expect(Fixtures.mvmQEMUProcesses().isEmpty)
        }

        /// Ctrl-C while the boot waits on the guest console: the console is
        /// closed from the signal handler's thread while the boot thread
        /// blocks on it, and the domain, its QEMU, its console socket and its
        /// cgroups all go.
        @Test func interruptWhileWaitingOnTheConsoleLeavesNothing() async throws {
            try Fixtures.requireImages()
            let process = Process()
            process.executableURL = mvmExecutable
            // busybox's shell as init: the guest boots but never says it is ready.
            process.arguments = ["boot", "--append", "rdinit=/bin/sh", "--timeout", "120"]
            process.environment = ProcessInfo.processInfo.environment.merging(["MVM_STATE_DIR": Fixtures.state.path]) {
                $1
            }
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            // Wait until QEMU runs and has had time to connect to the console.
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(60)
            while Fixtures.mvmQEMUProcesses().isEmpty && clock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(!Fixtures.mvmQEMUProcesses().isEmpty, "QEMU never started")
            try await Task.sleep(for: .seconds(1))
            process.interrupt()
            process.waitUntilExit()
            let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(process.terminationReason == .exit && process.terminationStatus == 130, "\(stderr)")
            #expect(stderr.contains("interrupted: tearing down what mvm started"))
            #expect(Fixtures.mvmQEMUProcesses().isEmpty)
            #expect(Fixtures.consoleFiles().isEmpty)
            #expect(Fixtures.mvmDomainCgroups().isEmpty)
            let list = try await runMVM(["list"])
            #expect(list.exitCode == 0 && list.stdout.isEmpty, "\(list.stdout)\(list.stderr)")
        }

        @Test func kvmOnAHostWithoutItFailsAtOnce() async throws {
            // These machines expose /dev/kvm without vmx/svm (see HOST-NOTES);
            // on a host with hardware virtualization this test has nothing to show.
            let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
            try #require(
                !cpuinfo.contains(" vmx") && !cpuinfo.contains(" svm"), "this host has hardware virtualization")
            let result = try await runMVM(["boot", "--accel", "kvm"])
            #expect(result.exitCode == 1)
            #expect(result.stderr.hasPrefix("Error: KVM is not available on this host: "))
            #expect(result.stderr.hasSuffix("; use the tcg accelerator (or auto)\n"))
            #expect(Fixtures.mvmQEMUProcesses().isEmpty)
        }

        @Test(arguments: [
            (["boot", "--memory", "8"], "--memory 8 is too small"),
            (["boot", "--memory", "-5"], "--memory -5 is invalid: give a size in MiB, at least 16."),
            (["boot", "--memory", "999999999"], "--memory 999999999 is more than this host's memory ("),
            (["run", "--memory", "999999999"], "--memory 999999999 is more than this host's memory ("),
            (["compare", "--memory", "999999999"], "--memory 999999999 is more than this host's memory ("),
            (
                ["compare", "--memory", "4096", "--concurrency", "16"],
                "--memory 4096 times --concurrency 16 is more than"
            ),
            (["boot", "--vcpus", "0"], "--vcpus 0 is invalid: use 1 to "),
            (["run", "--vcpus", "999"], "--vcpus 999 is more than this host's "),
            (["compare", "--runs", "0"], "--runs 0 is invalid: use 1 to 10000."),
            (["compare", "--timeout", "-1"], "--timeout -1.0 is invalid: give a positive number of seconds"),
            (["boot", "--accel", "hvf"], "--accel"),
            (["boot", "--dry-run", "--keep"], "--dry-run starts nothing"),
            (["run", "--env", "novalue"], "--env novalue is not of the form KEY=value"),
            (["run", "--memory", "2"], "--memory 2 is too small"),
            (["destroy"], "Name the domains or containers to destroy, or pass --all"),
            (["destroy", "webserver"], "webserver is not an mvm instance"),
            (
                ["compare", "--dimensions", "boot,speed"],
                "--dimensions \"boot,speed\" is invalid: \"speed\" is not one of boot, isolation"
            ),
            (
                ["compare", "--dimensions", "scaling", "--sweep", "4,2"],
                "--sweep 4,2 is invalid: give ascending, distinct levels from 1 to 16"
            ),
            (["compare", "--dimensions", "scaling", "--sweep", "1,32"], "--sweep 1,32 is invalid"),
            (["compare", "--dimensions", "scaling", "--sweep", "1,two"], "--sweep \"1,two\" is invalid"),
            (
                ["compare", "--dimensions", "workload", "--workload-runs", "0"],
                "--workload-runs 0 is invalid: use 1 to 1000."
            ),
            (
                ["nightly", "--noise-floor", "redy=8"],
                "--noise-floor \"redy=8\" names no metric mvm measures: use one of created,"
            ),
            (
                ["compare", "--noise-floor", "ready"],
                "--noise-floor \"ready\" is invalid: write metric=percent, e.g. ready=8."
            ),
        ])
        func badArgumentsAreUsageErrors(arguments: [String], message: String) async throws {
            let result = try await runMVM(arguments)
            #expect(result.exitCode == 64)
            #expect(result.stderr.contains(message), "\(result.stderr)")
            #expect(Fixtures.allQEMUProcesses().isEmpty)
        }
    }
}
