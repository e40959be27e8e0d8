import Compare
import ContainerShim
import Foundation
import MVMCore
import OCIImages
import VMM

/// Which contender `mvm ab` measures in two configurations.
public enum ABSubject: String, Sendable, CaseIterable {
    case vm
    case container
}

/// One side of an A/B run: what differs from mvm's defaults. Unset fields
/// take the comparison's (its images, its runtime).
public struct ABSide: Sendable, Equatable {
    public var kernel: String?
    public var initrd: String?
    public var append: [String] = []
    public var machine: MachineType?
    public var emulator: String?
    /// TCG's translation cache in MiB; 0: QEMU's default; nil: the run's.
    public var translationCacheMiB: Int?
    public var rootfs: String?
    public var runtime: String?
    /// A user's OCI image, prepared: the micro-VM's initramfs, or the
    /// container's tree, run by mvm's image init.
    public var image: PreparedImage?

    public init() {}

    /// The options given, for people and for the report.
    public var description: [String: String] {
        var fields: [String: String] = [:]
        fields["kernel"] = kernel
        fields["initrd"] = initrd
        if !append.isEmpty { fields["append"] = append.joined(separator: " ") }
        fields["machine"] = machine?.rawValue
        fields["emulator"] = emulator
        fields["tb-size"] = translationCacheMiB.map { $0 == 0 ? "QEMU's default" : "\($0) MiB" }
        fields["rootfs"] = rootfs
        fields["runtime"] = runtime
        fields["image"] = image.map { "\($0.reference) (\($0.digest))" }
        return fields
    }

    /// The options that belong to the other subject.
    func foreignOptions(for subject: ABSubject) -> [String] {
        switch subject {
        case .vm: [rootfs.map { _ in "rootfs" }, runtime.map { _ in "runtime" }].compactMap { $0 }
        case .container:
            [
                kernel.map { _ in "kernel" }, initrd.map { _ in "initrd" }, append.isEmpty ? nil : "append",
                machine.map { _ in "machine" }, emulator.map { _ in "emulator" },
                translationCacheMiB.map { _ in "tb-size" },
            ].compactMap { $0 }
        }
    }
}

/// Why an A/B request cannot run, in one line.
public struct ABRequestError: Error, CustomStringConvertible {
    public let description: String
}

/// `mvm ab`: one contender in two configurations, A and B, measured
/// interleaved in a shuffled order, each metric judged by a permutation
/// test against a noise threshold.
public struct ABJob: Sendable {
    public let request: ComparisonRequest
    public let subject: ABSubject
    public let a: ABSide
    public let b: ABSide
    public let thresholds: [String: Double]
    /// Sides A and B as a comparison's two contenders.
    let comparison: ComparisonJob

    /// Checks both sides (images, runtimes) and connects; starts nothing.
    public init(
        _ request: ComparisonRequest, subject: ABSubject, a: ABSide, b: ABSide, thresholds: [String: Double] = [:]
    ) async throws {
        for (name, side) in [("a", a), ("b", b)] {
            if let option = side.foreignOptions(for: subject).first {
                throw ABRequestError(
                    description:
                        "--\(name)-\(option) configures a \(subject == .vm ? "container" : "micro-VM"), and this A/B run measures the \(subject.rawValue): \(subject == .vm ? "add --container" : "leave out --container")"
                )
            }
        }
        if (a.image == nil) != (b.image == nil) {
            throw ABRequestError(
                description:
                    "give both sides an image (--a-image and --b-image) or neither: an image's workload and mvm's own init are not one configuration with a change"
            )
        }
        for (name, side) in [("a", a), ("b", b)] where subject == .vm {
            let memory = request.limits.memoryMiB
            if let image = side.image,
                let problem = image.memoryProblem(memoryMiB: memory, naming: "--\(name)-image \(image.reference)")
            {
                throw ABRequestError(description: "--memory \(memory) " + problem)
            }
        }
        guard a != b else {
            throw ABRequestError(
                description:
                    "A and B are the same configuration: give B (or A) another "
                    + (subject == .vm
                        ? "--b-kernel, --b-initrd, --b-append, --b-machine, --b-emulator, --b-tb-size or --b-image"
                        : "--b-rootfs, --b-runtime or --b-image"))
        }
        self.request = request
        self.subject = subject
        self.a = a
        self.b = b
        self.thresholds = thresholds
        // The report's stack facts are side A's.
        let role: ContenderRole
        let launchers: (a: any InstanceLauncher, b: any InstanceLauncher)
        let stack: LauncherStack
        switch subject {
        case .vm:
            let launcherA = try await MicroVMLauncher(Self.configuration(request.microVMConfiguration, a))
            launchers = (launcherA, try await MicroVMLauncher(Self.configuration(request.microVMConfiguration, b)))
            (role, stack) = (.microVM, LauncherStack(vm: launcherA, container: nil))
        case .container:
            let launcherA = try ContainerLauncher(
                Self.configuration(request.containerConfiguration, a), host: request.containerHost)
            launchers = (
                launcherA,
                try ContainerLauncher(
                    Self.configuration(request.containerConfiguration, b), host: request.containerHost)
            )
            (role, stack) = (.container, LauncherStack(vm: nil, container: launcherA))
        }
        comparison = ComparisonJob(
            request,
            lineup: ContenderLineup(
                contenders: [
                    Contender(name: "A", role: role, launcher: launchers.a),
                    Contender(name: "B", role: role, launcher: launchers.b),
                ],
                stack: stack))
    }

    static func configuration(_ base: MicroVMConfiguration, _ side: ABSide) -> MicroVMConfiguration {
        var configuration = base
        if let kernel = side.kernel { configuration.kernelPath = absolutePath(kernel) }
        if let initrd = side.initrd { configuration.initrdPath = absolutePath(initrd) }
        if let image = side.image { configuration.boot(image) }
        configuration.extraKernelArguments += side.append
        configuration.machine = side.machine ?? configuration.machine
        configuration.emulator = side.emulator.map(absolutePath) ?? configuration.emulator
        if let cache = side.translationCacheMiB { configuration.translationCacheMiB = cache == 0 ? nil : cache }
        return configuration
    }

    static func configuration(_ base: ContainerConfiguration, _ side: ABSide) -> ContainerConfiguration {
        var configuration = base
        if let rootfs = side.rootfs { configuration.rootfsPath = absolutePath(rootfs) }
        if let image = side.image { configuration.run(image) }
        if let runtime = side.runtime { configuration.runtime = RuntimeSelection(argument: runtime) }
        return configuration
    }

    /// Measures both sides as planned and judges every metric.
    public func run(observer: MeasurementObserver = MeasurementObserver()) async -> ABReport {
        report(await comparison.run(observer: observer))
    }

    /// The report of the samples an interrupted run completed.
    public func partialReport(samples: [InstanceSample], startedAt: Date) async -> ABReport {
        report(await comparison.partialReport(samples: samples, startedAt: startedAt))
    }

    private func report(_ comparison: ComparisonReport) -> ABReport {
        ABReport(
            a: a.description, b: b.description, comparison: comparison,
            results: ABAnalysis.analyze(
                samples: comparison.samples, a: "A", b: "B", thresholds: thresholds, seed: request.plan.seed))
    }
}
