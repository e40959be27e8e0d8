import Foundation
import MVMCore

/// The reference row `qemu-direct`: the same kernel, initramfs, machine and
/// devices as mvm's libvirt domain, started as a plain `qemu-system-x86_64`
/// process with the serial port on its stdout. What it lacks next to the
/// `vm` row is what libvirt and mvm add.
public struct DirectQEMULauncher: InstanceLauncher {
    public let description: DomainDescription
    public let emulator: String
    public let timeout: Duration
    /// Where its owner record goes.
    public let stateDirectory: StateDirectory
    /// The micro-VM's readiness rule.
    public let readiness: ReadinessRule

    /// The QEMU binary the reference row starts (Debian's `qemu-system-x86`).
    public static let defaultEmulator = "/usr/bin/qemu-system-x86_64"

    /// Takes the domain description of a `MicroVMLauncher`, so both boot
    /// exactly the same guest.
    public init(matching launcher: MicroVMLauncher, emulator: String? = nil) throws(VMMError) {
        let description = launcher.describeDomain(name: "qemu-direct")
        // The same binary as the domain's, when mvm chose one.
        let emulator = emulator ?? description.emulator ?? Self.defaultEmulator
        guard FileManager.default.isExecutableFile(atPath: emulator) else {
            throw .invalidConfiguration("\(emulator) is not installed; install qemu-system-x86")
        }
        self.description = description
        self.emulator = emulator
        self.timeout = launcher.configuration.limits.timeout
        self.stateDirectory = launcher.configuration.stateDirectory
        readiness = launcher.configuration.readiness
    }

    /// QEMU's command line, device for device what libvirt generates for the
    /// domain (libvirt's extras, the monitor and the sandbox, left out).
    public var arguments: [String] { arguments(for: description) }

    func arguments(for description: DomainDescription) -> [String] {
        var arguments = [
            "-machine", "\(description.machine.rawValue),usb=off,dump-guest-core=off",
            "-accel",
            description.accelerator.rawValue
                + (description.accelerator == .tcg
                    ? description.translationCacheMiB.map { ",tb-size=\($0)" } ?? "" : ""),
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

    public func launch() async throws(VMMError) -> DirectQEMUInstance {
        try await launch(tracing: false)
    }

    /// A plain QEMU whose guest marks its boot: the kernel's console
    /// timestamps and the init's steps (QEMU itself logs nothing of its
    /// start-up).
    public func launchTraced() async throws(VMMError) -> DirectQEMUInstance {
        try await launch(tracing: true)
    }

    private func launch(tracing: Bool) async throws(VMMError) -> DirectQEMUInstance {
        var description = self.description
        if tracing { description.addTraceKernelArguments() }
        let arguments = arguments(for: description)
        return try await withLaunchScope(timeout: timeout, tracing: tracing) {
            (scope) async throws(VMMError) -> DirectQEMUInstance in
            do throws(SystemFailure) {
                try scope.claimOwnership(in: OwnerRecords(stateDirectory: stateDirectory), kind: "qemu-direct")
            } catch {
                throw .system(error)
            }
            let process: SupervisedProcess
            do {
                process = try await SupervisedProcess.start(executable: emulator, arguments: arguments)
            } catch {
                throw .system(SystemFailure("cannot start \(emulator)", underlying: error))
            }
            let teardown = scope.onTeardown { await process.stop() }
            // A plain QEMU outlives a killed mvm: gc finds it by this.
            scope.noteChildProcess(process.pid)
            scope.mark(.spawned)
            do throws(ReadinessFailure) {
                var boot = try await scope.awaitReadiness(on: process.output, rule: readiness)
                if tracing { boot.trace = Self.trace(of: boot, console: scope.traced.lines) }
                return DirectQEMUInstance(name: scope.id, process: process, boot: boot, teardown: teardown)
            } catch {
                throw VMMError(error, accelerator: description.accelerator)
            }
        }
    }

    public var caveats: [String] {
        description.accelerator.caveat.map { [$0] } ?? []
    }

    /// mvm's spawn, then QEMU until the kernel's clock starts, the kernel
    /// and the init, from the serial console.
    static func trace(of boot: BootRecord, console: [TimedLine]) -> BootTrace {
        let spawned = boot.timeline.offset(of: .spawned)?.seconds ?? 0
        var trace = BootTrace(ready: boot.timeline.offset(of: .ready)?.seconds ?? 0)
        trace.add(TraceSpan(layer: .mvm, name: "spawn qemu-system-x86_64", start: 0, end: spawned))
        ConsoleTrace.addGuest(
            console: console, guestStart: spawned, initStart: spawned, to: &trace,
            beforeKernel: "QEMU starts, its firmware runs, the kernel enters, before the kernel's clock starts")
        return trace
    }
}

/// A plain QEMU process whose guest printed its readiness line.
public final class DirectQEMUInstance: RunningInstance {
    public let name: String
    public let boot: BootRecord
    // Internal, not private: the release probe (DirectQEMU+Release.swift)
    // reads the pid and the owner record's path from them.
    let process: SupervisedProcess
    let teardown: InstanceTeardown

    init(name: String, process: SupervisedProcess, boot: BootRecord, teardown: InstanceTeardown) {
        self.name = name
        self.process = process
        self.boot = boot
        self.teardown = teardown
    }

    public func footprint() async throws -> Footprint {
        Footprint(process: try ProcessMemory.read(pid: process.pid), guestUsedBytes: boot.facts?.usedBytes)
    }

    public func stop() async throws {
        try await teardown.run()
    }
}
