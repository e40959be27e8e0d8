import Foundation
import Synchronization

/// libvirt's debug log of the QEMU driver, turned on for one domain start
/// of the embedded driver (which runs in this process).
///
/// libvirt reads LIBVIRT_LOG_OUTPUTS and LIBVIRT_LOG_FILTERS once, when it
/// initialises; its public API has no call to change them later in a
/// client. The daemons change theirs through virLogSetOutputs and
/// virLogSetFilters, which libvirt.so exports (its private symbols, for its
/// own drivers and daemons). mvm looks them up at run time, so that a
/// libvirt without them costs the trace its libvirt layer, not mvm's start.
enum LibvirtDebugLog {
    private typealias SetString = @convention(c) (UnsafePointer<CChar>?) -> Int32

    private static let functions: (outputs: SetString, filters: SetString)? = {
        guard let process = dlopen(nil, RTLD_NOW),
            let outputs = dlsym(process, "virLogSetOutputs"),
            let filters = dlsym(process, "virLogSetFilters")
        else { return nil }
        return (unsafeBitCast(outputs, to: SetString.self), unsafeBitCast(filters, to: SetString.self))
    }()

    /// One capture at a time: the settings are process-wide.
    private static let busy = Mutex(false)

    /// The sources whose debug messages a trace reads: the QEMU driver, the
    /// API entry points, and the command runner's handshake.
    static let filters = "1:qemu 1:libvirt 1:util.command"

    /// Runs `body` with libvirt's debug messages of `filters` appended to
    /// `file`; libvirt's outputs and filters are as before afterwards. Nil
    /// and no capture when this libvirt lacks the calls or another capture
    /// runs.
    static func capture<Result, Failure: Error>(
        into file: String, _ body: () throws(Failure) -> Result
    ) throws(Failure) -> (Result, captured: Bool) {
        guard let functions else { return (try body(), false) }
        let acquired = busy.withLock { busy in
            if busy { return false }
            busy = true
            return true
        }
        guard acquired else { return (try body(), false) }
        defer { busy.withLock { $0 = false } }
        // What libvirt read when it initialised (LibvirtRuntime sets the
        // outputs unless the user did).
        let outputs = getenv("LIBVIRT_LOG_OUTPUTS").map { String(cString: $0) } ?? ""
        let previousFilters = getenv("LIBVIRT_LOG_FILTERS").map { String(cString: $0) } ?? ""
        guard functions.outputs(outputs + " 1:file:" + file) == 0 else { return (try body(), false) }
        _ = functions.filters(filters)
        defer {
            _ = functions.filters(previousFilters)
            _ = functions.outputs(outputs)
        }
        return (try body(), true)
    }
}
