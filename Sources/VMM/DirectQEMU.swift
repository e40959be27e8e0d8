import Foundation
import MVMCore

/// The reference row `qemu-direct`: the same kernel, initramfs, machine and
/// devices as mvm's libvirt domain, started as a plain `qemu-system-x86_64`
/// process with the serial port on its stdout. What it lacks next to the
/// `vm` row is what libvirt and mvm add.
public struct DirectQEMULauncher: InstanceLauncher {
    public let kind = "qemu-direct"
    public let description: DomainDescription
    public let emulator: String
    public let timeout: Duration

    /// Takes the domain description of a `MicroVMLauncher`, so both boot
    /// exactly the same guest.
    public init(matching launcher: MicroVMLauncher, emulator: String = "/usr/bin/qemu-system-x86_64") throws(VMMError) {
        guard FileManager.default.isExecutableFile(atPath: emulator) else {
            throw .system("\(emulator) is not installed; install qemu-system-x86")
        }
        self.description = launcher.describeDomain(name: "qemu-direct")
        self.emulator = emulator
        self.timeout = launcher.configuration.timeout
    }

    /// QEMU's command line, device for device what libvirt generates for the
    /// domain (libvirt's extras, the monitor and the sandbox, left out).
    public var arguments: [String] {
        var arguments = [
            "-machine", "\(description.machine.rawValue),usb=off,dump-guest-core=off",
            "-accel", description.accelerator.rawValue,
            "-cpu", description.accelerator == .kvm ? "host" : "qemu64",
            "-m", "\(description.memoryMiB)",
            "-smp", "\(description.vcpus)",
            "-display", "none", "-no-user-config", "-nodefaults",
            "-rtc", "base=utc", "-no-acpi",
            "-kernel", description.kernelPath,
        ]
        if let initrd = description.initrdPath { arguments += ["-initrd", initrd] }
        arguments += [
            "-append", description.kernelArguments.joined(separator: " "),
            "-chardev", "stdio,id=charserial0,signal=off",
            "-device", "isa-serial,chardev=charserial0,id=serial0,index=0",
            // A guest reboot (how a panic ends) stops QEMU, as on_reboot=destroy does.
            "-no-reboot",
        ]
        return arguments
    }

    public func launch() async throws -> any RunningInstance {
        let stopwatch = PhaseStopwatch()
        let process = try await SupervisedProcess.start(executable: emulator, arguments: arguments)
        var timeline = BootTimeline()
        timeline.append(.spawned, at: stopwatch.elapsed())
        let deadline = stopwatch.origin + timeout
        let output = process.outputDescriptor
        let (outcome, tail) = await waitForReadinessOffThread(on: output, until: deadline)
        switch outcome {
        case .success(let observation):
            return DirectQEMUInstance(
                process: process,
                boot: observation.bootRecord(completing: timeline, on: stopwatch))
        case .failure(let failure):
            await process.stop()
            switch failure {
            case .timedOut: throw VMMError.readinessTimeout(after: timeout, accelerator: description.accelerator, consoleTail: tail)
            case .kernelPanic(let line): throw VMMError.kernelPanic(line: line, consoleTail: tail)
            case .endOfOutput: throw VMMError.guestStopped(consoleTail: tail)
            case .readFailed(let code): throw VMMError.system("reading QEMU's output failed: \(errnoDescription(code))")
            }
        }
    }
}

/// A plain QEMU process whose guest printed its readiness line.
public final class DirectQEMUInstance: RunningInstance {
    public let kind = "qemu-direct"
    public let boot: BootRecord
    private let process: SupervisedProcess

    init(process: SupervisedProcess, boot: BootRecord) {
        self.process = process
        self.boot = boot
    }

    public var name: String { "qemu-\(process.pid)" }

    public func footprint() async throws -> Footprint {
        let memory = try ProcessMemory.read(pid: process.pid)
        return Footprint(readings: [
            MemoryReading(name: MemoryReading.Name.pss, bytes: memory.pssBytes),
            MemoryReading(name: MemoryReading.Name.rss, bytes: memory.rssBytes),
            MemoryReading(name: MemoryReading.Name.guestUsed, bytes: boot.facts.usedBytes),
        ])
    }

    public func stop() async throws {
        await process.stop()
    }
}
