import CLibvirt
import Foundation

/// Process-wide libvirt set-up, done once: libvirt initialised, its default
/// error printer silenced (errors reach callers as `LibvirtError`), and its
/// default event loop running on a thread of its own. The embedded QEMU
/// driver needs that loop to talk to QEMU's monitor; remote connections need
/// it for keep-alives.
enum LibvirtRuntime {
    /// Sets libvirt up on first use. libvirt's own log messages (warnings it
    /// prints on stderr by default) go to `logFile` instead, unless the user
    /// chose outputs with LIBVIRT_LOG_OUTPUTS; only the first call's file
    /// counts, since libvirt reads that variable once.
    static func ensureReady(logFile: String) throws(LibvirtError) {
        if getenv("LIBVIRT_LOG_OUTPUTS") == nil {
            rotate(logFile)
            setenv("LIBVIRT_LOG_OUTPUTS", "3:file:" + logFile, 0)
        }
        try readiness.get()
    }

    /// The log is appended to by every mvm run for a year of nights: past
    /// `logLimit` it becomes `<file>.1` (replacing the one before), so at
    /// most twice the limit stays on disk.
    static let logLimit = 1 << 20

    static func rotate(_ logFile: String) {
        guard let size = (try? FileManager.default.attributesOfItem(atPath: logFile))?[.size] as? Int, size > logLimit
        else { return }
        rename(logFile, logFile + ".1")
    }

    private static let readiness: Result<Void, LibvirtError> = {
        guard virInitialize() == 0 else {
            return .failure(.takeLast(context: "initialising libvirt"))
        }
        virSetErrorFunc(nil) { _, _ in
            // Deliberately empty: libvirt would print every error to stderr,
            // including ones mvm handles (a domain that already stopped).
        }
        guard virEventRegisterDefaultImpl() == 0 else {
            return .failure(.takeLast(context: "registering libvirt's event loop"))
        }
        let loop = Thread {
            while true {
                if virEventRunDefaultImpl() != 0 {
                    // Nothing to recover here; libvirt logs nothing because
                    // of the silent error function, so drop the error.
                    virResetLastError()
                }
            }
        }
        loop.name = "libvirt-events"
        loop.start()
        return .success(())
    }()

    /// The version of the libvirt library in this process (`virGetVersion`).
    static func libraryVersion() throws(LibvirtError) -> String {
        var version: UInt = 0
        guard virGetVersion(&version, nil, nil) == 0 else {
            throw .takeLast(context: "reading libvirt's version")
        }
        return formatVersion(version)
    }

    static func formatVersion(_ version: UInt) -> String {
        "\(version / 1_000_000).\(version / 1000 % 1000).\(version % 1000)"
    }
}
