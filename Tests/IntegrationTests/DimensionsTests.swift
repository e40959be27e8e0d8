import Compare
import Foundation
import MVMCore
import Testing

extension RealInstances {
    /// `mvm compare --dimensions`: every section measured on real instances
    /// (QEMU through libvirt, runc, the workloads on the host), in every
    /// format.
    @Suite struct Dimensions {
        @Test func everyDimensionIsMeasuredAndRenderedInEveryFormat() async throws {
            try Fixtures.requireImages()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "mvm-dimensions-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = { (name: String) in directory.appendingPathComponent(name).path }

            let result = try await runMVM([
                "compare", "--dimensions", "all", "-n", "2", "--no-reference", "--accel", "tcg", "--timeout", "90",
                "--workload-runs", "2", "--sweep", "1,2", "--sweep-runs", "1", "--teardown-runs", "2",
                "--export-json", path("r.json"), "--export-csv", path("r.csv"), "--export-markdown", path("r.md"),
                "--report", path("r.html"),
            ])
            #expect(result.exitCode == 0, "\(result.stdout)\n\(result.stderr)")
            // The boot table first, then each section in order.
            let titles = [
                "mvm compare: 2 runs", "== Isolation ==", "== Workload overhead ==", "== Scalability ==",
                "== Portability and size ==", "== Teardown ==",
            ]
            let positions = titles.map { result.stdout.range(of: $0)?.lowerBound }
            #expect(positions.allSatisfy { $0 != nil }, "\(result.stdout)")
            #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())

            let report = try ComparisonReport.decode(Data(contentsOf: URL(fileURLWithPath: path("r.json"))))
            #expect(report.measuredDimensions == ComparisonDimension.allCases)
            #expect(report.samples.count == 2 * 3)
            let dimensions = try #require(report.dimensions)
            #expect(dimensions.failures == nil)

            let isolation = try #require(dimensions.isolation)
            #expect(isolation.failures.isEmpty, "\(isolation.failures)")
            let aspect = { (name: String) in isolation.aspects.first { $0.name == name }?.values ?? [:] }
            // The VM reports its own kernel, the container the host's.
            #expect(aspect("kernel")["vm"]?.hasSuffix(": its own") == true)
            #expect(aspect("kernel")["container"] == "\(HostFacts.probe().kernelRelease): the host's, shared")
            #expect(aspect("accelerator")["vm"] == "tcg: QEMU emulates the CPU")
            #expect(aspect("machine")["vm"] == "microvm")
            #expect(aspect("emulated devices")["vm"]?.contains("isa-serial") == true)
            // What the container printed from inside: its namespaces, no capabilities, its cgroup's limits.
            let inside = try #require(isolation.observations["container"])
            #expect(inside["ns.pid"] != nil && inside["status.CapEff"] == "0000000000000000")
            #expect(aspect("own namespaces")["container"]?.hasPrefix("cgroup, ipc, mnt, net, pid") == true)
            #expect(aspect("capabilities inside (CapEff)")["container"] == "none")
            #expect(aspect("memory limit")["container"] == "128 MiB (cgroup)")
            #expect(aspect("process limit")["container"] == "64")
            // QEMU runs under libvirt's seccomp sandbox: fewer host calls than the unfiltered container init.
            let vmCalls = try #require(isolation.observations["vm"]?["qemu.allowedSyscalls"].flatMap { Int($0) })
            let containerCalls = try #require(inside["init.allowedSyscalls"].flatMap { Int($0) })
            #expect(vmCalls < containerCalls)
            #expect(aspect("seccomp (host process)")["vm"] == "filter (1)")

            let workload = try #require(dimensions.workload)
            #expect(workload.sides == ["vm", "container", "host"])
            #expect(workload.samples.count == 3 * 3)
            #expect(workload.samples.allSatisfy { $0.failure == nil }, "\(workload.samples.compactMap(\.failure))")
            for side in workload.sides {
                for name in ["cpu", "memory", "syscalls", "metadata"] {
                    let figure = try #require(workload.figure(side: side, workload: name))
                    #expect(figure.duration.values.count == 2 && figure.duration.values.allSatisfy { $0 > 0 })
                    #expect((figure.ratioToHost == nil) == (side == "host"))
                }
            }
            // Under TCG the guest emulates every instruction: hashing is slower than on the host.
            #expect((workload.figure(side: "vm", workload: "cpu")?.ratioToHost?.ratio ?? 0) > 1.5)
            #expect(workload.caveats.contains { $0.hasPrefix("the VM ran under TCG") })

            let scaling = try #require(dimensions.scaling)
            #expect(scaling.levels.map { "\($0.side)@\($0.level)" } == ["vm@1", "vm@2", "container@1", "container@2"])
            for level in scaling.levels {
                #expect(level.failedInstances == 0)
                #expect(level.allReady.values.count == 1 && (level.launchRate ?? 0) > 0)
                let total = try #require(level.totalPSS.values.first)
                #expect(total > 0 && level.pssPerInstance.values.first == total / Double(level.level))
            }
            // A micro-VM's QEMU takes far more host memory than a container's processes.
            let vmPSS = try #require(scaling.levels.first { $0.side == "vm" }?.pssPerInstance.summary?.median)
            let containerPSS = try #require(
                scaling.levels.first { $0.side == "container" }?.pssPerInstance.summary?.median)
            #expect(vmPSS > 10 * containerPSS)

            let size = try #require(dimensions.size)
            let images = Fixtures.images
            let kernel = try #require(size.artifacts.first { $0.side == "vm" }?.parts.first { $0.name == "kernel" })
            let kernelBytes =
                try FileManager.default.attributesOfItem(atPath: images.minimalVmlinux)[.size] as? NSNumber
            #expect(kernel.bytes == kernelBytes?.uint64Value)
            #expect(kernel.gzipBytes > 0 && kernel.gzipBytes < kernel.bytes)
            let rootfs = try #require(size.artifacts.first { $0.side == "container" }?.parts.first)
            #expect(rootfs.bytes > 1_000_000 && rootfs.gzipBytes < rootfs.bytes)
            #expect(
                size.requirements.contains {
                    $0.side == "container" && $0.requirement.hasPrefix("an OCI runtime") && $0.presentHere
                })

            let teardown = try #require(dimensions.teardown)
            #expect(teardown.samples.count == 2 * 3)
            for figure in teardown.figures {
                #expect(figure.failures.isEmpty, "\(figure.failures)")
                let stopped = try #require(figure.stopReturned.summary?.median)
                let released = try #require(figure.released.summary?.median)
                #expect(released >= stopped)
                #expect(figure.releasedByKind["process"] != nil && figure.releasedByKind["cgroup"] != nil)
            }
            #expect(teardown.figures.first { $0.side == "vm" }?.releasedByKind["domain"] != nil)
            #expect(teardown.figures.first { $0.side == "container" }?.releasedByKind["runtime-state"] != nil)

            let csv = try String(contentsOfFile: path("r.csv"), encoding: .utf8)
            #expect(csv.contains("\nvm,workload.cpu/host,ratio,"))
            #expect(csv.contains("\ncontainer,scaling.2.all-ready,seconds,1,"))
            #expect(csv.contains("\nvm,size.kernel,bytes,"))
            #expect(csv.contains("\ncontainer,teardown.released,seconds,2,"))
            let markdown = try String(contentsOfFile: path("r.md"), encoding: .utf8)
            for title in [
                "## Isolation", "## Workload overhead", "## Scalability", "## Portability and size", "## Teardown",
            ] {
                #expect(markdown.contains(title))
            }
            #expect(csv.contains("\ncontainer,isolation.host syscalls it may make,text,"))
            let html = try String(contentsOfFile: path("r.html"), encoding: .utf8)
            for id in ["isolation", "workload", "scaling", "size", "teardown"] {
                #expect(html.contains("<section class=\"dimension\" id=\"\(id)\">"))
            }
            #expect(html.contains("<svg"))

            #expect(Fixtures.mvmQEMUProcesses().isEmpty)
            #expect(Fixtures.allQEMUProcesses().isEmpty)
            let list = try await runMVM(["list"])
            #expect(list.stdout.isEmpty)
        }
    }
}
