import MVMCore
import Testing

@testable import VMM

/// The QEMU binary and TCG's translation cache reach libvirt's XML (and the
/// plain-QEMU reference's command line) only where they apply.
@Suite struct EmulatorAndCacheTests {
    func description(accelerator: Accelerator, cache: Int?, emulator: String? = nil) -> DomainDescription {
        var description = DomainDescription(
            name: "mvm-0a1b2c3d", accelerator: accelerator, machine: .microvm, memoryMiB: 128, vcpus: 1,
            kernelPath: "/images/vmlinux", initrdPath: "/images/initramfs.cpio",
            kernelArguments: DomainDescription.baseKernelArguments,
            console: .unixSocket(path: "/var/lib/mvm/consoles/mvm-0a1b2c3d.sock"))
        description.translationCacheMiB = cache
        description.emulator = emulator
        return description
    }

    @Test func theTranslationCacheIsATCGFeature() {
        let xml = description(accelerator: .tcg, cache: 8).xml()
        #expect(
            xml.contains("<features>\n    <tcg>\n      <tb-cache unit='MiB'>8</tb-cache>\n    </tcg>\n  </features>"))
        #expect(!description(accelerator: .kvm, cache: 8).xml().contains("<tcg>"))
        #expect(!description(accelerator: .tcg, cache: nil).xml().contains("<features>"))
    }

    @Test func anEmulatorIsNamedOnlyWhenChosen() {
        #expect(
            description(accelerator: .kvm, cache: nil, emulator: "/usr/bin/qemu-system-x86_64-microvm").xml()
                .contains("<devices>\n    <emulator>/usr/bin/qemu-system-x86_64-microvm</emulator>"))
        #expect(!description(accelerator: .tcg, cache: nil).xml().contains("<emulator>"))
    }

    @Test(
        arguments: [
            (Accelerator.kvm, MachineType.microvm, true, true, EmulatorChoice.microvmBinary),
            (.tcg, .microvm, true, true, nil),  // the microvm build refuses TCG
            (.kvm, .pc, true, true, nil),  // it has no PC machine
            (.kvm, .microvm, false, true, nil),  // a remote host's binaries are unknown here
            (.kvm, .microvm, true, false, nil),  // not installed
        ] as [(Accelerator, MachineType, Bool, Bool, String?)])
    func theMicrovmBuildIsChosenOnlyForKVMOnTheMicrovmMachineHere(
        accelerator: Accelerator, machine: MachineType, local: Bool, installed: Bool, expected: String?
    ) {
        let chosen = EmulatorChoice.choose(accelerator: accelerator, machine: machine, local: local) { path in
            installed && path == EmulatorChoice.microvmBinary
        }
        #expect(chosen == expected)
    }
}
