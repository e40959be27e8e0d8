import Foundation
import MVMCore
import Testing

extension RealInstances {
    /// `mvm compare --image`: an OCI image made here from mvm's rootfs with
    /// umoci, run as a container and as a micro-VM, and the images and
    /// options mvm must refuse in one line.
    @Suite struct OCIImages {
        /// A layout under a folder of its own, with one tag per case.
        struct Layout {
            let folder: URL
            /// The prepared images there were before: each layout made here
            /// has digests of its own (umoci stamps the time), so what mvm
            /// unpacked of it goes with it, or the cache grows by every run.
            let cachedBefore: Set<String>
            var path: String { folder.appendingPathComponent("layout").path }

            static var cache: String { Fixtures.state.subdirectory("oci") }

            static func cached() -> Set<String> {
                Set((try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? [])
            }

            static func make() async throws -> Layout {
                let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mvm-oci-\(UUID())")
                let layout = Layout(folder: folder, cachedBefore: cached())
                let bundle = folder.appendingPathComponent("bundle").path
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try await layout.umoci(["init", "--layout", layout.path])
                try await layout.umoci(["new", "--image", layout.path + ":base"])
                try await layout.umoci(["unpack", "--image", layout.path + ":base", bundle])
                _ = try await runCommand(
                    "/bin/cp", ["-a", Fixtures.images.rootfs + "/.", bundle + "/rootfs/"])
                try await layout.umoci(["repack", "--image", layout.path + ":base", bundle])
                try await layout.tag(
                    "greets", "--config.entrypoint", "/bin/sh", "--config.cmd", "-c", "--config.cmd",
                    "echo hello from $GREETING in $(pwd); exit 0", "--config.workingdir", "/tmp",
                    "--config.env", "GREETING=mvm")
                try await layout.tag(
                    "fails", "--config.entrypoint", "/bin/sh", "--config.cmd", "-c", "--config.cmd",
                    "echo first; echo last words; exit 3")
                try await layout.tag(
                    "sleeps", "--config.entrypoint", "/bin/sh", "--config.cmd", "-c", "--config.cmd", "sleep 1")
                try await layout.tag("missing", "--config.entrypoint", "/usr/bin/nonexistent")
                try await layout.tag("arm", "--config.entrypoint", "/bin/true", "--architecture", "arm64")
                return layout
            }

            func umoci(_ arguments: [String]) async throws {
                let result = try await runCommand("/usr/bin/umoci", arguments)
                try #require(result.exitCode == 0, "umoci \(arguments): \(result.stderr)")
            }

            func tag(_ name: String, _ options: String...) async throws {
                try await umoci(["config", "--image", path + ":base", "--tag", name] + options)
            }

            func remove() {
                try? FileManager.default.removeItem(at: folder)
                for entry in Self.cached().subtracting(cachedBefore) {
                    try? FileManager.default.removeItem(atPath: Self.cache + "/" + entry)
                }
            }
        }

        func compare(_ arguments: [String]) async throws -> CommandResult {
            try await runMVM(["compare", "-n", "2", "--warmup", "0", "--no-reference"] + arguments)
        }

        func bothSidesRanTwice(_ table: String) throws -> Bool {
            table.contains(try Regex(#"ok runs +2/2 +2/2\n"#))
        }

        func expectNothingLeft() async throws {
            #expect(Fixtures.mvmQEMUProcesses().isEmpty)
            #expect(Fixtures.consoleFiles().isEmpty)
            let list = try await runMVM(["list"])
            #expect(list.stdout.isEmpty, "\(list.stdout)")
            let partial =
                (try? FileManager.default.contentsOfDirectory(atPath: Layout.cache)) ?? []
            #expect(!partial.contains { $0.hasPrefix(".partial-") }, "\(partial)")
        }

        @Test func anImageRunsAsAContainerAndAsAMicroVMToCompletion() async throws {
            try Fixtures.requireImages()
            let layout = try await Layout.make()
            defer { layout.remove() }
            let json = layout.folder.appendingPathComponent("compare.json").path
            let result = try await compare(["--image", layout.path + ":greets", "--ready-exit", "--export-json", json])
            #expect(result.exitCode == 0, "\(result.stdout)\(result.stderr)")
            #expect(try bothSidesRanTwice(result.stdout), "\(result.stdout)")
            let report = try String(contentsOfFile: json, encoding: .utf8)
            #expect(report.contains("image \(layout.path):greets"), "the environment names the image")
            try await expectNothingLeft()
        }

        /// The workload's own line, with the image's env and working
        /// directory: proof that both sides ran it as the image says.
        @Test func aReadyLineOfTheWorkloadsOwn() async throws {
            try Fixtures.requireImages()
            let layout = try await Layout.make()
            defer { layout.remove() }
            let result = try await compare([
                "--image", layout.path + ":greets", "--ready-line", "^hello from mvm in /tmp$",
            ])
            #expect(result.exitCode == 0, "\(result.stdout)\(result.stderr)")
            #expect(try bothSidesRanTwice(result.stdout), "\(result.stdout)")
            try await expectNothingLeft()
        }

        @Test func aDockerSaveArchiveIsConvertedBySkopeo() async throws {
            try Fixtures.requireImages()
            let layout = try await Layout.make()
            defer { layout.remove() }
            let archive = layout.folder.appendingPathComponent("greets.tar").path
            let copy = try await runCommand(
                "/usr/bin/skopeo",
                ["copy", "--quiet", "oci:\(layout.path):greets", "docker-archive:\(archive):mvm/greets"])
            try #require(copy.exitCode == 0, "\(copy.stderr)")
            let result = try await compare(["--image", archive, "--ready-exit", "-n", "1"])
            #expect(result.exitCode == 0, "\(result.stdout)\(result.stderr)")
            try await expectNothingLeft()
        }

        /// A workload that exits non-zero: every side fails with its status
        /// and its last lines, exit status 2.
        @Test func aWorkloadThatFailsShowsItsStatusAndOutput() async throws {
            try Fixtures.requireImages()
            let layout = try await Layout.make()
            defer { layout.remove() }
            let result = try await compare(["--image", layout.path + ":fails", "--ready-exit", "-n", "1"])
            #expect(result.exitCode == 2)
            for side in ["micro-VM", "container"] {
                #expect(
                    result.stdout.contains(
                        "the workload in the \(side) exited with status 3 (its last output: \"first\", \"last words\")"),
                    "\(result.stdout)")
            }
            try await expectNothingLeft()
        }

        /// An mvm killed while it unpacked an image leaves its work folder;
        /// `mvm gc` knows it by its dead process and removes it.
        @Test func gcRemovesAnAbandonedUnpack() async throws {
            let finished = try await runCommand("/bin/sh", ["-c", "echo $$"])
            let pid = try #require(Int32(finished.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
            let cache = Layout.cache
            let abandoned = cache + "/.partial-\(pid)-\(UUID().uuidString)"
            try FileManager.default.createDirectory(
                atPath: abandoned + "/rootfs/usr", withIntermediateDirectories: true)
            let result = try await runMVM(["gc"])
            #expect(result.exitCode == 0, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains(abandoned), "\(result.stdout)")
            #expect(!FileManager.default.fileExists(atPath: abandoned))
        }

        /// `mvm ab` of two images: B's workload sleeps 1 s more (TCG boots spread by 0.1 s), a
        /// regression on both sides' subjects; one image alone is refused.
        @Test func anABRunOfTwoImages() async throws {
            try Fixtures.requireImages()
            let layout = try await Layout.make()
            defer { layout.remove() }
            for subject in [["--container"], []] {
                let result = try await runMVM(
                    [
                        "ab", "-n", "6", "--a-image", layout.path + ":greets", "--b-image", layout.path + ":sleeps",
                        "--ready-exit",
                    ]
                        + subject)
                #expect(result.exitCode == 1, "\(result.stdout)\(result.stderr)")
                #expect(result.stdout.contains("B regressed: first-output, ready"), "\(result.stdout)")
                #expect(result.stdout.contains("B: image \(layout.path):sleeps (sha256:"), "\(result.stdout)")
            }
            let alone = try await runMVM(["ab", "-n", "6", "--b-image", layout.path + ":sleeps", "--ready-exit"])
            #expect(alone.exitCode == 64)
            #expect(
                alone.stderr.contains("give both sides an image (--a-image and --b-image) or neither"),
                "\(alone.stderr)")
            try await expectNothingLeft()
        }

        @Test func badImagesAreOneLineAndStartNothing() async throws {
            let layout = try await Layout.make()
            defer { layout.remove() }
            let cases: [([String], String)] = [
                (
                    ["--image", layout.path, "--ready-exit"],
                    "holds 6 images (tags: arm, base, fails, greets, missing, sleeps); choose one with --image \(layout.path):TAG"
                ),
                (["--image", layout.path + ":nope", "--ready-exit"], "has no image tagged nope; its tags: arm, base"),
                (["--image", layout.folder.path, "--ready-exit"], "is not an OCI image layout"),
                (["--image", "/etc/hostname", "--ready-exit"], "nor a `docker save` archive (skopeo: "),
                (
                    ["--image", layout.path + ":arm", "--ready-exit"],
                    "is built for linux/arm64, and this host runs linux/amd64"
                ),
                (
                    ["--image", layout.path + ":missing", "--ready-exit"],
                    "runs /usr/bin/nonexistent, which is not an executable file in the image"
                ),
                (["--image", layout.path + ":greets"], "say when it is ready with --ready-exit"),
                (
                    ["--image", layout.path + ":greets", "--ready-exit", "--rootfs", "/tmp"],
                    "leave out --initrd and --rootfs"
                ),
                (["--ready-exit"], "--ready-exit needs --image"),
                (
                    ["--image", layout.path + ":greets", "--ready-exit", "--dimensions", "boot,teardown"],
                    "--dimensions boot,teardown measures mvm's own guest beyond boot"
                ),
                (
                    ["--image", layout.path + ":greets", "--ready-exit", "--memory", "32"],
                    "--memory 32 is too small for image"
                ),
                (["--image", "/nonexistent/layout", "--ready-exit"], "image /nonexistent/layout does not exist"),
            ]
            for (arguments, message) in cases {
                let result = try await compare(arguments)
                #expect(result.exitCode == 64, "\(arguments): \(result.stdout)")
                let first = result.stderr.split(separator: "\n").first.map(String.init) ?? ""
                #expect(first.hasPrefix("Error: ") && first.contains(message), "\(arguments): \(result.stderr)")
            }
            #expect(Fixtures.allQEMUProcesses().isEmpty)
            try await expectNothingLeft()
        }
    }
}
