import Foundation
import Testing

@testable import MVMCore

#if canImport(Glibc)
    import Glibc
#endif

/// Hand-assembled classic BPF, spelled as in linux/filter.h.
private enum Asm {
    typealias I = SeccompFilter.Instruction
    static let allow: UInt32 = 0x7FFF_0000
    static let log: UInt32 = 0x7FFC_0000
    static let killProcess: UInt32 = 0x8000_0000
    static let trace: UInt32 = 0x7FF0_0000
    static let userNotify: UInt32 = 0x7FC0_0000
    static func errno(_ code: UInt32) -> UInt32 { 0x0005_0000 | code }
    static let i386: UInt32 = 0x4000_0003

    static func loadNumber() -> I { I(code: 0x20, k: 0) }  // BPF_LD|BPF_W|BPF_ABS, seccomp_data.nr
    static func loadArch() -> I { I(code: 0x20, k: 4) }
    static func loadWord(_ offset: UInt32) -> I { I(code: 0x20, k: offset) }
    static func jeq(_ k: UInt32, _ jt: UInt8, _ jf: UInt8) -> I { I(code: 0x15, jt: jt, jf: jf, k: k) }
    static func jeqX(_ jt: UInt8, _ jf: UInt8) -> I { I(code: 0x1d, jt: jt, jf: jf) }
    static func jgt(_ k: UInt32, _ jt: UInt8, _ jf: UInt8) -> I { I(code: 0x25, jt: jt, jf: jf, k: k) }
    static func jge(_ k: UInt32, _ jt: UInt8, _ jf: UInt8) -> I { I(code: 0x35, jt: jt, jf: jf, k: k) }
    static func jgtX(_ jt: UInt8, _ jf: UInt8) -> I { I(code: 0x2d, jt: jt, jf: jf) }
    static func jset(_ k: UInt32, _ jt: UInt8, _ jf: UInt8) -> I { I(code: 0x45, jt: jt, jf: jf, k: k) }
    static func jsetX(_ jt: UInt8, _ jf: UInt8) -> I { I(code: 0x4d, jt: jt, jf: jf) }
    static func ja(_ k: UInt32) -> I { I(code: 0x05, k: k) }
    static func ret(_ k: UInt32) -> I { I(code: 0x06, k: k) }
    static let retA = I(code: 0x16)
    static func and(_ k: UInt32) -> I { I(code: 0x54, k: k) }
    static func or(_ k: UInt32) -> I { I(code: 0x44, k: k) }
    static func add(_ k: UInt32) -> I { I(code: 0x04, k: k) }
    static func sub(_ k: UInt32) -> I { I(code: 0x14, k: k) }
    static func lsh(_ k: UInt32) -> I { I(code: 0x64, k: k) }
    static func rsh(_ k: UInt32) -> I { I(code: 0x74, k: k) }
    static let lshX = I(code: 0x6c)
    static func ldImm(_ k: UInt32) -> I { I(code: 0x00, k: k) }
    static func ldxImm(_ k: UInt32) -> I { I(code: 0x01, k: k) }
    static func st(_ slot: UInt32) -> I { I(code: 0x02, k: slot) }
    static func stx(_ slot: UInt32) -> I { I(code: 0x03, k: slot) }
    static func ldMem(_ slot: UInt32) -> I { I(code: 0x60, k: slot) }
    static func ldxMem(_ slot: UInt32) -> I { I(code: 0x61, k: slot) }
    static let tax = I(code: 0x07)
    static let txa = I(code: 0x87)
}

/// A few x86-64 system calls, enough to count with.
private let smallTable = HostSyscallTable(syscalls: [
    .init(name: "read", number: 0), .init(name: "write", number: 1), .init(name: "open", number: 2),
    .init(name: "close", number: 3), .init(name: "rt_sigreturn", number: 15), .init(name: "exit", number: 60),
    .init(name: "mount", number: 165), .init(name: "reboot", number: 169), .init(name: "openat", number: 257),
])

private func verdict(
    _ filter: SeccompFilter, nr: Int32, arch: UInt32 = SeccompData.auditArchX86_64, args: [UInt64] = []
) throws -> UInt32 {
    try filter.evaluate(SeccompData(nr: nr, arch: arch, args: args))
}

private func exposure(_ filters: [SeccompFilter]) throws -> SyscallExposure {
    try SyscallExposure(
        status: ProcessSeccompStatus(mode: .filter, filterCount: filters.count, noNewPrivileges: true),
        filters: filters, table: smallTable)
}

@Suite struct SeccompInterpreterTests {
    /// The usual shape of a hand-written allow-list: check the
    /// architecture, then allow listed numbers, deny the rest with EPERM.
    static let allowList = SeccompFilter([
        Asm.loadArch(), Asm.jeq(SeccompData.auditArchX86_64, 1, 0), Asm.ret(Asm.killProcess),
        Asm.loadNumber(),
        Asm.jeq(0, 3, 0),  // read
        Asm.jeq(1, 2, 0),  // write
        Asm.jeq(60, 1, 0),  // exit
        Asm.ret(Asm.errno(1)),
        Asm.ret(Asm.allow),
    ])

    @Test func allowListAllowsOnlyItsCalls() throws {
        let result = try exposure([Self.allowList])
        #expect(result.allowedSyscallCount == 3)
        #expect(result.hostSyscallCount == smallTable.syscalls.count)
        #expect(result.deniedSyscalls == ["open", "close", "rt_sigreturn", "mount", "reboot", "openat"])
        #expect(SeccompAction(verdict: try verdict(Self.allowList, nr: 2)) == .errno)
    }

    @Test func wrongArchitectureIsKilled() throws {
        let answer = try verdict(Self.allowList, nr: 0, arch: Asm.i386)
        #expect(answer == Asm.killProcess)
        #expect(SeccompAction(verdict: answer) == .killProcess)
        #expect(try verdict(Self.allowList, nr: 0) == Asm.allow)
    }

    /// A deny-list (QEMU's shape): named calls are refused, others pass.
    @Test func denyListRefusesOnlyItsCalls() throws {
        let denyList = SeccompFilter([
            Asm.loadNumber(),
            Asm.jeq(165, 2, 0),  // mount
            Asm.jeq(169, 1, 0),  // reboot
            Asm.ret(Asm.allow),
            Asm.ret(0x0003_0000),  // SECCOMP_RET_TRAP
        ])
        let result = try exposure([denyList])
        #expect(result.allowedSyscallCount == smallTable.syscalls.count - 2)
        #expect(result.deniedSyscalls == ["mount", "reboot"])
    }

    /// libseccomp's x32 guard: numbers with bit 30 are another ABI.
    @Test func jsetTestsBits() throws {
        let filter = SeccompFilter([
            Asm.loadNumber(), Asm.jset(0x4000_0000, 0, 1), Asm.ret(Asm.errno(38)), Asm.ret(Asm.allow),
        ])
        #expect(try verdict(filter, nr: 1) == Asm.allow)
        #expect(try verdict(filter, nr: 0x4000_0001) == Asm.errno(38))
        let withX = SeccompFilter([
            Asm.ldxImm(0x2), Asm.loadNumber(), Asm.jsetX(1, 0), Asm.ret(Asm.allow), Asm.ret(Asm.killProcess),
        ])
        #expect(try verdict(withX, nr: 2) == Asm.killProcess)
        #expect(try verdict(withX, nr: 1) == Asm.allow)
    }

    /// Keeping the number in scratch memory across other loads, as
    /// libseccomp's argument comparisons do.
    @Test func scratchMemoryKeepsValues() throws {
        let filter = SeccompFilter([
            Asm.loadNumber(), Asm.st(3),
            Asm.loadWord(16),  // args[0], low half
            Asm.ldMem(3),
            Asm.jeq(257, 0, 1), Asm.ret(Asm.errno(13)),
            Asm.ldxMem(3), Asm.txa, Asm.jeq(2, 0, 1), Asm.ret(Asm.errno(2)),
            Asm.ret(Asm.allow),
        ])
        #expect(try verdict(filter, nr: 257) == Asm.errno(13))
        #expect(try verdict(filter, nr: 2) == Asm.errno(2))
        #expect(try verdict(filter, nr: 0) == Asm.allow)
        let stored = SeccompFilter([Asm.ldxImm(7), Asm.stx(0), Asm.ldMem(0), Asm.retA])
        #expect(try verdict(stored, nr: 0) == 7)
    }

    @Test func arithmeticAndRegisterMoves() throws {
        // ((nr & 0xff) | 0x100) + 3 - 1, << 4, >> 2: for nr 0x1234: 0x134 + 2 = 0x136, <<4 = 0x1360, >>2 = 0x4d8.
        let filter = SeccompFilter([
            Asm.loadNumber(), Asm.and(0xff), Asm.or(0x100), Asm.add(3), Asm.sub(1), Asm.lsh(4), Asm.rsh(2), Asm.retA,
        ])
        #expect(try verdict(filter, nr: 0x1234) == 0x4d8)
        let moves = SeccompFilter([Asm.ldImm(5), Asm.tax, Asm.ldImm(1), Asm.lshX, Asm.retA])
        #expect(try verdict(moves, nr: 0) == 32)
    }

    @Test func comparisonsWithKAndX() throws {
        let filter = SeccompFilter([
            Asm.loadNumber(), Asm.jge(300, 3, 0), Asm.jgt(100, 1, 0), Asm.ret(1), Asm.ret(2), Asm.ret(3),
        ])
        #expect(try verdict(filter, nr: 100) == 1)
        #expect(try verdict(filter, nr: 101) == 2)
        #expect(try verdict(filter, nr: 300) == 3)
        let withX = SeccompFilter([
            Asm.ldxImm(10), Asm.loadNumber(), Asm.jgtX(2, 0), Asm.jeqX(0, 2), Asm.ret(0), Asm.ret(1), Asm.ja(1),
            Asm.ret(99), Asm.ret(2),
        ])
        #expect(try verdict(withX, nr: 11) == 1)
        #expect(try verdict(withX, nr: 10) == 0)
        #expect(try verdict(withX, nr: 9) == 2)
    }

    /// The upper half of a 64-bit argument sits at the next word.
    @Test func argumentHalves() throws {
        let filter = SeccompFilter([Asm.loadWord(16 + 8 * 2 + 4), Asm.retA])
        #expect(try verdict(filter, nr: 0, args: [0, 0, 0x1_0000_0002]) == 1)
        let low = SeccompFilter([Asm.loadWord(16 + 8 * 2), Asm.retA])
        #expect(try verdict(low, nr: 0, args: [0, 0, 0x1_0000_0002]) == 2)
    }

    /// Every filter must allow a call: the strictest answer wins.
    @Test func stackedFiltersAllMustAllow() throws {
        let noMount = SeccompFilter([Asm.loadNumber(), Asm.jeq(165, 0, 1), Asm.ret(Asm.errno(1)), Asm.ret(Asm.allow)])
        let noReboot = SeccompFilter([Asm.loadNumber(), Asm.jeq(169, 0, 1), Asm.ret(Asm.killProcess), Asm.ret(Asm.log)])
        let result = try exposure([noMount, noReboot])
        #expect(result.filterCount == 2)
        #expect(result.deniedSyscalls == ["mount", "reboot"])
    }

    @Test func actionsThatDoNotRunTheCallOnTheirOwn() {
        #expect(SeccompAction(verdict: Asm.allow).allowsTheCall)
        #expect(SeccompAction(verdict: Asm.log).allowsTheCall)
        #expect(!SeccompAction(verdict: Asm.trace).allowsTheCall)
        #expect(!SeccompAction(verdict: Asm.userNotify).allowsTheCall)
        #expect(!SeccompAction(verdict: Asm.errno(1)).allowsTheCall)
        #expect(SeccompAction(verdict: 0) == .killThread)
        // An action the kernel does not know kills the process.
        #expect(SeccompAction(verdict: 0x7000_0000) == .killProcess)
    }

    @Test func refusesWhatSeccompWouldNotLoad() {
        let cases: [(SeccompFilter, SeccompFilterError)] = [
            (
                SeccompFilter([SeccompFilter.Instruction(code: 0x28, k: 0), Asm.retA]),
                .unsupportedInstruction(index: 0, code: 0x28)
            ),  // LD H ABS
            (
                SeccompFilter([SeccompFilter.Instruction(code: 0x40, k: 0), Asm.retA]),
                .unsupportedInstruction(index: 0, code: 0x40)
            ),  // LD W IND
            (
                SeccompFilter([SeccompFilter.Instruction(code: 0x94, k: 3), Asm.retA]),
                .unsupportedInstruction(index: 0, code: 0x94)
            ),  // ALU MOD
            (
                SeccompFilter([SeccompFilter.Instruction(code: 0x0e), Asm.retA]),
                .unsupportedInstruction(index: 0, code: 0x0e)
            ),  // RET X
            (SeccompFilter([Asm.loadWord(2), Asm.retA]), .loadOutOfRange(index: 0, offset: 2)),
            (SeccompFilter([Asm.loadWord(64), Asm.retA]), .loadOutOfRange(index: 0, offset: 64)),
            (SeccompFilter([Asm.ldMem(16), Asm.retA]), .scratchOutOfRange(index: 0, slot: 16)),
            (SeccompFilter([Asm.ldMem(1), Asm.retA]), .scratchReadBeforeWrite(index: 0, slot: 1)),
            (SeccompFilter([Asm.ldxImm(32), Asm.lshX, Asm.retA]), .shiftOutOfRange(index: 1, amount: 32)),
            (SeccompFilter([Asm.loadNumber(), Asm.jeq(0, 0, 5)]), .ranPastTheEnd(length: 2)),
        ]
        for (filter, expected) in cases {
            #expect(throws: expected) { try filter.evaluate(SeccompData(nr: 1)) }
        }
    }
}

@Suite struct SyscallExposureParsingTests {
    @Test func parsesProcStatus() throws {
        let text =
            "Name:\tqemu\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t3\nSpeculation_Store_Bypass:\tthread vulnerable\n"
        #expect(
            ProcessSeccompStatus(procStatus: text)
                == ProcessSeccompStatus(mode: .filter, filterCount: 3, noNewPrivileges: true))
        // Kernels before 5.9 have no filter count.
        #expect(
            ProcessSeccompStatus(procStatus: "NoNewPrivs:\t0\nSeccomp:\t0\n")
                == ProcessSeccompStatus(mode: .disabled, filterCount: nil, noNewPrivileges: false))
        #expect(ProcessSeccompStatus(procStatus: "Name:\tx\n") == nil)
        #expect(ProcessSeccompStatus(procStatus: "Seccomp:\t7\n") == nil)
    }

    @Test func parsesTheSyscallHeader() {
        let header = """
            #ifndef _ASM_UNISTD_64_H
            #define _ASM_UNISTD_64_H
            #define __NR_read 0
            #define __NR_write 1
            #define __NR_memfd_secret 447

            #endif /* _ASM_UNISTD_64_H */
            """
        #expect(
            HostSyscallTable(header: header).syscalls == [
                .init(name: "read", number: 0), .init(name: "write", number: 1),
                .init(name: "memfd_secret", number: 447),
            ])
    }

    @Test func strictModeAllowsFourCalls() throws {
        let result = try SyscallExposure(
            status: ProcessSeccompStatus(mode: .strict, filterCount: 0, noNewPrivileges: false), filters: [],
            table: smallTable)
        #expect(result.allowedSyscallCount == 4)
        #expect(result.deniedSyscalls == ["open", "close", "mount", "reboot", "openat"])
    }

    @Test func theHostTableHasTheUsualCalls() throws {
        let table = try HostSyscallTable.load()
        #expect(table.syscalls.count > 300)
        #expect(table.syscalls.first == .init(name: "read", number: 0))
        #expect(table.syscalls.contains(.init(name: "openat", number: 257)))
    }

    @Test func encodesItsFigures() throws {
        let value = SyscallExposure(
            mode: .filter, filterCount: 1, noNewPrivileges: false, hostSyscallCount: 10, allowedSyscallCount: 8,
            deniedSyscalls: ["mount", "reboot"])
        let data = try JSONEncoder().encode(value)
        #expect(try JSONDecoder().decode(SyscallExposure.self, from: data) == value)
        #expect(String(decoding: data, as: UTF8.self).contains("\"mode\":2"))
    }
}

/// Real processes: these need root (ptrace of a filtered process needs
/// CAP_SYS_ADMIN), as mvm's tests run.
@Suite(.serialized) struct SyscallExposureOfRealProcesses {
    /// Waits until the process's status shows `mode` (a filter is installed
    /// some time after exec).
    func waitForMode(_ mode: SyscallExposure.Mode, pid: Int32) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let text = readSmallFile("/proc/\(pid)/status"), ProcessSeccompStatus(procStatus: text)?.mode == mode {
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("process \(pid) did not reach seccomp mode \(mode) within 10 s")
    }

    @Test func aProcessWithoutFilterMayMakeEveryCall() async throws {
        let process = try await SupervisedProcess.start(executable: "/bin/sleep", arguments: ["30"])
        do {
            let exposure = try SyscallExposure.read(pid: process.pid)
            let table = try HostSyscallTable.load()
            #expect(exposure.mode == .disabled)
            #expect(exposure.filterCount == 0)
            #expect(exposure.allowedSyscallCount == table.syscalls.count)
            #expect(exposure.hostSyscallCount == table.syscalls.count)
            #expect(exposure.deniedSyscalls.isEmpty)
        } catch {
            await process.stop()
            throw error
        }
        await process.stop()
    }

    /// QEMU's `-sandbox on` installs libseccomp's deny-list: most calls stay
    /// allowed, a few dozen (mount, reboot, kexec_load, ...) are not.
    @Test func qemuSandboxIsADenyList() async throws {
        let qemu = "/usr/bin/qemu-system-x86_64"
        try #require(FileManager.default.isExecutableFile(atPath: qemu), "needs qemu-system-x86")
        try #require(getuid() == 0, "reading seccomp filters needs root")
        let process = try await SupervisedProcess.start(
            executable: qemu,
            arguments: ["-machine", "none", "-sandbox", "on", "-display", "none", "-S", "-nodefaults"])
        do {
            try await waitForMode(.filter, pid: process.pid)
            let exposure = try SyscallExposure.read(pid: process.pid)
            print(
                "QEMU -sandbox on: \(exposure.filterCount) filter(s), \(exposure.allowedSyscallCount) of \(exposure.hostSyscallCount) calls allowed; denied: \(exposure.deniedSyscalls.joined(separator: " "))"
            )
            #expect(exposure.mode == .filter)
            #expect(exposure.filterCount >= 1)
            #expect(exposure.allowedSyscallCount > 250)
            #expect(exposure.allowedSyscallCount < exposure.hostSyscallCount)
            #expect(exposure.deniedSyscalls.contains("reboot"))
            #expect(!exposure.deniedSyscalls.contains("read"))
            // The process runs on after being read.
            try await Task.sleep(for: .milliseconds(100))
            let status = try #require(readSmallFile("/proc/\(process.pid)/status"))
            #expect(!status.contains("State:\tt"), "still stopped for tracing")
            #expect(status.contains("TracerPid:\t0"))
        } catch {
            await process.stop()
            throw error
        }
        await process.stop()
    }

    @Test func aMissingProcessSaysWhichPid() {
        #expect(throws: SyscallExposureError.statusUnreadable(pid: Int32.max, path: "/proc/\(Int32.max)/status")) {
            try SyscallExposure.read(pid: Int32.max)
        }
    }
}
