import Compare
import Foundation
import MVMCore
import Testing

@testable import ContainerShim

/// The OCI spec writer, given random configurations with hostile strings
/// (quotes, backslashes, control characters, non-ASCII, `=` in values,
/// very long values) where a user can put strings: the environment and the
/// rootfs path. The config.json it writes is always JSON that reads back
/// to the same spec, and carries the limits and strings unchanged. Seeded,
/// so that a failure can be replayed.
@Suite struct SpecPropertyTests {
    static let fragments = [
        "\"", "\\", "\\\"", "\n", "\r", "\t", "\u{1}", "\u{1F}", "\u{7F}", "=", "==", " ", "é", "日本", "🦀", "\u{2028}",
        "\u{FEFF}", "${HOME}", "$(id)", "'", "/", "..", "{", "}", "[", "]", ",", ":", "null", "true", "-1", "%s", "a",
        "Z",
    ]

    static func hostileString(_ random: inout Xoshiro256StarStar, upTo count: Int) -> String {
        var text = ""
        for _ in 0..<Int(random.next() % UInt64(count + 1)) {
            text += fragments[Int(random.next() % UInt64(fragments.count))]
        }
        return text
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func randomConfigurationsWriteJSONThatReadsBackUnchanged(seed: UInt64) throws {
        var random = Xoshiro256StarStar(seed: seed)
        let host = HostFacts(kernelRelease: "6.1", cpuModel: "test", cores: 64, memoryBytes: 1 << 40)
        for _ in 0..<100 {
            let rootfs = "/" + Self.hostileString(&random, upTo: 12)
            var configuration = ContainerConfiguration(
                stateDirectory: StateDirectory(path: "/state"), rootfsPath: rootfs)
            let memory = 28 + Int(random.next() % 65_000)
            let vcpus = 1 + Int(random.next() % 64)
            configuration.limits = try InstanceLimits.checked(
                memoryMiB: memory, vcpus: vcpus, timeoutSeconds: 60, host: host)
            configuration.environment = (0..<Int(random.next() % 6)).map { _ in
                "K" + Self.hostileString(&random, upTo: 3).filter { $0 != "=" } + "="
                    + Self.hostileString(&random, upTo: random.next() % 8 == 0 ? 2000 : 20)
            }
            configuration.terminal = random.next() % 2 == 0
            var containerHost = ContainerHost(
                cgroups: random.next() % 2 == 0 ? .hybrid : .v2, swapAccounting: random.next() % 2 == 0,
                userNamespacesAllowed: true)
            if random.next() % 3 == 0 {
                containerHost.rootlessUser = RootlessUser(
                    uid: UInt32(random.next() % 70_000), gid: UInt32(random.next() % 70_000),
                    undelegatedCgroups: random.next() % 2 == 0 ? [] : ["/sys/fs/cgroup/memory"])
            }
            let spec = SpecBuilder.spec(
                for: configuration, id: "mvm-0000abcd", host: containerHost, userNamespace: random.next() % 2 == 0)

            let data = try spec.jsonData()
            // JSON by a second reader; its strings are not compared, since
            // Foundation's reader drops U+FEFF (runc's Go reader keeps it).
            #expect(try JSONSerialization.jsonObject(with: data) is [String: Any])
            #expect(try JSONDecoder().decode(OCISpec.self, from: data) == spec)
            let strings = try JSONDecoder().decode(UserStrings.self, from: data)
            #expect(strings.process.env == ["PATH=/bin:/sbin"] + configuration.environment)
            #expect(strings.root.path == rootfs)
            if let resources = spec.linux.resources {
                #expect(resources.memory?.limit == Int64(memory) << 20)
                #expect(resources.cpu?.quota == Int64(vcpus) * 100_000)
                #expect(resources.cpu?.cpus == (vcpus == 1 ? "0" : "0-\(vcpus - 1)"))
            } else {
                // Only a rootless container without delegated cgroups goes without.
                #expect(containerHost.rootlessUser?.cgroupsDelegated == false)
            }
        }
    }

    /// Only the fields that carry the user's strings, read on their own.
    struct UserStrings: Decodable {
        struct Process: Decodable { var env: [String] }
        struct Root: Decodable { var path: String }
        var process: Process
        var root: Root
    }
}
