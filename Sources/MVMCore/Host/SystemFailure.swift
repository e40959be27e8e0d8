import Foundation
import SystemPackage

/// A system call or file operation that failed: what mvm was doing, the
/// error underneath (an `Errno`, a Foundation error, ...), kept as it is so
/// that callers can inspect it, and what to do about it when mvm knows.
public struct SystemFailure: Error, CustomStringConvertible {
    /// What mvm was doing ("creating the console socket /var/lib/mvm/consoles/mvm-1a2b.sock").
    public var action: String
    public var underlying: (any Error)?
    /// What the user can do ("use a writable state directory with free space").
    public var advice: String?

    public init(_ action: String, underlying: (any Error)? = nil, advice: String? = nil) {
        self.action = action
        self.underlying = underlying
        self.advice = advice
    }

    /// The errno of the failure, when the underlying error is one.
    public var errno: Errno? { underlying as? Errno }

    public var description: String {
        var text = action
        if let underlying { text += ": " + describe(underlying) }
        if let advice { text += "; " + advice }
        return text
    }
}

/// An error in words: its own description where it has one that says
/// something (Swift errors of mvm, `Errno`), else Foundation's.
package func describe(_ error: any Error) -> String {
    if let errno = error as? Errno { return errno.description }
    // FileManager's and Data's errors: their localized text names the file.
    if let cocoa = error as? CocoaError { return cocoa.localizedDescription }
    return String(describing: error)
}
