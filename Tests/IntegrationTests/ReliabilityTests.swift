import Foundation
import MVMCore
import Testing

extension RealInstances {
    /// Faults and exits that must leave nothing behind: interrupts, SIGKILL
    /// and `mvm gc`, two jobs on one state directory, bad input.
    @Suite struct Reliability {
        func ownerRecords() -> [String] {
            (try? FileManager.default.contentsOfDirectory(atPath: Fixtures.state.subdirectory("owners"))) ?? []
        }

        func bundles() -> [String] {
            (try? FileManager.default.contentsOfDirectory(atPath: Fixtures.state.subdirectory("bundles"))) ?? []
        }

        /// Nothing of mvm's runs or stays: processes, domains, containers,
        /// files in the state directory, cgroups.
        func expectNothingLeft(_ context: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
            #expect(Fixtures.allQEMUProcesses().isEmpty, "\(context): QEMU left", sourceLocation: sourceLocation)
            #expect(
                ownerRecords().isEmpty, "\(context): owner records \(ownerRecords())", sourceLocation: sourceLocation)
            #expect(
                Fixtures.consoleFiles().isEmpty, "\(context): consoles \(Fixtures.consoleFiles())",
                sourceLocation: sourceLocation)
            #expect(bundles().isEmpty, "\(context): bundles \(bundles())", sourceLocation: sourceLocation)
            #expect(
                Fixtures.mvmDomainCgroups().isEmpty, "\(context): cgroups \(Fixtures.mvmDomainCgroups())",
                sourceLocation: sourceLocation)
            let list = try await runMVM(["list"])
            #expect(
                list.exitCode == 0 && list.stdout.isEmpty && list.stderr.isEmpty,
                "\(context): \(list.stdout)\(list.stderr)", sourceLocation: sourceLocation)
        }

        func startMVM(_ arguments: [String], stdout: URL? = nil) throws -> (Process, Pipe) {
            let process = Process()
            process.executableURL = mvmExecutable
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(["MVM_STATE_DIR": Fixtures.state.path]) {
                $1
            }
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = try stdout.map { try FileHandle(forWritingTo: $0) } ?? FileHandle.nullDevice
            try process.run()
            return (process, errors)
        }

        func waitFor(_ condition: () -> Bool, seconds: Double = 60) async throws {
            let deadline = ContinuousClock.now + .seconds(seconds)
            while !condition() && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        }

        /// Waits until two instances have come and gone and a VM boots,
        /// sends SIGINT then, and returns what mvm printed on stderr.
        func interruptAfterTwoInstances(_ process: Process, errors: Pipe) async throws -> String {
            var started = Set<String>()
            try await waitFor({
                started.formUnion(ownerRecords())
                return started.count >= 3 && !Fixtures.mvmQEMUProcesses().isEmpty
            })
            process.interrupt()
            process.waitUntilExit()
            return String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        }

        /// Ctrl-C in the middle of `mvm compare -n 20`: exit 130, nothing
        /// left running, and the JSON holds the runs that completed, marked
        /// partial.
        @Test func interruptedCompareKeepsTheCompletedRuns() async throws {
            try Fixtures.requireImages()
            let file = try Fixtures.temporaryFile(named: "partial.json", contents: [])
            defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
            try FileManager.default.removeItem(at: file)
            let (process, errors) = try startMVM([
                "compare", "-n", "20", "--warmup", "0", "--accel", "tcg", "--export-json", file.path,
            ])
            let stderr = try await interruptAfterTwoInstances(process, errors: errors)
            #expect(process.terminationReason == .exit && process.terminationStatus == 130, "\(stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
            #expect(object["partial"] as? Bool == true)
            // Results name the host: its owner's only.
            #expect(try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int == 0o600)
            let samples = try #require(object["samples"] as? [[String: Any]])
            #expect(samples.count >= 2 && samples.count < 80, "\(samples.count) samples")
            #expect(samples.allSatisfy { $0["ok"] as? Bool == true })
            try await expectNothingLeft("after the interrupt")
        }

        /// kill -9 of `mvm boot` while QEMU boots: the next command warns,
        /// `gc --dry-run` lists and removes nothing, `gc` removes all of it.
        @Test func gcRemovesWhatAKilledBootLeft() async throws {
            try Fixtures.requireImages()
            let (process, _) = try startMVM([
                "boot", "--append", "rdinit=/bin/sh", "--timeout", "120", "--accel", "tcg",
            ])
            try await waitFor { !Fixtures.mvmQEMUProcesses().isEmpty }
            #expect(!Fixtures.mvmQEMUProcesses().isEmpty, "QEMU never started")
            try await Task.sleep(for: .milliseconds(500))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            try await waitFor({ Fixtures.mvmQEMUProcesses().isEmpty }, seconds: 10)
            let left = ownerRecords()
            #expect(left.count == 1, "\(left)")

            let list = try await runMVM(["list"])
            #expect(list.stderr.contains("left by an mvm that is gone"), "\(list.stderr)")
            let dryRun = try await runMVM(["gc", "--dry-run"])
            #expect(
                dryRun.exitCode == 0 && dryRun.stdout.contains("would remove owner record"),
                "\(dryRun.stdout)\(dryRun.stderr)")
            #expect(ownerRecords() == left)
            let collected = try await runMVM(["gc"])
            #expect(collected.exitCode == 0, "\(collected.stdout)\(collected.stderr)")
            #expect(collected.stdout.contains("removed owner record"), "\(collected.stdout)")
            try await expectNothingLeft("after gc")
            let again = try await runMVM(["gc"])
            #expect(again.stdout == "nothing to remove\n")
        }

        /// A domain kept with --keep outlives its mvm on purpose: gc leaves
        /// it, and destroy removes it with its owner record.
        @Test func keptInstancesAreNeverOrphans() async throws {
            try Fixtures.requireImages()
            let boot = try await runMVM(["boot", "--keep", "--json", "--accel", "tcg", "--timeout", "90"])
            #expect(boot.exitCode == 0, "\(boot.stderr)")
            let name =
                try #require(try JSONSerialization.jsonObject(with: Data(boot.stdout.utf8)) as? [String: Any])["name"]
                as? String
            let collected = try await runMVM(["gc"])
            #expect(collected.stdout == "nothing to remove\n", "\(collected.stdout)")
            #expect(try await runMVM(["list"]).stdout.contains(try #require(name)))
            let destroy = try await runMVM(["destroy", try #require(name)])
            #expect(destroy.exitCode == 0, "\(destroy.stderr)")
            try await expectNothingLeft("after destroy")
        }

        /// A kept domain that stopped without `mvm destroy` (here its QEMU
        /// dies; a guest powered off from inside does the same) is kept no
        /// more: gc removes its owner record and files, and lists nothing
        /// after.
        @Test func aKeptInstanceThatStoppedOnItsOwnIsCollected() async throws {
            try Fixtures.requireImages()
            let boot = try await runMVM(["boot", "--keep", "--json", "--accel", "tcg", "--timeout", "90"])
            #expect(boot.exitCode == 0, "\(boot.stderr)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(boot.stdout.utf8)) as? [String: Any])
            let name = try #require(report["name"] as? String)
            let qemu = try #require(report["qemuPID"] as? Int)
            #expect(ownerRecords() == [name + ".json"])
            kill(Int32(qemu), SIGKILL)
            try await waitFor { !Fixtures.processExists(Int32(qemu)) }
            let collected = try await runMVM(["gc"])
            #expect(collected.exitCode == 0, "\(collected.stderr)")
            #expect(collected.stdout.contains("owner record"), "\(collected.stdout)")
            #expect(collected.stdout.contains(name), "\(collected.stdout)")
            #expect(ownerRecords().isEmpty)
            #expect(try await runMVM(["gc"]).stdout == "nothing to remove\n")
            try await expectNothingLeft("after gc")
        }

        /// mvm runs under its own reaper: the process started is QEMU's
        /// parent (libvirt daemonized QEMU, so without the reaper it would
        /// be PID 1's), its worker is its child, and killing the reaper
        /// ends the worker too.
        @Test func qemuIsAnOrphanOfMVMsReaperAndKillingTheReaperEndsTheWorker() async throws {
            try Fixtures.requireImages()
            let (reaper, _) = try startMVM(["boot", "--accel", "tcg", "--keep", "--timeout", "90"])
            func parent(of pid: Int32) -> Int32? {
                (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))
                    .flatMap {
                        $0.split(separator: ")").last?.split(separator: " ").dropFirst().first.flatMap { Int32($0) }
                    }
            }
            try await waitFor { !Fixtures.mvmQEMUProcesses().isEmpty }
            let qemu = try #require(Fixtures.mvmQEMUProcesses().first)
            #expect(parent(of: qemu) == reaper.processIdentifier)
            reaper.waitUntilExit()
            #expect(reaper.terminationStatus == 0)
            // --keep: the domain outlives mvm; remove it.
            let names = try await runMVM(["list"]).stdout.split(separator: "\n").compactMap {
                $0.split(separator: " ").first
            }
            for name in names where name.hasPrefix("mvm-") { _ = try await runMVM(["destroy", String(name)]) }

            let (second, _) = try startMVM(["compare", "-n", "3", "--warmup", "0", "--no-reference", "--accel", "tcg"])
            try await waitFor { !ownerRecords().isEmpty }
            let worker = try #require(
                ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init).first {
                    parent(of: $0) == second.processIdentifier
                        && (try? String(contentsOfFile: "/proc/\($0)/comm", encoding: .utf8)) == "mvm\n"
                })
            kill(second.processIdentifier, SIGKILL)
            second.waitUntilExit()
            try await waitFor { kill(worker, 0) != 0 }
            // What the killed worker left is gc's to remove.
            let collected = try await runMVM(["gc"])
            #expect(collected.exitCode == 0, "\(collected.stderr)")
            try await expectNothingLeft("after gc")
        }

        /// Two comparisons on one state directory: the second is refused in
        /// one line naming the holder, the first runs on untouched.
        @Test func aSecondCompareOnTheSameStateDirectoryIsRefused() async throws {
            try Fixtures.requireImages()
            let output = try Fixtures.temporaryFile(named: "first.txt", contents: [])
            defer { try? FileManager.default.removeItem(at: output.deletingLastPathComponent()) }
            let (first, _) = try startMVM(
                ["compare", "-n", "2", "--warmup", "0", "--no-reference", "--accel", "tcg"], stdout: output)
            try await waitFor { !ownerRecords().isEmpty }
            let second = try await runMVM(["compare", "-n", "1", "--no-reference", "--accel", "tcg"])
            #expect(second.exitCode == 1)
            #expect(second.stderr.hasPrefix("Error: the embedded libvirt driver at "), "\(second.stderr)")
            // The holder is the mvm that opened the driver: the process the
            // test started, or its child when it runs under mvm's reaper.
            let holder = second.stderr.firstRange(of: "is in use by mvm (pid ").flatMap { range in
                Int32(second.stderr[range.upperBound...].prefix { $0.isNumber })
            }
            let holderParent = holder.flatMap { pid in
                (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))
                    .flatMap {
                        $0.split(separator: ")").last?.split(separator: " ").dropFirst().first.flatMap { Int32($0) }
                    }
            }
            #expect(holder == first.processIdentifier || holderParent == first.processIdentifier, "\(second.stderr)")
            #expect(second.stderr.split(separator: "\n").count == 1)
            first.waitUntilExit()
            #expect(first.terminationStatus == 0)
            #expect(try String(contentsOf: output, encoding: .utf8).contains("ok runs            2/2"))
            try await expectNothingLeft("after both")
        }

        /// QEMU killed from outside in the middle of a boot: a clear error,
        /// and nothing left.
        @Test func qemuKilledDuringTheBootIsAClearFailure() async throws {
            try Fixtures.requireImages()
            let (process, errors) = try startMVM([
                "boot", "--append", "rdinit=/bin/sh", "--timeout", "120", "--accel", "tcg",
            ])
            try await waitFor { !Fixtures.mvmQEMUProcesses().isEmpty }
            for pid in Fixtures.mvmQEMUProcesses() { kill(pid, SIGKILL) }
            process.waitUntilExit()
            let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(process.terminationStatus == 1, "\(stderr)")
            #expect(stderr.hasPrefix("Error: "), "\(stderr)")
            try await waitFor({ Fixtures.mvmQEMUProcesses().isEmpty }, seconds: 10)
            try await expectNothingLeft("after QEMU was killed")
        }

        /// A state directory left by an older mvm (no owner records; a
        /// bundle and a console socket of an instance long gone): commands
        /// warn, gc removes them, a boot works.
        @Test func aStateDirectoryFromAnOlderMVMIsCleanedUp() async throws {
            let bundle = Fixtures.state.subdirectory("bundles/mvm-0badc0de")
            let console = Fixtures.state.subdirectory("consoles/mvm-0badc0de.sock")
            try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true)
            try Data("{}".utf8).write(to: URL(fileURLWithPath: bundle + "/config.json"))
            try FileManager.default.createDirectory(
                atPath: Fixtures.state.subdirectory("consoles"), withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: console, contents: nil))
            let list = try await runMVM(["list"])
            #expect(list.stderr.contains("mvm-0badc0de"), "\(list.stderr)")
            let collected = try await runMVM(["gc"])
            #expect(collected.stdout.contains("removed bundle \(bundle)"), "\(collected.stdout)")
            #expect(collected.stdout.contains("removed console \(console)"), "\(collected.stdout)")
            try await expectNothingLeft("after gc of an old state directory")
        }

        /// Bad input: each a one-line error, a non-zero exit, nothing started.
        @Test(arguments: [
            (["boot", "--memory", "999999999"], "--memory 999999999"),
            (["compare", "--memory", "999999999"], "--memory 999999999"),
            (["boot", "--vcpus", "4096"], "--vcpus 4096"),
            (["boot", "--connect", "not a uri"], "not a uri"),
            (
                ["boot", "--connect", "qemu+unix:///system?socket=/nonexistent/libvirt-sock"],
                "/nonexistent/libvirt-sock"
            ),
            (["boot", "--append", "quiet init=/bin/sh"], "kernel argument"),
            (["run", "--runtime", "/nonexistent/runc"], "/nonexistent/runc"),
            (["compare", "--export-json", "/proc/mvm/r.json"], "/proc/mvm"),
        ])
        func badInputIsOneLineAndStartsNothing(arguments: [String], mention: String) async throws {
            let result = try await runMVM(arguments)
            #expect(result.exitCode != 0)
            #expect(result.stderr.contains(mention), "\(result.stderr)")
            #expect(result.stderr.hasPrefix("Error: "), "\(result.stderr)")
            let lines = result.stderr.split(separator: "\n").filter {
                !$0.hasPrefix("Usage:") && !$0.hasPrefix("  See 'mvm")
            }
            #expect(lines.count == 1, "\(result.stderr)")
            try await expectNothingLeft(arguments.joined(separator: " "))
        }

        /// A state directory behind a directory that QEMU's user cannot
        /// enter (mktemp -d makes them 0700): refused before any domain, in
        /// one line that says what to change, for boot and compare alike.
        @Test(arguments: [["boot"], ["compare", "-n", "1", "--no-reference"]])
        func aStateDirectoryQEMUCannotReachIsOneLine(arguments: [String]) async throws {
            let parent = "/var/tmp/mvm-test-closed-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(
                atPath: parent, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            defer { try? FileManager.default.removeItem(atPath: parent) }
            let result = try await runMVM(arguments + ["--state-dir", parent + "/state"])
            #expect(result.exitCode == 1, "\(result.stdout)\(result.stderr)")
            #expect(
                result.stderr
                    == "Error: libvirt-qemu, QEMU's user, cannot enter \(parent) (0700 root:root), on the way to the state directory where QEMU reads its files: chmod a+x \(parent), or use a state directory it can reach\n"
            )
            #expect(Fixtures.allQEMUProcesses().isEmpty)
        }

        /// A runtime that fails: its own message reaches the user, and the
        /// bundle goes.
        @Test func aRuntimeThatFailsIsNamedAndLeavesNothing() async throws {
            let script = try Fixtures.temporaryFile(
                named: "failing-runtime", contents: Array("#!/bin/sh\necho 'runtime exploded' >&2\nexit 3\n".utf8))
            defer { try? FileManager.default.removeItem(at: script.deletingLastPathComponent()) }
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
            let result = try await runMVM(["run", "--runtime", script.path])
            #expect(result.exitCode == 1, "\(result.stderr)")
            #expect(result.stderr.hasPrefix("Error: "), "\(result.stderr)")
            try await expectNothingLeft("after a failing runtime")
        }

        /// A full disk, then a read-only directory: the export fails with a
        /// clear error, the previous file stays whole, no temporary file is
        /// left beside it, and nothing runs on.
        @Test func aFailedExportKeepsThePreviousFile() async throws {
            try Fixtures.requireImages()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "mvm-full-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            // Two pages: the previous file takes one, the new JSON needs more.
            #expect(
                try await runProgram("/bin/mount", ["-t", "tmpfs", "-o", "size=8k,mode=0755", "tmpfs", directory.path])
                    .exitCode == 0)
            defer {
                _ = try? FileManager.default.removeItem(at: directory.appendingPathComponent("unused"))
                umount(directory.path)
                try? FileManager.default.removeItem(at: directory)
            }
            let json = directory.appendingPathComponent("r.json")
            try Data("previous".utf8).write(to: json)
            let arguments = [
                "compare", "-n", "1", "--warmup", "0", "--no-reference", "--accel", "tcg", "--export-json", json.path,
            ]
            let full = try await runMVM(arguments)
            #expect(full.exitCode == 1, "\(full.stderr)")
            #expect(full.stderr.hasPrefix("Error: cannot write \(json.path): "), "\(full.stderr)")
            #expect(full.stderr.contains("No space left on device"), "\(full.stderr)")
            #expect(try String(contentsOf: json, encoding: .utf8) == "previous")
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["r.json"])

            #expect(try await runProgram("/bin/mount", ["-o", "remount,ro", directory.path]).exitCode == 0)
            let readOnly = try await runMVM(arguments)
            #expect(readOnly.exitCode == 1, "\(readOnly.stderr)")
            #expect(readOnly.stderr.contains("Read-only file system"), "\(readOnly.stderr)")
            #expect(try String(contentsOf: json, encoding: .utf8) == "previous")
            try await expectNothingLeft("after failed exports")
        }

        /// Empty images: each refused in one line before anything starts.
        @Test(arguments: ["kernel", "initrd", "rootfs"])
        func emptyImagesAreRefused(role: String) async throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "mvm-empty-\(UUID().uuidString)")
            try FileManager.default.createDirectory(
                at: directory.appendingPathComponent("rootfs"), withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let empty = directory.appendingPathComponent("empty").path
            #expect(FileManager.default.createFile(atPath: empty, contents: nil))
            let arguments: [String] =
                switch role {
                case "kernel": ["boot", "--kernel", empty]
                case "initrd": ["boot", "--initrd", empty]
                default: ["run", "--rootfs", directory.appendingPathComponent("rootfs").path]
                }
            let result = try await runMVM(arguments)
            #expect(result.exitCode == 1, "\(result.stderr)")
            #expect(
                result.stderr.hasPrefix("Error: ") && result.stderr.split(separator: "\n").count == 1,
                "\(result.stderr)")
            try await expectNothingLeft("empty \(role)")
        }

        /// Under the system daemon QEMU runs as libvirt's own user, in QEMU's
        /// seccomp sandbox, not as root.
        @Test func systemDaemonRunsQEMUUnprivilegedAndSandboxed() async throws {
            try Fixtures.requireImages()
            let boot = try await runMVM([
                "boot", "--connect", "qemu:///system", "--keep", "--json", "--accel", "tcg", "--timeout", "90",
            ])
            #expect(boot.exitCode == 0, "\(boot.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(boot.stdout.utf8)) as? [String: Any])
            let name = try #require(object["name"] as? String)
            defer { _ = Task { try? await runMVM(["destroy", "--connect", "qemu:///system", name]) } }
            let pid = try #require(Fixtures.mvmQEMUProcesses().first)
            let status = try #require(readSmallFile("/proc/\(pid)/status"))
            let uid = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }?.split(separator: "\t").dropFirst()
                .first
            #expect(uid != nil && uid != "0", "\(status)")
            #expect(status.contains("Seccomp:\t2"), "\(status)")
            let commandLine = try #require(FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"))
            #expect(String(decoding: commandLine, as: UTF8.self).contains("-sandbox\0on,"))
            let destroy = try await runMVM(["destroy", "--connect", "qemu:///system", name])
            #expect(destroy.exitCode == 0, "\(destroy.stderr)")
            try await expectNothingLeft("after the system daemon's VM")
        }

        /// An interrupted nightly keeps its completed runs as a partial run
        /// in the history, which no baseline will use.
        @Test func interruptedNightlyIsRecordedAsPartial() async throws {
            try Fixtures.requireImages()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "mvm-partial-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let history = directory.appendingPathComponent("history.sqlite").path
            let (process, errors) = try startMVM([
                "nightly", "-n", "20", "--warmup", "0", "--no-reference", "--accel", "tcg", "--history", history,
                "--report", directory.appendingPathComponent("r.html").path, "--export-prometheus",
                directory.appendingPathComponent("m.prom").path,
            ])
            let stderr = try await interruptAfterTwoInstances(process, errors: errors)
            #expect(process.terminationStatus == 130, "\(stderr)")
            let list = try await runMVM(["history", "list", "--history", history])
            #expect(list.exitCode == 0, "\(list.stderr)")
            let rows = list.stdout.split(separator: "\n").dropFirst()
            #expect(rows.count == 1 && rows.first?.contains("partial") == true, "\(list.stdout)")
            try await expectNothingLeft("after the interrupted nightly")
        }

        /// SIGTERM, as a service manager stops a job: the same teardown as
        /// Ctrl-C, and status 143.
        @Test func sigtermDuringABootExits143AndLeavesNothing() async throws {
            try Fixtures.requireImages()
            let (process, errors) = try startMVM([
                "boot", "--append", "rdinit=/bin/sh", "--timeout", "120", "--accel", "tcg",
            ])
            try await waitFor { !Fixtures.mvmQEMUProcesses().isEmpty }
            try await Task.sleep(for: .milliseconds(500))
            process.terminate()
            process.waitUntilExit()
            let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(process.terminationReason == .exit && process.terminationStatus == 143, "\(stderr)")
            try await expectNothingLeft("after SIGTERM")
        }

        /// Another QEMU on the host during a nightly job: the job refuses to
        /// measure, says why, and exits 2.
        @Test func aNightlyJobSharingTheHostFailsWithStatus2() async throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "mvm-intruder-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            // A process the kernel calls qemu-system-x86 (a copy of sleep).
            let impostor = directory.appendingPathComponent("qemu-system-x86_64")
            try FileManager.default.copyItem(atPath: "/bin/sleep", toPath: impostor.path)
            let other = Process()
            other.executableURL = impostor
            other.arguments = ["60"]
            try other.run()
            defer { kill(other.processIdentifier, SIGKILL) }
            let history = directory.appendingPathComponent("history.sqlite").path
            let result = try await runMVM([
                "nightly", "-n", "1", "--warmup", "0", "--no-reference", "--accel", "tcg", "--history", history,
                "--report", directory.appendingPathComponent("r.html").path, "--export-prometheus",
                directory.appendingPathComponent("m.prom").path,
            ])
            #expect(result.exitCode == 2, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("JOB FAILED"), "\(result.stdout)")
            #expect(
                result.stdout.contains(
                    "other measurement processes were running: qemu-system-x86 (pid \(other.processIdentifier))"),
                "\(result.stdout)")
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("r.html").path))
            let textfile = try String(contentsOf: directory.appendingPathComponent("m.prom"), encoding: .utf8)
            #expect(textfile.contains("mvm_last_run_success{"), "\(textfile)")
            #expect(
                textfile.split(separator: "\n").contains { $0.hasPrefix("mvm_last_run_success{") && $0.hasSuffix(" 0") }
            )
            kill(other.processIdentifier, SIGKILL)
            other.waitUntilExit()
            try await expectNothingLeft("after a refused nightly job")
        }
    }
}
