import Foundation
import MVMCore
import SystemPackage

/// One container's OCI bundle, `<state>/bundles/<id>`: its config.json and
/// the file that collects what the runtime and the init write on stderr.
struct ContainerBundle: Sendable {
    let path: String

    init(stateDirectory: StateDirectory, id: String) {
        path = stateDirectory.subdirectory("bundles/" + id)
    }

    var stderrPath: String { path + "/stderr.log" }

    /// Writes config.json; on failure leaves no bundle behind.
    func write(_ spec: OCISpec) throws(ContainerError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            try spec.jsonData().write(to: URL(fileURLWithPath: path + "/config.json"))
        } catch {
            remove()
            throw .system(
                SystemFailure(
                    "cannot write the bundle \(path)", underlying: error,
                    advice: "use a writable state directory with free space"))
        }
    }

    /// A fresh stderr file for the runtime and the init.
    func openStderr() throws(ContainerError) -> FileDescriptor {
        do {
            return try FileDescriptor.open(
                FilePath(stderrPath), .writeOnly, options: [.create, .truncate, .closeOnExec],
                permissions: [.ownerReadWrite])
        } catch {
            throw .system(SystemFailure("cannot create \(stderrPath)", underlying: error))
        }
    }

    /// What the runtime and the init wrote on stderr so far.
    var stderrLog: String { readSmallFile(stderrPath) ?? "" }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

extension OCISpec {
    /// config.json as written to a bundle: pretty, keys sorted, stable.
    public func jsonData() throws -> Data {
        try mvmJSONData(self)
    }
}
