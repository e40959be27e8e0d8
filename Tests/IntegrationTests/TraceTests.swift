import Foundation
import MVMCore
import Testing

extension RealInstances {
    /// `--trace` on real starts: what the spans cover, what they blame, the
    /// OTLP file, and nothing left behind.
    @Suite struct Traces {
        /// The trace of one `mvm boot --trace --json` (or `run`).
        func tracedStart(_ arguments: [String]) async throws -> (trace: BootTrace, stdout: String) {
            let result = try await runMVM(arguments + ["--trace", "--json", "--timeout", "90"])
            #expect(result.exitCode == 0, "\(result.stderr)")
            struct Report: Decodable { var trace: BootTrace }
            let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
            return (report.trace, result.stdout)
        }

        /// At least 95 % of the time to ready in named steps, and no gap
        /// without one over 5 % of it.
        func expectExplained(_ trace: BootTrace, _ label: String) {
            #expect(trace.coverage >= 0.95, "\(label): \(trace.summary())")
            let longest = trace.unexplainedGaps.first.map { $0.end - $0.start } ?? 0
            #expect(longest <= 0.05 * trace.ready, "\(label): \(trace.summary())")
            #expect(trace.spans.allSatisfy { $0.start >= 0 && $0.end <= trace.ready + 0.001 && $0.start <= $0.end })
        }

        @Test func tracedBootCoversEveryLayerAndExportsOTLP() async throws {
            try Fixtures.requireImages()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mvm-trace-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let otlp = directory.appendingPathComponent("boot.otlp.json").path
            let (trace, _) = try await tracedStart(["boot", "--export-otlp", otlp])
            expectExplained(trace, "vm")
            let layers = Set(trace.leaves.map(\.layer))
            #expect(layers.isSuperset(of: [.mvm, .libvirt, .qemu, .kernel, .`init`]), "\(layers)")
            // libvirt's own step names, with the guest-CPU readback's QMP commands.
            let readback = trace.spans.first { $0.name == "Verifying and updating provided guest CPU" }
            let readbackDetail = readback?.detail ?? ""
            #expect(readbackDetail.contains("QMP commands"), "\(trace.summary())")
            // The kernel ends at its hand-over line (whose gap may be 0: the
            // kernel's clock sometimes repeats a value here), and the init
            // starts there.
            #expect(trace.notes.isEmpty, "\(trace.notes)")
            let kernel = try #require(trace.spans.first { $0.layer == .kernel && $0.parent == nil })
            let initSpan = try #require(trace.spans.first { $0.layer == .`init` && $0.parent == nil })
            #expect(abs(initSpan.start - kernel.end) < 1e-9)
            #expect(trace.spans.contains { $0.layer == .`init` && $0.name == "mount /proc, /dev and /sys" })
            let parsed = try await runCommand("/usr/bin/env", ["python3", scriptPath("check-otlp.py"), otlp])
            #expect(parsed.exitCode == 0, "\(parsed.stdout)\(parsed.stderr)")
            #expect(parsed.stdout.hasPrefix("1 traces, "), "\(parsed.stdout)")
            #expect(Fixtures.mvmQEMUProcesses().isEmpty)
            #expect(Fixtures.consoleFiles().isEmpty, "\(Fixtures.consoleFiles())")
        }

        /// Through the system daemon, libvirt's debug log is turned on (and
        /// off again) through its administration API.
        @Test func tracedBootThroughTheSystemDaemonHasLibvirtsSteps() async throws {
            try Fixtures.requireImages()
            let outputsBefore = try await runCommand(
                "/usr/bin/virt-admin", ["-c", "libvirtd:///system", "daemon-log-outputs"])
            let filtersBefore = try await runCommand(
                "/usr/bin/virt-admin", ["-c", "libvirtd:///system", "daemon-log-filters"])
            let (trace, _) = try await tracedStart(["boot", "--connect", "qemu:///system"])
            expectExplained(trace, "vm through libvirtd")
            #expect(trace.notes.isEmpty, "\(trace.notes)")
            let readback = trace.spans.first { $0.name == "Verifying and updating provided guest CPU" }
            #expect(readback != nil, "\(trace.summary())")
            #expect(Fixtures.consoleFiles().isEmpty, "\(Fixtures.consoleFiles())")
            // The daemon's own log settings are as they were.
            let outputsAfter = try await runCommand(
                "/usr/bin/virt-admin", ["-c", "libvirtd:///system", "daemon-log-outputs"])
            #expect(outputsAfter.stdout == outputsBefore.stdout)
            #expect(!outputsAfter.stdout.contains(".libvirt.log"), "\(outputsAfter.stdout)")
            let filtersAfter = try await runCommand(
                "/usr/bin/virt-admin", ["-c", "libvirtd:///system", "daemon-log-filters"])
            #expect(filtersAfter.stdout == filtersBefore.stdout)
        }

        @Test func tracedContainerShowsTheRuntimesSteps() async throws {
            try Fixtures.requireImages()
            let (trace, _) = try await tracedStart(["run"])
            expectExplained(trace, "container")
            #expect(trace.spans.contains { $0.layer == .runtime && $0.name == "runc create" })
            #expect(trace.spans.contains { $0.layer == .runtime && $0.name.contains("nsexec") }, "\(trace.summary())")
            #expect(trace.spans.contains { $0.layer == .`init` && $0.name == "read the system facts" })
            // The runtime's log FIFO and the container are gone.
            #expect(Fixtures.consoleFiles().isEmpty, "\(Fixtures.consoleFiles())")
            let list = try await runMVM(["list"])
            #expect(list.stdout.isEmpty, "\(list.stdout)")
        }

        /// Under TCG the kernel calibrates the local APIC timer between
        /// "Mountpoint-cache" and "smpboot: CPU0" (HOST-NOTES): noapictimer
        /// removes that wait, and the trace must blame that gap.
        @Test func noapictimerComesOutAsTheKernelGapBeforeSmpboot() async throws {
            try Fixtures.requireImages()
            let (baseline, _) = try await tracedStart(["boot"])
            let (current, _) = try await tracedStart(["boot", "--append", "noapictimer"])
            let difference = TraceDifference(baseline: baseline, current: current)
            let largest = try #require(difference.steps.first)
            #expect(
                largest.layer == .kernel && largest.name.hasPrefix("smpboot: CPU0"), "\(difference.summary(steps: 5))")
            #expect(largest.delta < -0.1, "\(difference.summary(steps: 5))")
            #expect(difference.largestLayerChange?.layer == .kernel, "\(difference.layers)")
        }

        /// A delay put into the init (its test knob) must be blamed on the
        /// init layer and on the step that waited.
        @Test func initDelayComesOutAsTheInitLayer() async throws {
            try Fixtures.requireImages()
            let (baseline, _) = try await tracedStart(["boot"])
            let (current, _) = try await tracedStart(["boot", "--append", "mvm_init_delay=0.4"])
            let difference = TraceDifference(baseline: baseline, current: current)
            #expect(difference.largestLayerChange?.layer == .`init`, "\(difference.layers)")
            let largest = try #require(difference.steps.first)
            #expect(
                largest.layer == .`init` && largest.name.hasPrefix("wait mvm_init_delay="), "\(difference.summary())")
            #expect(largest.delta > 0.35, "\(difference.summary())")
            expectExplained(current, "vm with a delayed init")
        }

        @Test func compareTracesEachContenderOnceAndDrawsTheWaterfall() async throws {
            try Fixtures.requireImages()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mvm-trace-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let json = directory.appendingPathComponent("compare.json").path
            let html = directory.appendingPathComponent("compare.html").path
            let otlp = directory.appendingPathComponent("compare.otlp.json").path
            let result = try await runMVM([
                "compare", "-n", "2", "--warmup", "0", "--warm", "--trace", "--export-json", json, "--report", html,
                "--export-otlp", otlp, "--timeout", "90",
            ])
            #expect(result.exitCode == 0, "\(result.stderr)")
            #expect(result.stdout.contains("== where the time goes"), "\(result.stdout)")
            #expect(result.stdout.contains("tracing cost"), "\(result.stdout)")
            let report = try ComparisonReportProbe.read(json)
            // Traced starts are not samples: 2 runs per contender, no more.
            #expect(report.samples.filter { $0.contender == "vm" }.count == 2)
            for contender in ["vm", "container", "qemu-direct", "runc-direct", "vm-warm"] {
                let traced = try #require(report.traces[contender], "\(contender)")
                let trace = try #require(traced.trace, "\(contender): \(traced.failure ?? "")")
                #expect(traced.untracedReadyMedian != nil)
                #expect(trace.coverage >= 0.95, "\(contender): \(trace.summary())")
            }
            // The reference rows' own logs: the plain QEMU's console, runc run's debug log.
            #expect(report.traces["qemu-direct"]?.trace?.spans.contains { $0.layer == .kernel } == true)
            #expect(report.traces["runc-direct"]?.trace?.spans.contains { $0.name == "runc run" } == true)
            // The warm pool's start is its resume, then the guest's boot.
            let warm = report.traces["vm-warm"]?.trace
            #expect(warm?.spans.first?.name == "resume the prepared domain (virDomainResume)")
            #expect(warm?.spans.contains { $0.layer == .kernel } == true)
            let page = try String(contentsOfFile: html, encoding: .utf8)
            #expect(page.contains("<h2>Where the time goes</h2>") && page.contains("libvirt: virDomainCreateXML"))
            let parsed = try await runCommand("/usr/bin/env", ["python3", scriptPath("check-otlp.py"), otlp])
            #expect(parsed.stdout.hasPrefix("5 traces, "), "\(parsed.stdout)\(parsed.stderr)")
            #expect(Fixtures.allQEMUProcesses().isEmpty)
            #expect(Fixtures.consoleFiles().isEmpty, "\(Fixtures.consoleFiles())")
        }

        @Test func otlpFileInAMissingDirectoryIsRefusedBeforeAnythingStarts() async throws {
            let result = try await runMVM(["boot", "--export-otlp", "/nonexistent-mvm-dir/trace.json"])
            #expect(result.exitCode != 0)
            #expect(result.stderr.contains("cannot write /nonexistent-mvm-dir/trace.json"), "\(result.stderr)")
            #expect(Fixtures.mvmQEMUProcesses().isEmpty)
        }
    }
}

/// The parts of `mvm compare --export-json` the trace tests read.
enum ComparisonReportProbe {
    struct Sample: Decodable { var contender: String }
    struct Traced: Decodable {
        var trace: BootTrace?
        var failure: String?
        var untracedReadyMedian: Double?
    }
    struct Report: Decodable {
        var samples: [Sample]
        var traces: [String: Traced]
    }

    static func read(_ path: String) throws -> Report {
        try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }
}

/// A script of the checkout's `scripts/` (the tests run from the package's root).
func scriptPath(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/" + name).path
}
