import Foundation
import Testing

@testable import MVMCore

@Suite struct BootTraceTests {
    @Test func kernelLinesAreParsedAndOthersAreNot() {
        let line = ConsoleTrace.kernelLine(TimedLine("[    0.301234] smpboot: CPU0: AMD", at: 0.9))
        #expect(line == ConsoleTrace.KernelLine(timestamp: 0.301234, message: "smpboot: CPU0: AMD", arrival: 0.9))
        #expect(ConsoleTrace.kernelLine(TimedLine("mvm-ready uptime=0.4 [1.0]", at: 1)) == nil)
        #expect(ConsoleTrace.kernelLine(TimedLine("[ nan] x", at: 1)) == nil)
        #expect(ConsoleTrace.kernelLine(TimedLine("[ 12] no fraction", at: 1)) == nil)
        #expect(ConsoleTrace.kernelLine(TimedLine("[ 1.5] not printk's six digits", at: 1)) == nil)
        // A kernel line that starts inside the init's output.
        let inside = ConsoleTrace.kernelLine(
            TimedLine("mvm-trace the sh[    0.434806] Run /init as init process", at: 1))
        #expect(inside?.message == "Run /init as init process" && inside?.timestamp == 0.434806)
    }

    /// Lines printed before the console existed arrive late in one burst;
    /// the kernel's zero comes from the line that arrived soonest after it
    /// was printed.
    @Test func kernelZeroIsTheSmallestArrivalLessTimestamp() {
        let lines = [
            ConsoleTrace.KernelLine(timestamp: 0, message: "Linux version", arrival: 0.6),
            ConsoleTrace.KernelLine(timestamp: 0.05, message: "console enabled", arrival: 0.6),
            ConsoleTrace.KernelLine(timestamp: 0.3, message: "smpboot", arrival: 0.802),
        ]
        #expect(abs((ConsoleTrace.kernelZero(lines) ?? 0) - 0.502) < 1e-9)
    }

    /// A guest's console: QEMU before the kernel's clock, the kernel's gaps
    /// each named by the line that ends it, then the init's marks.
    @Test func guestLayersChainFromTheVCPUsToReady() throws {
        var trace = BootTrace(ready: 1.0)
        let console = [
            TimedLine("[    0.000000] Linux version 6.1", at: 0.55),
            TimedLine("[    0.050000] printk: console [ttyS0] enabled", at: 0.55),
            TimedLine("[    0.300000] smpboot: CPU0: AMD", at: 0.801),
            TimedLine("[    0.400000] Run /init as init process", at: 0.9),
            TimedLine("mvm-trace mount /proc, /dev and /sys", at: 0.95),
            TimedLine("mvm-ready uptime=0.45", at: 1.0),
        ]
        ConsoleTrace.addGuest(console: console, guestStart: 0.4, initStart: 0.4, to: &trace)
        let names = trace.leaves.map(\.name)
        #expect(
            names == [
                "firmware and the kernel's entry, before the kernel's clock starts", "printk: console [ttyS0] enabled",
                "smpboot: CPU0: AMD", "Run /init as init process", "mount /proc, /dev and /sys",
                "print the readiness line",
            ])
        let smpboot = try #require(trace.leaves.first { $0.name.hasPrefix("smpboot") })
        #expect(abs(smpboot.duration - 0.25) < 1e-9)
        // Before the vCPUs ran is the host's part, not in this trace yet.
        #expect(abs(trace.coverage - 0.6) < 1e-9)
        #expect(trace.unexplainedGaps.count == 1 && trace.unexplainedGaps.first?.end == 0.4)
    }

    @Test func gapsAreWhatNoLeafCovers() {
        var trace = BootTrace(ready: 1.0)
        trace.add(TraceSpan(layer: .mvm, name: "a", start: 0, end: 0.2))
        trace.add(TraceSpan(layer: .libvirt, name: "b", start: 0.1, end: 0.5))
        trace.add(TraceSpan(layer: .kernel, name: "c", start: 0.7, end: 0.9))
        let gaps = trace.unexplainedGaps
        #expect(gaps.count == 2)
        #expect(abs(gaps[0].start - 0.5) < 1e-9 && abs(gaps[0].end - 0.7) < 1e-9)
        #expect(abs(trace.coverage - 0.7) < 1e-9)
        // A parent's time counts through its children only.
        let parent = trace.add(TraceSpan(layer: .`init`, name: "init", start: 0.9, end: 1.0))
        trace.add(TraceSpan(layer: .`init`, name: "step", start: 0.9, end: 0.95, parent: parent))
        #expect(abs(trace.coverage - 0.75) < 1e-9)
    }

    @Test func stepKeysIgnoreNumbers() {
        let a = TraceSpan(
            layer: .kernel, name: "Memory: 115400K/130680K available (4096K kernel code)", start: 0, end: 1)
        let b = TraceSpan(
            layer: .kernel, name: "Memory: 115396K/130680K available (4096K kernel code)", start: 0, end: 1)
        #expect(a.key == b.key)
        #expect(a.key != TraceSpan(layer: .libvirt, name: a.name, start: 0, end: 1).key)
    }

    /// The step whose time moved most leads, and its layer is the one that
    /// changed most.
    @Test func differenceLeadsWithTheLargestChange() {
        var baseline = BootTrace(ready: 1.0)
        baseline.add(TraceSpan(layer: .libvirt, name: "guest CPU", start: 0, end: 0.15))
        baseline.add(TraceSpan(layer: .kernel, name: "smpboot: CPU0", start: 0.15, end: 0.6))
        baseline.add(TraceSpan(layer: .`init`, name: "mount", start: 0.6, end: 1.0))
        var current = BootTrace(ready: 1.2)
        current.add(TraceSpan(layer: .libvirt, name: "guest CPU", start: 0, end: 0.31))
        current.add(TraceSpan(layer: .kernel, name: "smpboot: CPU0", start: 0.31, end: 0.8))
        current.add(TraceSpan(layer: .`init`, name: "mount", start: 0.8, end: 1.2))
        let difference = TraceDifference(baseline: baseline, current: current)
        #expect(difference.steps.first?.name == "guest CPU")
        #expect(difference.largestLayerChange?.layer == .libvirt)
        #expect(difference.summary(steps: 1) == "libvirt guest CPU 150 → 310 ms")
    }

    @Test func aPhaseTraceCoversTheTimeline() {
        var timeline = BootTimeline()
        timeline.append(.started, at: .milliseconds(300))
        timeline.append(.ready, at: .milliseconds(800))
        let trace = BootTrace(phasesOf: timeline, note: "coarse")
        #expect(trace.spans.map(\.name) == ["request → started", "started → ready"])
        #expect(trace.coverage == 1 && trace.notes == ["coarse"])
    }
}

@Suite struct InterleavedConsoleTests {
    /// The init's first write can land inside the kernel's hand-over line:
    /// the kernel still ends there, and the init's mark still counts.
    @Test func aHandOverLineCutByTheInitsFirstWriteStillEndsTheKernel() {
        var trace = BootTrace(ready: 1.0)
        let console = [
            TimedLine("[    0.300000] smpboot: CPU0: AMD", at: 0.8),
            TimedLine("[    0.400000] Run /init as imvm-trace the shell runs /init", at: 0.9),
            TimedLine("nit process", at: 0.9),
            TimedLine("mvm-trace mount /proc, /dev and /sys", at: 0.95),
        ]
        ConsoleTrace.addGuest(console: console, guestStart: 0.4, initStart: 0.4, to: &trace)
        #expect(trace.notes.isEmpty, "\(trace.notes)")
        #expect(trace.spans.contains { $0.layer == .kernel && $0.name.hasPrefix("Run /init as i") })
        #expect(
            trace.leaves.filter { $0.layer == .`init` }.map(\.name) == [
                "the shell runs /init", "mount /proc, /dev and /sys", "print the readiness line",
            ])
    }
}
