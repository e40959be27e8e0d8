import Foundation
import MVMCore
import Testing

extension RealInstances {
    /// `mvm doctor` as a user runs it: on this host, whose prerequisites the
    /// test command installs, and with one prerequisite broken at a time.
    @Suite struct Doctor {
        /// Every check, in the order mvm prints them.
        static let checkNames = [
            "libvirt", "connection", "qemu", "accelerator", "/dev/kvm", "runc", "crun", "cgroups",
            "gvisor (runsc)", "podman", "docker", "images", "image vmlinux", "image initramfs.cpio", "image rootfs",
            "image bzImage", "image stock-vmlinuz",
            "image image-init", "oci image tools",
            "state directory", "orphans",
        ]

        /// The checks of a `--json` answer, by name.
        static func checks(_ result: CommandResult) throws -> (
            ready: Bool?, checks: [String: [String: Any]], order: [String]
        ) {
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            let checks = try #require(json["checks"] as? [[String: Any]])
            let names = checks.compactMap { $0["name"] as? String }
            return (
                json["ready"] as? Bool, Dictionary(zip(names, checks), uniquingKeysWith: { first, _ in first }), names
            )
        }

        @Test func thisHostIsReadyAndEveryCheckIsListed() async throws {
            try Fixtures.requireImages()
            let result = try await runMVM(["doctor"])
            #expect(result.exitCode == 0, "\(result.stdout)\(result.stderr)")
            let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let width = Self.checkNames.map(\.count).max() ?? 0
            for name in Self.checkNames {
                let column = name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                #expect(
                    lines.contains {
                        ["PASS  ", "WARN  "].contains($0.prefix(6)) && $0.dropFirst(6).hasPrefix(column)
                    },
                    "no passing line for \(name) in:\n\(result.stdout)")
            }
            #expect(!result.stdout.contains("FAIL  "))
            // Every warning says what to do on the next line.
            for (index, line) in lines.enumerated() where line.hasPrefix("WARN  ") {
                #expect(index + 1 < lines.count && lines[index + 1].hasPrefix("      fix: "), "\(line) has no fix")
            }
            #expect(
                lines.contains(
                    "PASS  " + "accelerator".padding(toLength: width, withPad: " ", startingAt: 0)
                        + "  tcg: /dev/kvm exists but the CPU exposes neither vmx nor svm, so KVM cannot run a standard guest"
                ))
            #expect(lines.last { !$0.isEmpty }?.hasPrefix("ready: mvm compare can run") == true)
            #expect(result.stderr.isEmpty, "\(result.stderr)")
        }

        @Test func jsonGivesTheSameAnswer() async throws {
            try Fixtures.requireImages()
            let result = try await runMVM(["doctor", "--json"])
            #expect(result.exitCode == 0, "\(result.stdout)\(result.stderr)")
            let answer = try Self.checks(result)
            #expect(answer.ready == true)
            #expect(answer.order == Self.checkNames)
            for (name, check) in answer.checks {
                let status = try #require(check["status"] as? String, "\(name) has no status")
                #expect(["pass", "warn"].contains(status), "\(name): \(check)")
                #expect(check["required"] is Bool, "\(name): \(check)")
                #expect((check["detail"] as? String)?.isEmpty == false, "\(name): \(check)")
                if status != "pass" { #expect((check["fix"] as? String)?.isEmpty == false, "\(name): \(check)") }
            }
            #expect(answer.checks["runc"]?["required"] as? Bool == true)
            #expect(answer.checks["crun"]?["required"] as? Bool == false)
            #expect(answer.checks["image rootfs"]?["status"] as? String == "pass")
        }

        @Test func unreachableURIFailsTheConnectionWithAFix() async throws {
            let result = try await runMVM(["doctor", "--connect", "qemu+unix:///system?socket=/nonexistent"])
            #expect(result.exitCode == 1, "\(result.stdout)\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            let failure = try #require(lines.firstIndex { $0.hasPrefix("FAIL  connection ") }, "\(result.stdout)")
            #expect(lines[failure].contains("/nonexistent"))
            #expect(lines[failure + 1].hasPrefix("      fix: start libvirt's daemon"))
            #expect(
                lines.last?.hasPrefix("not ready: mvm compare cannot run; 1 required check failed (connection)")
                    == true, "\(result.stdout)")

            let json = try Self.checks(
                try await runMVM(["doctor", "--json", "--connect", "qemu+unix:///system?socket=/nonexistent"]))
            #expect(json.ready == false)
            #expect(json.checks["connection"]?["status"] as? String == "fail")
            #expect(json.checks["connection"]?["required"] as? Bool == true)
            #expect((json.checks["connection"]?["fix"] as? String)?.isEmpty == false)
        }

        @Test func unwritableStateDirectoryFailsItsCheck() async throws {
            let state = "/proc/mvm-doctor-test"
            let result = try await runMVM(["doctor", "--json", "--state-dir", state])
            #expect(result.exitCode == 1, "\(result.stdout)\(result.stderr)")
            let answer = try Self.checks(result)
            #expect(answer.ready == false)
            let check = try #require(answer.checks["state directory"])
            #expect(check["status"] as? String == "fail")
            #expect(check["detail"] as? String == "cannot create \(state): No such file or directory")
            #expect((check["fix"] as? String)?.contains("a writable state directory") == true)
            // libvirt logs into the state directory: not tried without one.
            #expect((answer.checks["libvirt"]?["detail"] as? String)?.hasPrefix("not checked") == true)
            #expect(result.stderr.isEmpty, "\(result.stderr)")
        }

        /// QEMU runs as its own user and must reach the console sockets and
        /// libvirt's files in the state directory: root being able to write
        /// there is not enough.
        @Test func stateDirectoryQEMUCannotEnterFails() async throws {
            let state = "/var/tmp/mvm-doctor-" + String(UUID().uuidString.prefix(8)).lowercased()
            try FileManager.default.createDirectory(
                atPath: state, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            defer { try? FileManager.default.removeItem(atPath: state) }
            let result = try await runMVM(["doctor", "--json", "--state-dir", state])
            #expect(result.exitCode == 1, "\(result.stdout)\(result.stderr)")
            let check = try #require(try Self.checks(result).checks["state directory"])
            #expect(check["status"] as? String == "fail")
            #expect(
                (check["detail"] as? String)?.contains("cannot enter \(state) (0700 root:root)") == true, "\(check)")
            #expect(check["fix"] as? String == "chmod a+x \(state), or use a state directory QEMU's user can reach")
        }

        @Test func imageThatDiffersFromItsManifestFails() async throws {
            try Fixtures.requireImages()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "mvm-doctor-images-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            try FileManager.default.copyItem(
                atPath: Fixtures.images.manifest, toPath: directory.appendingPathComponent("manifest.json").path)
            try Data("not the kernel".utf8).write(to: directory.appendingPathComponent("vmlinux"))

            let result = try await runMVM(["doctor", "--json"], environment: ["MVM_IMAGES": directory.path])
            #expect(result.exitCode == 1, "\(result.stdout)\(result.stderr)")
            let answer = try Self.checks(result)
            let vmlinux = try #require(answer.checks["image vmlinux"])
            #expect(vmlinux["status"] as? String == "fail")
            #expect((vmlinux["detail"] as? String)?.contains("but manifest.json says") == true, "\(vmlinux)")
            #expect(answer.checks["image rootfs"]?["status"] as? String == "fail")
            // Only --stock needs the stock kernel: its absence is a warning.
            #expect(answer.checks["image stock-vmlinuz"]?["status"] as? String == "warn")
        }

        /// On a fresh state directory the doctor leaves only what opening the
        /// embedded driver makes (its root and libvirt's log): no probe file,
        /// no bundle, console, owner record or runtime root.
        @Test func freshStateDirectoryKeepsOnlyTheConnectionsFiles() async throws {
            try Fixtures.requireImages()
            let state = "/var/tmp/mvm-doctor-" + String(UUID().uuidString.prefix(8)).lowercased()
            defer { try? FileManager.default.removeItem(atPath: state) }
            let result = try await runMVM(["doctor", "--state-dir", state])
            #expect(result.exitCode == 0, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("\(state) is writable (created, as mvm compare would)"))
            let left = try FileManager.default.contentsOfDirectory(atPath: state).sorted()
            #expect(left == ["libvirt", "libvirt-client.log"])
        }
    }
}
