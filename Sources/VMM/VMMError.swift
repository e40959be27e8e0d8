import MVMCore

/// Why a micro-VM could not be booted or measured. The first line of each
/// description says what went wrong and what to do; console excerpts follow.
/// Each case keeps the error underneath (libvirt's, an errno) as it was.
public enum VMMError: Error, CustomStringConvertible {
    case libvirt(LibvirtError)
    case accelerator(AcceleratorUnavailable)
    /// A kernel or initramfs that cannot be used (missing, unreadable, empty).
    case image(role: String, path: String, problem: String)
    case invalidConfiguration(String)
    /// The guest did not print its readiness line in time.
    case readinessTimeout(after: Duration, accelerator: Accelerator, consoleTail: [String])
    case kernelPanic(line: String, consoleTail: [String])
    /// The guest stopped (QEMU exited) before printing its readiness line.
    case guestStopped(consoleTail: [String])
    /// The image's workload exited, with this status, without being ready.
    case workloadExited(status: Int, consoleTail: [String])
    /// A system call or file operation failed.
    case system(SystemFailure)

    /// The error for a guest that showed no readiness line.
    init(_ failure: ReadinessFailure, accelerator: Accelerator) {
        switch failure.reason {
        case .timedOut:
            self = .readinessTimeout(after: failure.timeout, accelerator: accelerator, consoleTail: failure.outputTail)
        case .kernelPanic(let line): self = .kernelPanic(line: line, consoleTail: failure.outputTail)
        case .endOfOutput: self = .guestStopped(consoleTail: failure.outputTail)
        case .readFailed(let code): self = .system(SystemFailure("reading the guest console failed", underlying: code))
        case .workloadExited(let status): self = .workloadExited(status: status, consoleTail: failure.outputTail)
        }
    }

    public var description: String {
        switch self {
        case .libvirt(let error):
            return error.description
        case .accelerator(let error):
            return error.description
        case .image(let role, let path, let problem):
            return
                "\(role) \(path) \(problem); install the images (scripts/install.sh), point MVM_IMAGES at them, or name another \(role)"
        case .invalidConfiguration(let problem):
            return problem
        case .readinessTimeout(let after, let accelerator, let tail):
            var text = "the guest printed no readiness line within \(formatSeconds(after))"
            text +=
                accelerator == .kvm
                ? "; KVM may not be able to run this guest here: try the tcg accelerator"
                : "; raise the timeout if the host is busy"
            return text + Self.excerpt(tail)
        case .kernelPanic(let line, let tail):
            return "the guest kernel panicked: \(line.drop { $0 == " " })" + Self.excerpt(tail)
        case .guestStopped(let tail):
            return "the guest stopped before printing its readiness line" + Self.excerpt(tail)
        case .workloadExited(let status, let tail):
            return workloadExitDescription(status: status, side: "micro-VM", outputTail: tail)
        case .system(let failure):
            return failure.description
        }
    }

    private static func excerpt(_ tail: [String]) -> String {
        guard !tail.isEmpty else { return "\n  (the console showed nothing)" }
        return "\n  last console lines:\n" + tail.map { "  | " + $0 }.joined(separator: "\n")
    }
}
