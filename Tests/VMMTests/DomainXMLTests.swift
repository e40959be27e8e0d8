import Foundation
import MVMCore
import Testing

@testable import VMM

#if canImport(FoundationXML)
    import FoundationXML
#endif

@Suite struct DomainXMLTests {
    func description(
        kernel: String = "/images/vmlinux", machine: MachineType = .microvm, accelerator: Accelerator = .tcg,
        arguments: [String] = DomainDescription.baseKernelArguments
    ) -> DomainDescription {
        DomainDescription(
            name: "mvm-0a1b2c3d", accelerator: accelerator, machine: machine, memoryMiB: 128, vcpus: 2,
            kernelPath: kernel, initrdPath: "/images/initramfs.cpio", kernelArguments: arguments,
            console: .unixSocket(path: "/var/lib/mvm/consoles/mvm-0a1b2c3d.sock"))
    }

    @Test func rendersAMinimalTransientMicroVM() {
        let xml = description().xml()
        #expect(xml.contains("<domain type='qemu'>"))
        #expect(xml.contains("<name>mvm-0a1b2c3d</name>"))
        #expect(xml.contains("<memory unit='MiB'>128</memory>"))
        #expect(xml.contains("<vcpu>2</vcpu>"))
        #expect(xml.contains("<type arch='x86_64' machine='microvm'>hvm</type>"))
        #expect(xml.contains("<kernel>/images/vmlinux</kernel>"))
        #expect(xml.contains("<initrd>/images/initramfs.cpio</initrd>"))
        #expect(xml.contains("<cmdline>console=ttyS0 quiet panic=-1 reboot=t no_timer_check mvm_vm=1</cmdline>"))
        #expect(xml.contains("<source mode='connect' path='/var/lib/mvm/consoles/mvm-0a1b2c3d.sock'/>"))
        #expect(xml.contains("<on_reboot>destroy</on_reboot>"))
        #expect(xml.contains("<controller type='usb' model='none'/>"))
        #expect(xml.contains("<memballoon model='none'/>"))
        // Nothing the guest does not use.
        for device in ["<disk", "<interface", "<graphics", "<video", "<input", "<cpu"] {
            #expect(!xml.contains(device), "unexpected \(device)")
        }
    }

    @Test func kvmUsesTheKVMDomainTypeAndHostCPU() {
        let xml = description(accelerator: .kvm).xml()
        #expect(xml.contains("<domain type='kvm'>"))
        #expect(xml.contains("<cpu mode='host-passthrough'/>"))
    }

    @Test func escapesEveryValue() {
        let xml = description(
            kernel: "/tmp/a&b/<k>'\"", arguments: ["x=<1>", "y='&'"]
        ).xml()
        #expect(xml.contains("<kernel>/tmp/a&amp;b/&lt;k&gt;&apos;&quot;</kernel>"))
        #expect(xml.contains("<cmdline>x=&lt;1&gt; y=&apos;&amp;&apos;</cmdline>"))
        #expect(!xml.contains("a&b"))
    }

    /// Paths that try to close the element, open a CDATA section's end, add
    /// an entity or an attribute: each comes back out of the parsed XML
    /// exactly as it went in, and adds no element.
    @Test(arguments: [
        "/tmp/x]]>y", "/tmp/</kernel><cmdline>init=/bin/sh</cmdline><kernel>", "/tmp/a&amp;b", "/tmp/q\"'<>&",
        "/tmp/with space/é",
    ])
    func hostilePathsStayOneValue(path: String) throws {
        let document = try XMLDocument(xmlString: description(kernel: path).xml())
        let os = try #require(document.rootElement()?.elements(forName: "os").first)
        #expect(os.elements(forName: "kernel").map(\.stringValue) == [path])
        #expect(os.elements(forName: "cmdline").count == 1)
    }

    /// What XML cannot carry, or what would become several kernel
    /// arguments, is refused before anything starts.
    @Test(
        arguments: [
            (["quiet panic=1"], nil), (["init=\"/bin/sh\""], nil), (["a\nb"], nil), ([""], nil),
            (["ok=1"], "/tmp/k\u{1}ernel"),
            (["ok=1"], "/tmp/new\nline"),
        ] as [([String], String?)])
    func injectionIsRefused(arguments: [String], kernel: String?) {
        var configuration = MicroVMConfiguration(
            connectURI: nil, stateDirectory: .init(path: "/tmp/mvm-none"), kernelPath: kernel ?? "/images/vmlinux",
            initrdPath: "/images/initramfs.cpio")
        configuration.extraKernelArguments = arguments
        #expect(throws: VMMError.self) { try configuration.checkForInjection() }
    }

    @Test func ordinaryArgumentsPass() throws {
        var configuration = MicroVMConfiguration(
            connectURI: nil, stateDirectory: .init(path: "/tmp/mvm-none"), kernelPath: "/images/with space/vmlinux",
            initrdPath: "/images/initramfs.cpio")
        configuration.extraKernelArguments = ["mvm_mode=exit", "loglevel=7", "panic=-1"]
        try configuration.checkForInjection()
    }

    @Test func escapeXMLCoversTheFiveEntities() {
        #expect(escapeXML("&<>'\"plain") == "&amp;&lt;&gt;&apos;&quot;plain")
    }

    @Test(arguments: [MachineType.microvm, .pc])
    func xmlIsWellFormed(machine: MachineType) throws {
        let xml = description(kernel: "/a&b", machine: machine).xml()
        let document = try XMLDocument(xmlString: xml)
        #expect(document.rootElement()?.name == "domain")
        #expect(
            document.rootElement()?.elements(forName: "os").first?.elements(forName: "kernel").first?.stringValue
                == "/a&b")
    }

    /// libvirt's own schema accepts the XML (virt-xml-validate ships with
    /// libvirt-clients).
    @Test(arguments: [MachineType.microvm, .pc])
    func libvirtSchemaAcceptsIt(machine: MachineType) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mvm-domain-\(UUID().uuidString).xml")
        try description(machine: machine).xml().write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/virt-xml-validate")
        process.arguments = [file.path, "domain"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(text)")
    }
}
