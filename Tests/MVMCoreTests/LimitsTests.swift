import Testing

@testable import MVMCore

@Suite struct LimitsTests {
    /// A host of 2 CPUs and 4 GiB, whatever machine runs the tests.
    let host = HostFacts(kernelRelease: "6.1", cpuModel: "test", cores: 2, memoryBytes: 4 << 30)

    func violation(memory: Int = 128, vcpus: Int = 1, timeout: Double = 60, atOnce: Int = 1) -> String? {
        do {
            _ = try InstanceLimits.checked(
                memoryMiB: memory, vcpus: vcpus, timeoutSeconds: timeout, host: host, instancesAtOnce: atOnce)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func ordinaryLimitsPass() throws {
        #expect(violation() == nil)
        #expect(violation(memory: 16, vcpus: 2, timeout: 0.5) == nil)
        let limits = try InstanceLimits.checked(memoryMiB: 256, vcpus: 2, timeoutSeconds: 1.5, host: host)
        #expect(limits.memoryMiB == 256 && limits.vcpus == 2 && limits.timeout == .milliseconds(1500))
    }

    @Test func memory() {
        #expect(violation(memory: -5) == "memory -5 is invalid: give a size in MiB, at least 16")
        #expect(violation(memory: 0) == "memory 0 is invalid: give a size in MiB, at least 16")
        #expect(violation(memory: 8) == "memory 8 is too small: a guest needs at least 16 MiB")
        #expect(
            violation(memory: 999_999_999)
                == "memory 999999999 is more than this host's memory (4096 MiB): ask for at most 4096 MiB")
        #expect(violation(memory: 4096) == nil)
        // Instances that run together share the host.
        #expect(violation(memory: 2048, atOnce: 2) == nil)
        #expect(
            violation(memory: 2048, atOnce: 3)
                == "memory 2048 times concurrency 3 is more than this host's memory (4096 MiB): ask for at most 1365 MiB"
        )
        #expect(
            violation(memory: Int.max, atOnce: 2)?.hasPrefix("memory \(Int.max) times concurrency 2 is more") == true)
    }

    @Test func cpus() {
        #expect(violation(vcpus: 0) == "vcpus 0 is invalid: use 1 to 2")
        #expect(violation(vcpus: -1) == "vcpus -1 is invalid: use 1 to 2")
        #expect(violation(vcpus: 3) == "vcpus 3 is more than this host's 2 CPUs: use 1 to 2")
    }

    @Test(arguments: [0.0, -1, .infinity, .nan, 86_401])
    func timeout(seconds: Double) {
        #expect(
            violation(timeout: seconds)
                == "timeout \(seconds) is invalid: give a positive number of seconds, at most 86400")
    }

    @Test func theCommandLineNamesItsOwnOptions() throws {
        let error = #expect(throws: LimitViolation.self) {
            try InstanceLimits.checked(memoryMiB: 2048, vcpus: 1, timeoutSeconds: 60, host: host, instancesAtOnce: 3)
        }
        #expect(
            error?.description(naming: { "--" + $0.rawValue }).hasPrefix("--memory 2048 times --concurrency 3 is more")
                == true)
    }

    @Test func aSweepLevelFitsWhileItsInstancesFitTheHostsMemory() throws {
        let limits = try InstanceLimits.checked(memoryMiB: 1000, vcpus: 1, timeoutSeconds: 60, host: host)
        #expect(limits.instancesThatFit(host) == 4)
    }
}
