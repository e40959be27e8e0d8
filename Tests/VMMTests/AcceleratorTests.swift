import Testing

@testable import VMM

@Suite struct AcceleratorTests {
    static let devices: [HostVirtualization.KVMDevice] = [.usable, .missing, .inaccessible("Permission denied")]
    static let flags: [String?] = ["vmx", "svm", nil]

    @Test(arguments: devices, flags)
    func autoPicksKVMOnlyWithAUsableDeviceAndCPUFlag(device: HostVirtualization.KVMDevice, flag: String?) throws {
        let host = HostVirtualization(kvmDevice: device, cpuVirtualizationFlag: flag)
        let choice = try AcceleratorChoice.choose(.auto, host: host)
        if device == .usable, let flag {
            #expect(choice.accelerator == .kvm)
            #expect(choice.reason.contains(flag))
        } else {
            #expect(choice.accelerator == .tcg)
            #expect(!choice.reason.isEmpty)
        }
    }

    @Test(arguments: devices, flags)
    func tcgIsAlwaysGranted(device: HostVirtualization.KVMDevice, flag: String?) throws {
        let choice = try AcceleratorChoice.choose(
            .tcg, host: HostVirtualization(kvmDevice: device, cpuVirtualizationFlag: flag))
        #expect(choice == AcceleratorChoice(accelerator: .tcg, reason: "requested: tcg"))
    }

    @Test(arguments: devices, flags)
    func kvmFailsClearlyWhereItCannotWork(device: HostVirtualization.KVMDevice, flag: String?) throws {
        let host = HostVirtualization(kvmDevice: device, cpuVirtualizationFlag: flag)
        if device == .usable, flag != nil {
            #expect(try AcceleratorChoice.choose(.kvm, host: host).accelerator == .kvm)
        } else {
            let error = #expect(throws: AcceleratorUnavailable.self) { try AcceleratorChoice.choose(.kvm, host: host) }
            #expect(error?.description.contains("use the tcg accelerator") == true)
        }
    }

    @Test func reasonsNameTheProblem() throws {
        let paravirtual = HostVirtualization(kvmDevice: .usable, cpuVirtualizationFlag: nil)
        #expect(try AcceleratorChoice.choose(.auto, host: paravirtual).reason.contains("neither vmx nor svm"))
        let missing = HostVirtualization(kvmDevice: .missing, cpuVirtualizationFlag: "vmx")
        #expect(try AcceleratorChoice.choose(.auto, host: missing).reason == "/dev/kvm does not exist")
    }

    @Test func readsCPUFlags() {
        let intel = "processor\t: 0\nflags\t\t: fpu vme vmx sse\n"
        let amd = "flags\t\t: fpu svm\n"
        let none = "flags\t\t: fpu vme hypervisor\nvmx flags\t: ept\n"
        #expect(HostVirtualization.virtualizationFlag(cpuinfo: intel) == "vmx")
        #expect(HostVirtualization.virtualizationFlag(cpuinfo: amd) == "svm")
        #expect(HostVirtualization.virtualizationFlag(cpuinfo: none) == nil)
    }

    @Test func readsRemoteCapabilities() {
        let xml =
            "<capabilities><host><cpu><feature name='vmx'/></cpu></host><guest><arch name='x86_64'><domain type='qemu'/><domain type='kvm'/></arch></guest></capabilities>"
        let host = HostVirtualization.probe(capabilitiesXML: xml)
        #expect(host == HostVirtualization(kvmDevice: .usable, cpuVirtualizationFlag: "vmx"))
        let tcgOnly = HostVirtualization.probe(capabilitiesXML: "<guest><domain type='qemu'/></guest>")
        #expect(tcgOnly.kvmDevice == .missing)
    }
}
