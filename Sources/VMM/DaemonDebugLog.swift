import Foundation
import MVMCore
import Subprocess

/// libvirt's debug log of the local daemon that serves a domain, turned on
/// for one traced start and back off after, through `virt-admin` (the
/// daemon's administration tool). libvirt's administration library cannot
/// share a process with libvirt.so (both register libvirt's object types;
/// the second registration crashes), so mvm runs the tool.
struct DaemonDebugLog: Sendable {
    let adminURI: String
    let savedOutputs: String
    let savedFilters: String

    /// Adds `1:file:<file>` to the daemon's outputs and sets its filters to
    /// the trace's; nil (and nothing changed) when `virt-admin` is missing
    /// or the daemon refuses (its admin socket is root's).
    static func enable(adminURI: String, file: String) async -> DaemonDebugLog? {
        guard let outputs = await setting("daemon-log-outputs", of: adminURI),
            let filters = await setting("daemon-log-filters", of: adminURI)
        else { return nil }
        guard await run(adminURI, ["daemon-log-outputs", (outputs + " 1:file:" + file).trimmed]) else { return nil }
        let log = DaemonDebugLog(adminURI: adminURI, savedOutputs: outputs, savedFilters: filters)
        guard await run(adminURI, ["daemon-log-filters", LibvirtDebugLog.filters]) else {
            await log.restore()
            return nil
        }
        return log
    }

    /// Puts the daemon's outputs and filters back as they were.
    func restore() async {
        _ = await Self.run(adminURI, ["daemon-log-filters", savedFilters])
        _ = await Self.run(adminURI, ["daemon-log-outputs", savedOutputs])
    }

    /// " Logging outputs: 3:file:/var/log/libvirt/libvirtd.log" → "3:file:...".
    static func value(of output: String) -> String? {
        guard let line = output.split(separator: "\n").first(where: { $0.contains("Logging ") }),
            let colon = line.firstIndex(of: ":")
        else { return nil }
        return String(line[line.index(after: colon)...]).trimmed
    }

    private static func setting(_ command: String, of adminURI: String) async -> String? {
        guard let output = await output(adminURI, [command]) else { return nil }
        return value(of: output)
    }

    private static func run(_ adminURI: String, _ arguments: [String]) async -> Bool {
        await output(adminURI, arguments) != nil
    }

    private static func output(_ adminURI: String, _ arguments: [String]) async -> String? {
        guard
            let result = try? await Subprocess.run(
                .name("virt-admin"), arguments: Arguments(["-c", adminURI] + arguments),
                output: .string(limit: 1 << 16), error: .discarded),
            result.terminationStatus.isSuccess
        else { return nil }
        return result.standardOutput
    }
}

extension String {
    fileprivate var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
