import Foundation
import MVMCore
import Testing

@testable import VMM

@Suite struct IsolationFactsTests {
    /// Shaped like libvirt 9.0's live XML of an mvm micro-VM (trimmed).
    static let liveXML = """
        <domain type='qemu' id='3'>
          <name>mvm-0a1b2c3d</name>
          <memory unit='KiB'>131072</memory>
          <os>
            <type arch='x86_64' machine='microvm'>hvm</type>
            <kernel>/var/lib/mvm/images/vmlinux-1</kernel>
          </os>
          <devices>
            <emulator>/usr/bin/qemu-system-x86_64</emulator>
            <controller type='usb' index='0' model='none'/>
            <serial type='unix'>
              <source mode='connect' path='/var/lib/mvm/consoles/mvm-0a1b2c3d.sock'/>
              <target type='isa-serial' port='0'><model name='isa-serial'/></target>
              <alias name='serial0'/>
            </serial>
            <console type='unix'><target type='serial' port='0'/></console>
            <!-- a comment is not a device -->
            <memballoon model='none'/>
          </devices>
          <seclabel type='dynamic' model='dac' relabel='yes'/>
        </domain>
        """

    /// Shaped like QEMU 7.2's `info qtree` of a microvm (trimmed), with the
    /// CR LF line ends the monitor uses.
    static let qtree = [
        "bus: main-system-bus",
        "  type System",
        "  dev: virtio-mmio, id \"\"",
        "    gpio-out \"sysbus-irq\" 1",
        "    bus: virtio-mmio-bus.0",
        "      type virtio-mmio-bus",
        "  dev: virtio-mmio, id \"\"",
        "  dev: isabus-bridge, id \"\"",
        "    bus: isa.0",
        "      type ISA",
        "      dev: isa-serial, id \"serial0\"",
        "        index = 0 (0x0)",
        "      dev: mc146818rtc, id \"\"",
        "",
    ].joined(separator: "\r\n")

    @Test func readsTheLiveXMLAndTheDeviceTree() throws {
        let facts = try VMIsolationFacts(liveXML: Self.liveXML, qtree: Self.qtree)
        #expect(facts.domainType == "qemu")
        #expect(facts.accelerator == .tcg)
        #expect(facts.machine == "microvm")
        #expect(facts.qtreeDevices == ["virtio-mmio", "virtio-mmio", "isabus-bridge", "isa-serial", "mc146818rtc"])
        #expect(facts.qtreeDeviceCount == 5)
        #expect(facts.domainXMLDeviceCount == 5)
        #expect(facts.qemuSyscalls == nil)
    }

    @Test func refusesXMLWithoutWhatItReads() {
        #expect(throws: VMIsolationFactsError.missingInXML("<os><type machine=...>")) {
            try VMIsolationFacts(liveXML: "<domain type='kvm'><os><type>hvm</type></os><devices/></domain>", qtree: "")
        }
        #expect(throws: VMIsolationFactsError.missingInXML("a <domain> root element")) {
            try VMIsolationFacts(liveXML: "<network/>", qtree: "")
        }
    }

    @Test func encodesWithTheSyscallFigures() throws {
        var facts = try VMIsolationFacts(liveXML: Self.liveXML, qtree: Self.qtree)
        facts.qemuSyscalls = SyscallExposure(
            mode: .filter, filterCount: 1, noNewPrivileges: false, hostSyscallCount: 362, allowedSyscallCount: 300,
            deniedSyscalls: ["reboot"])
        let decoded = try JSONDecoder().decode(VMIsolationFacts.self, from: JSONEncoder().encode(facts))
        #expect(decoded == facts)
    }
}
