import Foundation
import MVMCore
import Subprocess
import SystemPackage
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Every test that starts a real instance lives under this suite: TCG boots
/// keep a core busy, and two at once on a 2-core machine slow each other down
/// and make timings meaningless, so they run one at a time.
@Suite(.serialized) enum RealInstances {}

enum Fixtures {
    /// The standard limits with another timeout, checked against this host.
    static func limits(timeoutSeconds: Double) throws -> InstanceLimits {
        try InstanceLimits.checked(memoryMiB: 128, vcpus: 1, timeoutSeconds: timeoutSeconds, host: .probe())
    }

    /// Images from images/build.sh; the README's test command builds them.
    static let images = ImageSet.defaultLocation()

    /// A state directory of the tests' own, so they never touch a user's
    /// /var/lib/mvm; kept between runs so the embedded driver's QEMU
    /// capability cache is reused.
    static let state = StateDirectory(path: "/var/tmp/mvm-tests")

    /// The state directory of tests that boot through libvirt inside the
    /// test process. libvirt keeps an embedded driver, and its lock on the
    /// root, for as long as the process lives: an `mvm` started by a later
    /// test on the same root would find it locked.
    static let inProcessState = StateDirectory(path: "/var/tmp/mvm-tests-in-process")

    static func requireImages() throws {
        for path in [images.minimalVmlinux, images.minimalBzImage, images.initramfs] {
            try #require(
                FileManager.default.fileExists(atPath: path),
                "missing \(path): run scripts/run-tests.sh (it builds the images) or images/build.sh")
        }
    }

    /// QEMU processes of mvm domains (their -name guest=mvm-...), found by
    /// scanning /proc: only the tests look for leftovers this way.
    static func mvmQEMUProcesses() -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return arguments.first?.hasSuffix("qemu-system-x86_64") == true
                && arguments.contains { $0.hasPrefix("guest=mvm-") }
        }
    }

    /// QEMU processes mvm started itself (the qemu-direct reference row has
    /// no mvm- name; it is known by its serial port on stdio) or through
    /// libvirt.
    static func allQEMUProcesses() -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        let direct = entries.compactMap(Int32.init).filter { pid in
            guard let status = readSmallFile("/proc/\(pid)/status"), !status.contains("State:\tZ"),
                let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
            else { return false }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return arguments.first?.hasSuffix("qemu-system-x86_64") == true
                && arguments.contains("stdio,id=charserial0,signal=off")
        }
        return direct + mvmQEMUProcesses()
    }

    /// True while the process runs: a zombie (killed, not yet reaped by the
    /// host's init) holds no memory and runs nothing, so it does not count.
    static func processExists(_ pid: Int32) -> Bool {
        guard let status = readSmallFile("/proc/\(pid)/status") else { return false }
        return !status.contains("State:\tZ")
    }

    /// cgroup directories libvirt made for mvm domains (machine/*-mvm-*),
    /// in every hierarchy: a destroyed domain must leave none.
    static func mvmDomainCgroups() -> [String] {
        let root = "/sys/fs/cgroup"
        let hierarchies =
            ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).map { root + "/" + $0 } + [root]
        return hierarchies.flatMap { hierarchy in
            ((try? FileManager.default.contentsOfDirectory(atPath: hierarchy + "/machine")) ?? [])
                .filter { $0.contains("-mvm-") }.map { hierarchy + "/machine/" + $0 }
        }
    }

    static func consoleFiles(in directory: StateDirectory = state) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: directory.subdirectory("consoles"))) ?? []
    }

    /// Copies of images in a directory only root can enter (mode 0700, as
    /// /root is on Debian), as when the checkout lives in root's home.
    static func privateCopies(of paths: [String]) throws -> (directory: URL, copies: [String]) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mvm-private-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
        var copies: [String] = []
        for path in paths {
            let copy = directory.appendingPathComponent(URL(fileURLWithPath: path).lastPathComponent).path
            try FileManager.default.copyItem(atPath: path, toPath: copy)
            copies.append(copy)
        }
        return (directory, copies)
    }

    /// A file under a fresh temporary directory, removed by the caller.
    static func temporaryFile(named name: String, contents: [UInt8]) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mvm-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent(name)
        try Data(contents).write(to: file)
        return file
    }
}

/// Runs the built `mvm` executable and captures what it prints.
struct CommandResult {
    var status: TerminationStatus
    var stdout: String
    var stderr: String

    var exitCode: Int32? {
        if case .exited(let code) = status { return code }
        return nil
    }
}

/// The `mvm` executable built beside the tests.
let mvmExecutable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    .deletingLastPathComponent().appendingPathComponent("mvm")

func runMVM(
    _ arguments: [String], environment extra: [String: String] = [:], executable: URL = mvmExecutable,
    workingDirectory: String? = nil, input: String? = nil
) async throws -> CommandResult {
    var overrides: [Environment.Key: String?] = ["MVM_STATE_DIR": Fixtures.state.path]
    for (key, value) in extra { overrides[Environment.Key(stringLiteral: key)] = value }
    let result = try await run(
        .path(FilePath(executable.path)), arguments: Arguments(arguments),
        environment: .inherit.updating(overrides), workingDirectory: workingDirectory.map { FilePath($0) },
        input: .string(input ?? ""),
        output: .string(limit: 1 << 20), error: .string(limit: 1 << 20))
    return CommandResult(
        status: result.terminationStatus, stdout: result.standardOutput, stderr: result.standardError)
}

/// Runs a program (not mvm) to completion: stdout, stderr, exit code.
func runCommand(_ path: String, _ arguments: [String]) async throws -> CommandResult {
    let result = try await run(
        .path(FilePath(path)), arguments: Arguments(arguments), output: .string(limit: 1 << 20),
        error: .string(limit: 1 << 20))
    return CommandResult(status: result.terminationStatus, stdout: result.standardOutput, stderr: result.standardError)
}
