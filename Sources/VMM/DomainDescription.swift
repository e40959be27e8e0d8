/// QEMU machine types mvm boots.
public enum MachineType: String, Sendable, Codable, CaseIterable {
    /// QEMU's minimal machine: no PCI, no ACPI, an ISA serial port. Boots an
    /// uncompressed ELF kernel through its PVH entry.
    case microvm
    /// The classic PC (i440FX): what an ordinary VM uses; boots a bzImage.
    case pc
}

/// Where the guest's serial console goes.
public enum ConsoleBackend: Sendable, Hashable {
    /// QEMU connects to a UNIX socket mvm listens on before the domain starts,
    /// so no byte is lost and bytes arrive as the guest writes them.
    case unixSocket(path: String)
    /// A pty that libvirt opens with virDomainOpenConsole and streams to mvm:
    /// works through any connection, remote ones included.
    case libvirtStream
}

/// A transient micro-VM domain, rendered to libvirt's domain XML. It holds only
/// what the guest uses: a kernel booted directly, memory, vCPUs and one serial
/// port; no disks, no network, no USB, no balloon, no graphics.
public struct DomainDescription: Sendable, Hashable {
    public var name: String
    public var accelerator: Accelerator
    public var machine: MachineType
    public var memoryMiB: Int
    public var vcpus: Int
    public var kernelPath: String
    public var initrdPath: String?
    public var kernelArguments: [String]
    public var console: ConsoleBackend
    /// A copy of everything the console shows, for `--keep` (tail -f it).
    public var consoleLogPath: String?
    /// TCG's translation cache in MiB (QEMU's `tb-size`; libvirt's
    /// `<tcg><tb-cache>`); nil leaves QEMU's default (1 GiB reserved, of
    /// which a boot touches about 18 MiB). Ignored under KVM.
    public var translationCacheMiB: Int?
    /// The QEMU binary (libvirt's `<emulator>`); nil lets libvirt choose.
    public var emulator: String?

    public init(
        name: String, accelerator: Accelerator, machine: MachineType, memoryMiB: Int, vcpus: Int,
        kernelPath: String, initrdPath: String?, kernelArguments: [String], console: ConsoleBackend,
        consoleLogPath: String? = nil
    ) {
        self.name = name
        self.accelerator = accelerator
        self.machine = machine
        self.memoryMiB = memoryMiB
        self.vcpus = vcpus
        self.kernelPath = kernelPath
        self.initrdPath = initrdPath
        self.kernelArguments = kernelArguments
        self.console = console
        self.consoleLogPath = consoleLogPath
    }

    /// Kernel arguments every mvm guest gets: the console on the first serial
    /// port, a quiet boot, and on panic an immediate reboot (triple fault),
    /// which `on_reboot=destroy` turns into the domain stopping.
    /// `no_timer_check` (as Kata Containers' guests have): the kernel's check
    /// that the IO-APIC timer ticks within a calibrated delay panics a TCG
    /// guest whose vCPU the host starves ("IO-APIC + timer doesn't work!"),
    /// which 16 guests at once on 2 cores did.
    public static let baseKernelArguments = [
        "console=ttyS0", "quiet", "panic=-1", "reboot=t", "no_timer_check", "mvm_vm=1",
    ]

    /// What a traced start adds: the kernel's timestamps on every console
    /// line, every line but debug ones (`quiet` is overridden), and the
    /// init's step marks.
    public static let traceKernelArguments = ["printk.time=1", "loglevel=7", "mvm_trace=1"]

    /// Adds `traceKernelArguments` after mvm's own arguments and before the
    /// user's, so that the user's win (`--append loglevel=8` shows the
    /// debug lines of `initcall_debug`).
    public mutating func addTraceKernelArguments() {
        let position = kernelArguments.starts(with: Self.baseKernelArguments) ? Self.baseKernelArguments.count : 0
        kernelArguments.insert(contentsOf: Self.traceKernelArguments, at: position)
    }

    public func xml() -> String {
        let serialTarget =
            switch machine {
            case .microvm: "<target type='isa-serial' port='0'/>"
            case .pc: "<target type='isa-serial' port='0'><model name='isa-serial'/></target>"
            }
        let cpu =
            switch accelerator {
            case .kvm: "  <cpu mode='host-passthrough'/>\n"
            case .tcg: ""
            }
        var lines: [String] = []
        lines.append("<domain type='\(accelerator.domainType)'>")
        lines.append("  <name>\(escapeXML(name))</name>")
        lines.append("  <memory unit='MiB'>\(memoryMiB)</memory>")
        lines.append("  <vcpu>\(vcpus)</vcpu>")
        lines.append("  <os>")
        lines.append("    <type arch='x86_64' machine='\(machine.rawValue)'>hvm</type>")
        lines.append("    <kernel>\(escapeXML(kernelPath))</kernel>")
        if let initrdPath { lines.append("    <initrd>\(escapeXML(initrdPath))</initrd>") }
        lines.append("    <cmdline>\(escapeXML(kernelArguments.joined(separator: " ")))</cmdline>")
        lines.append("  </os>")
        if accelerator == .tcg, let translationCacheMiB {
            lines.append("  <features>")
            lines.append("    <tcg>")
            lines.append("      <tb-cache unit='MiB'>\(translationCacheMiB)</tb-cache>")
            lines.append("    </tcg>")
            lines.append("  </features>")
        }
        if !cpu.isEmpty { lines.append(String(cpu.dropLast())) }
        // A guest that powers off, reboots or crashes is done: mvm never
        // restarts one, and a reboot is how a panicking guest ends.
        lines.append("  <on_poweroff>destroy</on_poweroff>")
        lines.append("  <on_reboot>destroy</on_reboot>")
        lines.append("  <on_crash>destroy</on_crash>")
        lines.append("  <devices>")
        if let emulator { lines.append("    <emulator>\(escapeXML(emulator))</emulator>") }
        lines.append("    <controller type='usb' model='none'/>")
        switch console {
        case .unixSocket(let path):
            lines.append("    <serial type='unix'>")
            lines.append("      <source mode='connect' path='\(escapeXML(path))'/>")
            if let consoleLogPath {
                lines.append("      <log file='\(escapeXML(consoleLogPath))' append='off'/>")
            }
            lines.append("      \(serialTarget)")
            lines.append("    </serial>")
        case .libvirtStream:
            lines.append("    <serial type='pty'>")
            if let consoleLogPath {
                lines.append("      <log file='\(escapeXML(consoleLogPath))' append='off'/>")
            }
            lines.append("      \(serialTarget)")
            lines.append("    </serial>")
        }
        lines.append("    <memballoon model='none'/>")
        lines.append("  </devices>")
        lines.append("</domain>")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Escapes text for XML element content and for attributes in either quote.
public func escapeXML(_ text: String) -> String {
    var escaped = ""
    escaped.reserveCapacity(text.utf8.count)
    for character in text {
        switch character {
        case "&": escaped += "&amp;"
        case "<": escaped += "&lt;"
        case ">": escaped += "&gt;"
        case "'": escaped += "&apos;"
        case "\"": escaped += "&quot;"
        default: escaped.append(character)
        }
    }
    return escaped
}
