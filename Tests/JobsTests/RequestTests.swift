import Compare
import ContainerShim
import Foundation
import History
import Jobs
import MVMCore
import MVMTesting
import Testing

@Suite struct ComparisonRequestTests {
    let containerHost = ContainerHost(cgroups: .hybrid, swapAccounting: false, userNamespacesAllowed: true)

    func settings(_ change: (inout ComparisonSettings) -> Void = { _ in }) -> ComparisonSettings {
        var settings = ComparisonSettings(
            stateDirectory: StateDirectory(path: "/state"), images: ImageSet(directory: "/images"))
        change(&settings)
        return settings
    }

    func violation(_ change: (inout ComparisonSettings) -> Void) -> LimitViolation? {
        do {
            _ = try ComparisonRequest(checking: settings(change), host: .fake, containerHost: containerHost)
            return nil
        } catch {
            return error
        }
    }

    @Test func aRequestKeepsTheHostItWasCheckedAgainst() throws {
        let request = try ComparisonRequest(checking: settings(), host: .fake, containerHost: containerHost)
        #expect(request.host == .fake)
        #expect(request.limits == .standard)
        #expect(request.containerHost == containerHost)
    }

    @Test func limitsAreCheckedForEveryInstanceOfARunAtOnce() {
        let error = violation {
            $0.memoryMiB = 2048
            $0.plan.concurrency = 3
        }
        #expect(error?.given.map(\.setting) == [.memory, .concurrency])
        #expect(
            error?.description
                == "memory 2048 times concurrency 3 is more than this host's memory (4096 MiB): ask for at most 1365 MiB"
        )
    }

    @Test func thePlanAndTheDimensionsAreCheckedInTheSamePlace() {
        #expect(violation { $0.plan.runs = 0 }?.given.first?.setting == .runs)
        #expect(violation { $0.dimensions.sweep = [4, 2] }?.given.first?.setting == .sweep)
        #expect(violation { $0.timeoutSeconds = -1 }?.given.first?.setting == .timeout)
        #expect(violation { $0.vcpus = 3 }?.description == "vcpus 3 is more than this host's 2 CPUs: use 1 to 2")
    }
}

@Suite struct NightlyRequestTests {
    let state = StateDirectory(path: "/var/lib/mvm-test")

    func comparison() throws -> ComparisonRequest {
        try ComparisonRequest(
            checking: ComparisonSettings(stateDirectory: state, images: ImageSet(directory: "/images")), host: .fake,
            containerHost: ContainerHost(cgroups: .hybrid, swapAccounting: false, userNamespacesAllowed: true))
    }

    @Test func aNightlyJobRecordsJudgesAndReportsByDefault() throws {
        let request = NightlyRequest(
            comparison: try comparison(), history: HistorySettings(), nightly: true, environment: [:])
        #expect(request.record && request.preflight)
        #expect(request.baseline == .automatic)
        #expect(request.history == .file("/var/lib/mvm-test/history.sqlite"))
        #expect(request.reportPath == "/var/lib/mvm-test/nightly/report.html")
        #expect(request.prometheusPath == "/var/lib/mvm-test/nightly/mvm.prom")
    }

    @Test func aComparisonDoesOnlyWhatItIsAskedFor() throws {
        var history = HistorySettings()
        history.baseline = "before-upgrade"
        let request = NightlyRequest(
            comparison: try comparison(), history: history, nightly: false,
            environment: ["MVM_HISTORY": "postgresql://mvm@db/mvm"])
        #expect(!request.record && !request.preflight)
        #expect(request.baseline == .label("before-upgrade"))
        #expect(request.history == .server("postgresql://mvm@db/mvm"))
        #expect(request.reportPath == nil && request.prometheusPath == nil)
        // Whatever the history, a run that cannot reach it is kept here.
        #expect(request.fallbackHistoryPath == "/var/lib/mvm-test/history.sqlite")
    }
}

@Suite struct ContenderSelectionTests {
    @Test func theShorthandsAndTheListAgree() throws {
        #expect(ContenderSelection(references: true, stock: false, warm: false) == .standard)
        #expect(
            try ContenderSelection(parsing: "vm,container,vm-stock", stockKernelExists: true)
                == ContenderSelection(references: false, stock: true, warm: false))
        #expect(try ContenderSelection(parsing: "default", stockKernelExists: true) == .standard)
        #expect(
            try ContenderSelection(parsing: "default,vm-warm", stockKernelExists: true).description
                == "vm,container,qemu-direct,runc-direct,vm-warm")
    }

    /// `all` is what can run: vm-stock only with Debian's kernel built.
    @Test func allIsWhatCanRun() throws {
        #expect(try ContenderSelection(parsing: "all", stockKernelExists: true).names.count == 9)
        #expect(!(try ContenderSelection(parsing: "all", stockKernelExists: false).includes(.vmStock)))
        // The isolation ladder's steps only where the doctor would find them.
        let withoutDocker = try ContenderSelection(
            parsing: "all", stockKernelExists: true, usable: { $0 != .docker })
        #expect(withoutDocker.includes(.gvisor) && withoutDocker.includes(.podman) && !withoutDocker.includes(.docker))
        // Named, a step is asked for: its launcher says why it cannot run.
        #expect(
            try ContenderSelection(parsing: "vm,container,docker", stockKernelExists: true, usable: { _ in false })
                .includes(.docker))
    }

    @Test func theLadderIsNamedInTheTablesOrder() throws {
        #expect(
            try ContenderSelection(parsing: "docker,gvisor,vm,podman,container", stockKernelExists: true).description
                == "vm,container,gvisor,podman,docker")
    }

    @Test func anUnknownNameOrAMissingPairIsOneLine() {
        #expect(throws: ContenderSelectionError.unknown("gvisr")) {
            try ContenderSelection(parsing: "vm,container,gvisr", stockKernelExists: true)
        }
        #expect(throws: ContenderSelectionError.unknown("")) {
            try ContenderSelection(parsing: "vm,,container", stockKernelExists: true)
        }
        #expect(throws: ContenderSelectionError.pairMissing("vm,qemu-direct")) {
            try ContenderSelection(parsing: "vm,qemu-direct", stockKernelExists: true)
        }
    }
}
