import Foundation
import MVMCore
import Testing

@testable import VMM

@Suite struct LibvirtStartTraceTests {
    /// Lines as libvirt 9.0 writes them (trimmed from a real start).
    static let log = """
        2026-12-05 19:01:40.053+0000: 26587: debug : virDomainCreateXML:178 : conn=0x7fc254017040, xmlDesc=<domain type='qemu'>
          <name>mvm-14ff9d9b</name>
        2026-12-05 19:01:40.072+0000: 26587: debug : qemuProcessStart:8130 : conn=0x7fc254017040 driver=0x7fc25401bae0
        2026-12-05 19:01:40.072+0000: 26587: debug : qemuProcessInit:5720 : Beginning VM startup process
        2026-12-05 19:01:40.094+0000: 26587: debug : virCommandHandshakeNotify:2892 : Notify handshake on 20
        2026-12-05 19:01:40.095+0000: 26587: debug : qemuProcessLaunch:7877 : Waiting for monitor to show up
        2026-12-05 19:01:40.095+0000: 26587: info : qemuMonitorSend:861 : QEMU_MONITOR_SEND_MSG: mon=0x7fc25402f2f0 msg={"execute":"qmp_capabilities","id":"libvirt-1"}
        2026-12-05 19:01:40.119+0000: 26594: debug : qemuMonitorJSONIOProcessLine:189 : Line [{"QMP": {"version": {}}}]
        2026-12-05 19:01:40.147+0000: 26587: debug : qemuProcessLaunch:7905 : Verifying and updating provided guest CPU
        2026-12-05 19:01:40.150+0000: 26587: info : qemuMonitorSend:861 : QEMU_MONITOR_SEND_MSG: mon=0x7fc25402f2f0 msg={"execute":"qom-get","id":"libvirt-5"}
        2026-12-05 19:01:40.151+0000: 26587: info : qemuMonitorSend:861 : QEMU_MONITOR_SEND_MSG: mon=0x7fc25402f2f0 msg={"execute":"qom-get","id":"libvirt-6"}
        2026-12-05 19:01:40.422+0000: 26587: debug : qemuProcessLaunch:7909 : Detecting IOThread PIDs
        2026-12-05 19:01:40.438+0000: 26587: debug : qemuProcessFinishStartup:8083 : Starting domain CPUs
        2026-12-05 19:01:40.439+0000: 26587: info : qemuMonitorSend:861 : QEMU_MONITOR_SEND_MSG: mon=0x7fc25402f2f0 msg={"execute":"cont","id":"libvirt-9"}
        """

    static let origin = Date(timeIntervalSince1970: 1_796_497_300.0)  // 2026-12-05 19:01:40 UTC

    @Test func timesAreUTCWithMilliseconds() throws {
        let seconds = try #require(LibvirtStartTrace.wallClock("2026-12-05 19:01:40.053+0000"))
        #expect(abs(seconds - (Self.origin.timeIntervalSince1970 + 0.053)) < 1e-6)
        let east = try #require(LibvirtStartTrace.wallClock("2026-12-05 20:01:40.053+0100"))
        #expect(abs(east - seconds) < 1e-6)
        #expect(LibvirtStartTrace.wallClock("  <name>mvm-14ff9d9b</name>") == nil)
    }

    @Test func stepsLastUntilTheNextAndCountTheirQMPCommands() throws {
        let lines = LibvirtStartTrace.lines(of: Self.log, requestedAt: Self.origin)
        #expect(lines.count == 13)  // the XML's continuation line carries no time
        let start = try #require(LibvirtStartTrace(lines: lines))
        var trace = BootTrace(ready: 1.0)
        start.add(to: &trace, returned: 0.445)
        let names = trace.spans.map(\.name)
        #expect(
            names == [
                "virDomainCreateXML", "parse the domain XML, look up QEMU's capabilities",
                "Beginning VM startup process", "Waiting for monitor to show up",
                "Verifying and updating provided guest CPU", "Detecting IOThread PIDs", "Starting domain CPUs",
                "QEMU initialises until its monitor's greeting",
            ])
        let readback = try #require(trace.spans.first { $0.name == "Verifying and updating provided guest CPU" })
        #expect(abs(readback.duration - 0.275) < 1e-6)
        #expect(readback.detail == "2 QMP commands, in qemuProcessLaunch")
        let greeting = try #require(trace.spans.last)
        #expect(greeting.layer == .qemu && abs(greeting.duration - 0.025) < 1e-6)
        #expect(abs((start.vcpusStarted ?? 0) - 0.439) < 1e-6)
        #expect(trace.spans.last { $0.layer == .libvirt }.map { abs($0.end - 0.445) < 1e-6 } == true)
    }

    @Test func aLogWithoutAStartGivesNothing() {
        #expect(LibvirtStartTrace(lines: LibvirtStartTrace.lines(of: "garbage\n", requestedAt: Self.origin)) == nil)
    }
}

@Suite struct DaemonDebugLogTests {
    @Test func virtAdminsSettingsAreRead() {
        #expect(
            DaemonDebugLog.value(of: " Logging outputs: 3:file:/var/log/libvirt/libvirtd.log\n\n")
                == "3:file:/var/log/libvirt/libvirtd.log")
        #expect(DaemonDebugLog.value(of: " Logging filters: \n") == "")
        #expect(DaemonDebugLog.value(of: "error: failed to connect") == nil)
    }

    /// Only a local daemon's log can be turned on and read.
    @Test func adminURIsNameTheLocalDaemon() throws {
        let system = try LibvirtURI(parsing: "qemu:///system")
        #expect(system.daemonAdminURIs(socketExists: { _ in false }) == ["libvirtd:///system"])
        #expect(
            system.daemonAdminURIs(socketExists: { $0.hasSuffix("virtqemud-admin-sock") }) == ["virtqemud:///system"])
        #expect(try LibvirtURI(parsing: "qemu+ssh://host/system").daemonAdminURIs().isEmpty)
        #expect(LibvirtURI.embedded(root: "/var/lib/mvm/libvirt").daemonAdminURIs().isEmpty)
    }
}

@Suite struct TraceKernelArgumentTests {
    /// The trace's arguments go between mvm's and the user's, so that the
    /// user's `loglevel=8` (for initcall_debug) wins over the trace's 7.
    @Test func theUsersArgumentsComeLast() {
        var description = DomainDescription(
            name: "mvm-00000000", accelerator: .tcg, machine: .microvm, memoryMiB: 128, vcpus: 1,
            kernelPath: "/k", initrdPath: "/i",
            kernelArguments: DomainDescription.baseKernelArguments + ["initcall_debug", "loglevel=8"],
            console: .libvirtStream, consoleLogPath: nil)
        description.addTraceKernelArguments()
        #expect(
            description.kernelArguments
                == DomainDescription.baseKernelArguments + DomainDescription.traceKernelArguments + [
                    "initcall_debug", "loglevel=8",
                ])
    }
}
