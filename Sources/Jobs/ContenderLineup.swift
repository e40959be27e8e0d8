import Compare
import ContainerEngines
import ContainerShim
import MVMCore
import VMM

/// What a comparison's report records about the software that ran its
/// contenders: the accelerator and why, the tools' versions, and the
/// micro-VM's domain XML.
public protocol ContenderStack: Sendable {
    var accelerator: String { get }
    var acceleratorReason: String { get }
    /// Versions by tool: "qemu", "libvirt", "runtime".
    func versions() async -> [String: String]
    /// The micro-VM's domain XML under a fixed name: its hash is a stack
    /// fact of nightly runs (a changed XML explains a changed boot).
    var domainXML: String { get }
}

/// The contenders a comparison measures and the stack they run on. mvm's
/// own lineup (`make`) is its micro-VM and container through libvirt and
/// the OCI runtime; tests inject launchers of their own.
public struct ContenderLineup: Sendable {
    public let contenders: [Contender]
    public let stack: any ContenderStack
    /// The micro-VM's and the container's launchers, whose configurations
    /// the dimensions beyond boot start instances of; nil in an injected
    /// lineup, which measures boot only.
    let pair: LauncherPair?

    public init(contenders: [Contender], stack: any ContenderStack) {
        self.contenders = contenders
        self.stack = stack
        pair = nil
    }

    private init(contenders: [Contender], pair: LauncherPair, ladder: [Contender]) {
        self.contenders = contenders
        stack = LauncherStack(vm: pair.vm, container: pair.container, ladder: ladder)
        self.pair = pair
    }

    /// mvm's lineup for `request`: checks the images and the runtime, picks
    /// the accelerator and connects to libvirt; starts nothing.
    public static func make(for request: ComparisonRequest) async throws -> ContenderLineup {
        let vmConfiguration = request.microVMConfiguration
        let vm = try await MicroVMLauncher(vmConfiguration)
        let container = try ContainerLauncher(request.containerConfiguration, host: request.containerHost)
        let settings = request.settings
        var contenders = [
            Contender(name: "vm", role: .microVM, launcher: vm),
            Contender(name: "container", role: .container, launcher: container),
        ]
        if settings.contenders.includes(.qemuDirect) {
            contenders.append(
                Contender(name: "qemu-direct", role: .microVMReference, launcher: try DirectQEMULauncher(matching: vm)))
        }
        if settings.contenders.includes(.runcDirect) {
            contenders.append(
                Contender(
                    name: "runc-direct", role: .containerReference, launcher: DirectRuncLauncher(matching: container)))
        }
        if settings.contenders.includes(.vmWarm) {
            contenders.append(
                Contender(name: "vm-warm", role: .warmMicroVM, launcher: WarmMicroVMLauncher(matching: vm)))
        }
        if settings.contenders.includes(.vmStock) {
            var stockConfiguration = vmConfiguration
            stockConfiguration.kernelPath = request.images.stockKernel
            contenders.append(
                Contender(name: "vm-stock", role: .ordinaryVM, launcher: try await MicroVMLauncher(stockConfiguration)))
        }
        let ladder = try await isolationLadder(for: request)
        return ContenderLineup(
            contenders: contenders + ladder, pair: LauncherPair(vm: vm, container: container), ladder: ladder)
    }

    /// The selected steps of the isolation ladder beyond mvm's container:
    /// gVisor's sandbox and the engines, on mvm's container configuration.
    static func isolationLadder(for request: ComparisonRequest) async throws -> [Contender] {
        let settings = request.settings
        var contenders: [Contender] = []
        if settings.contenders.includes(.gvisor) {
            var configuration = request.containerConfiguration
            configuration.runtime = .runsc(platform: settings.runscPlatform)
            // A plain `runsc run`, as people start a sandbox: runsc's
            // create and start are each a start of its 24 MiB Go binary.
            contenders.append(
                Contender(
                    name: "gvisor", role: .sandboxedContainer,
                    launcher: DirectRuncLauncher(
                        matching: try ContainerLauncher(configuration, host: request.containerHost))))
        }
        for kind in EngineKind.allCases where settings.contenders.includes(kind.contenderName) {
            contenders.append(
                Contender(
                    name: kind.rawValue, role: .containerEngine,
                    launcher: try await EngineLauncher(
                        kind, configuration: request.containerConfiguration, host: request.containerHost)))
        }
        return contenders
    }
}

/// mvm's micro-VM and its container: the launchers of mvm's own lineup,
/// whose configurations the dimensions beyond boot start instances of.
struct LauncherPair {
    let vm: MicroVMLauncher
    let container: ContainerLauncher
}

/// The stack under mvm's own launchers: the micro-VM's accelerator, QEMU's
/// and libvirt's versions and its domain XML, the container's runtime. A
/// lineup of one kind only (`mvm ab --container`) has no micro-VM.
struct LauncherStack: ContenderStack {
    let vm: MicroVMLauncher?
    let container: ContainerLauncher?
    var ladder: [Contender] = []

    var accelerator: String { vm?.acceleratorChoice.accelerator.rawValue ?? "none" }
    var acceleratorReason: String { vm?.acceleratorChoice.reason ?? "containers run on the host's kernel" }

    func versions() async -> [String: String] {
        var versions: [String: String] = [:]
        if let vm {
            let found = vm.versions()
            versions["qemu"] = found.hypervisor
            versions["libvirt"] = found.libvirt
        }
        if let container { versions["runtime"] = await container.runtimeVersion() }
        // The isolation ladder's software: runsc, podman, docker (server).
        for contender in ladder {
            switch contender.launcher {
            case let direct as DirectRuncLauncher: versions["runsc"] = await direct.base.runtimeVersion()
            case let engine as EngineLauncher:
                versions[engine.engine.kind.rawValue] = await engine.engine.version().map {
                    "\($0), containers on \(engine.engine.runtimeName)"
                }
            default: break
            }
        }
        return versions
    }

    var domainXML: String { vm?.describeDomain(name: "mvm-fingerprint").xml() ?? "" }
}

extension EngineKind {
    /// The engine's name in `--contenders`.
    var contenderName: ContenderSelection.Name {
        switch self {
        case .podman: .podman
        case .docker: .docker
        }
    }
}
