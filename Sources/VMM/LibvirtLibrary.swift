import MVMCore

/// The libvirt library this process is linked with, for `mvm doctor`.
public enum LibvirtLibrary {
    /// The library's version ("9.0.0"), read after setting libvirt up exactly
    /// as opening a connection does (the state directory created, libvirt's
    /// log in it), so that a failure here is the one a connection would meet.
    public static func version(stateDirectory: StateDirectory) throws(VMMError) -> String {
        do throws(SystemFailure) { try stateDirectory.ensureExists() } catch { throw .system(error) }
        do {
            try LibvirtRuntime.ensureReady(logFile: Connection.clientLogFile(in: stateDirectory))
            return try LibvirtRuntime.libraryVersion()
        } catch {
            throw .libvirt(error)
        }
    }
}
