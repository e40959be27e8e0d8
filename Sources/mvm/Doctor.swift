import ArgumentParser
import Foundation
import Jobs
import MVMCore

extension MVM {
    struct Doctor: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check everything mvm compare needs; say for each check pass, warn or fail, and the fix.",
            discussion: """
                Checks the libvirt library and the connection, QEMU and its machine types, the accelerator \
                and why, /dev/kvm's mode, the OCI runtimes and the cgroup layout, the images against their \
                manifest, the state directory and its orphans. Starts no domain and no container. Exit status: \
                0 when mvm compare can run (no required check failed), 1 otherwise.
                """)

        @OptionGroup var common: CommonOptions
        @OptionGroup var connection: ConnectionOptions

        @Flag(help: "Print the result as JSON: {\"ready\": bool, \"checks\": [...]}.")
        var json = false

        func run() async throws {
            // The orphans are one of the checks: no separate warning.
            common.bootstrapLogging(checkOrphans: false)
            let report = await Jobs.Doctor(stateDirectory: common.state, connectURI: connection.uri).examine()
            print(json ? String(decoding: try mvmJSONData(report), as: UTF8.self) : report.table())
            if !report.ready { throw ExitCode(1) }
        }
    }
}
