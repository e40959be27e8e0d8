import MVMCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct ReadinessLineTests {
    @Test func parsesAllFacts() throws {
        let facts = try #require(
            GuestFacts(
                readinessLine:
                    "mvm-ready uptime=0.54 release=6.1.192 cpus=2 mem_total_kb=118236 mem_available_kb=101112"))
        #expect(facts.uptimeSeconds == 0.54)
        #expect(facts.kernelRelease == "6.1.192")
        #expect(facts.cpus == 2)
        #expect(facts.memTotalKiB == 118_236)
        #expect(facts.memAvailableKiB == 101_112)
        #expect(facts.usedBytes == (118_236 - 101_112) * 1024)
    }

    @Test func fieldOrderDoesNotMatter() {
        let facts = GuestFacts(readinessLine: "mvm-ready cpus=1 mem_available_kb=5 mem_total_kb=9 release=x uptime=3")
        #expect(facts?.memTotalKiB == 9)
        #expect(facts?.uptimeSeconds == 3)
    }

    @Test(arguments: [
        "",
        "mvm-ready",
        "mvm-readyx uptime=1 release=r cpus=1 mem_total_kb=1 mem_available_kb=1",
        "mvm-ready uptime=abc release=r cpus=1 mem_total_kb=1 mem_available_kb=1",
        "mvm-ready uptime=1 release= cpus=1 mem_total_kb=1 mem_available_kb=1",
        "mvm-ready uptime=1 release=r cpus=0 mem_total_kb=1 mem_available_kb=1",
        "mvm-ready uptime=1 release=r cpus=1 mem_total_kb=-1 mem_available_kb=1",
        "mvm-ready uptime=1 release=r cpus=1 mem_total_kb=1",
        "mvm-ready uptime=1 release=r cpus=1 mem_total_kb=1 mem_available_kb=1 junk",
        "Linux version 6.1 mvm-ready",
    ])
    func rejectsDamagedLines(line: String) {
        #expect(GuestFacts(readinessLine: line) == nil)
    }

    @Test func usedBytesNeverUnderflows() {
        let facts = GuestFacts(uptimeSeconds: 1, kernelRelease: "r", cpus: 1, memTotalKiB: 10, memAvailableKiB: 20)
        #expect(facts.usedBytes == 0)
    }
}

@Suite struct ConsoleScannerTests {
    let line = "mvm-ready uptime=0.50 release=6.1 cpus=1 mem_total_kb=100 mem_available_kb=60"

    @Test func findsTheLineAcrossChunksAndCRLF() {
        var scanner = ConsoleScanner()
        let bytes = Array("[    0.1] booting\r\n\(line)\r\n".utf8)
        var events: [ConsoleScanner.Event] = []
        for chunk in stride(from: 0, to: bytes.count, by: 7) {
            events += scanner.feed(bytes[chunk..<min(chunk + 7, bytes.count)])
        }
        #expect(events == [.ready(GuestFacts(readinessLine: line)!)])
        #expect(scanner.lastLines == ["[    0.1] booting", line])
        #expect(scanner.receivedBytes == bytes.count)
    }

    @Test func noEventUntilTheLineEnds() {
        var scanner = ConsoleScanner()
        #expect(scanner.feed(Array(line.utf8)).isEmpty)
        #expect(scanner.lastLines == [line])
        #expect(scanner.feed([UInt8(ascii: "\n")]).count == 1)
    }

    @Test func findsTheLineAfterUnterminatedKernelOutput() {
        var scanner = ConsoleScanner()
        let events = scanner.feed(Array("random: crng init done\(line)\n".utf8))
        #expect(events.count == 1)
    }

    @Test func reportsKernelPanic() {
        var scanner = ConsoleScanner()
        let panic = "[    1.2] Kernel panic - not syncing: No working init found."
        #expect(scanner.feed(Array((panic + "\n").utf8)) == [.kernelPanic(line: panic)])
    }

    /// `--ready-exit`: status 0 is ready, even after output without a
    /// newline; another status, or any exit under another rule, is the
    /// workload's failure.
    @Test func anExitIsReadyOnlyWithStatusZeroUnderReadyExit() {
        var exit = ConsoleScanner(rule: .workloadExit)
        #expect(exit.feed(Array("no newline heremvm-exit status=0\n".utf8)) == [.ready(nil)])
        var failed = ConsoleScanner(rule: .workloadExit)
        #expect(failed.feed(Array("mvm-exit status=127\n".utf8)) == [.workloadExited(status: 127)])
        var line = ConsoleScanner()
        #expect(line.feed(Array("mvm-exit status=0\n".utf8)) == [.workloadExited(status: 0)])
        var noise = ConsoleScanner(rule: .workloadExit)
        #expect(noise.feed(Array("mvm-exit status=\n".utf8)).isEmpty)
    }

    @Test func keepsOnlyTheLastLines() {
        var scanner = ConsoleScanner(tailLimit: 3)
        for index in 0..<10 { _ = scanner.feed(Array("line \(index)\n".utf8)) }
        #expect(scanner.lastLines == ["line 7", "line 8", "line 9"])
    }
}

@Suite struct ProcessMemoryTests {
    @Test func parsesSmapsRollup() throws {
        let text = """
            55d0c0000000-7ffd5b5f6000 ---p 00000000 00:00 0                          [rollup]
            Rss:               87412 kB
            Pss:               85120 kB
            Pss_Anon:          65000 kB
            Shared_Clean:       4000 kB
            """
        let memory = try #require(ProcessMemory(smapsRollup: text))
        #expect(memory.rssBytes == 87_412 * 1024)
        #expect(memory.pssBytes == 85_120 * 1024)
    }

    @Test func rejectsTextWithoutFigures() {
        #expect(ProcessMemory(smapsRollup: "Pss_Anon: 3 kB\n") == nil)
    }

    @Test func readsThisProcess() throws {
        let memory = try ProcessMemory.read(pid: getpid())
        #expect(memory.pssBytes > 0)
        #expect(memory.rssBytes >= memory.pssBytes)
    }

    @Test func missingProcessIsAClearError() {
        #expect(throws: ProcessMemoryError.unreadable(pid: Int32.max, path: "/proc/\(Int32.max)/smaps_rollup")) {
            try ProcessMemory.read(pid: Int32.max)
        }
    }
}

@Suite struct TimelineAndFormattingTests {
    @Test func orderIsChecked() {
        var timeline = BootTimeline()
        timeline.append(.started, at: .milliseconds(300))
        timeline.append(.firstOutput, at: .milliseconds(700))
        #expect(timeline.isOrdered)
        timeline.append(.ready, at: .milliseconds(600))
        #expect(!timeline.isOrdered)
        #expect(timeline.offset(of: .firstOutput) == .milliseconds(700))
        #expect(timeline.offset(of: .created) == nil)
    }

    @Test func decimalsAreFixedPoint() {
        #expect(formatDecimal(1043.25, places: 1) == "1043.3")
        #expect(formatDecimal(0.04, places: 1) == "0.0")
        #expect(formatDecimal(-2.5, places: 2) == "-2.50")
        #expect(formatDecimal(7, places: 0) == "7")
        #expect(formatBytes(89_260_032) == "85.1 MiB")
        #expect(formatBytes(2048) == "2.0 KiB")
        #expect(formatMilliseconds(.microseconds(1_043_200)) == "1043.2 ms")
    }
}

@Suite struct ConsoleTextTests {
    @Test func controlCharactersAreDropped() {
        var scanner = ConsoleScanner()
        _ = scanner.feed(Array("/ # \u{1B}[6n\u{07}ok\n".utf8))
        #expect(scanner.lastLines == ["/ # [6nok"])
    }
}

@Suite struct ReadyLineRuleTests {
    @Test func theFirstMatchingLineIsReadyWithFactsOnlyIfItIsMVMs() throws {
        var scanner = ConsoleScanner(rule: .matching(try ReadyLinePattern("^listening on :[0-9]+$")))
        #expect(scanner.feed(Array("starting\nlistening on :8080\n".utf8)) == [.ready(nil)])
        var own = ConsoleScanner(rule: .matching(try ReadyLinePattern("^mvm-ready ")))
        let events = own.feed(
            Array("mvm-ready uptime=0.4 release=6.1 cpus=1 mem_total_kb=100 mem_available_kb=50\n".utf8))
        #expect(events.count == 1)
        if case .ready(let facts) = events.first { #expect(facts?.kernelRelease == "6.1") }
    }

    @Test func aPatternThatDoesNotCompileSaysSo() {
        #expect(throws: ReadyLinePatternError.self) { try ReadyLinePattern("([") }
    }
}
