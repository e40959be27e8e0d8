import Foundation
import MVMCore

/// One prerequisite of `mvm compare`, as `mvm doctor` found it.
public struct DoctorCheck: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        case pass, warn, fail
    }

    public var name: String
    public var status: Status
    /// Whether a failure of this check stops `mvm compare`. A check that is
    /// not required reports its problems as warnings.
    public var required: Bool
    /// What was found.
    public var detail: String
    /// What to do about a warning or a failure.
    public var fix: String?

    public init(name: String, status: Status, required: Bool, detail: String, fix: String? = nil) {
        self.name = name
        self.status = status
        self.required = required
        self.detail = detail
        self.fix = fix
    }

    static func passed(_ name: String, required: Bool = true, _ detail: String) -> DoctorCheck {
        DoctorCheck(name: name, status: .pass, required: required, detail: detail)
    }

    /// A problem: a failure where the check is required, else a warning.
    static func problem(_ name: String, required: Bool = true, _ detail: String, fix: String) -> DoctorCheck {
        DoctorCheck(name: name, status: required ? .fail : .warn, required: required, detail: detail, fix: fix)
    }
}

/// Everything `mvm doctor` checked, in the order it prints them.
public struct DoctorReport: Sendable, Codable, Equatable {
    /// No required check failed: `mvm compare` can run.
    public var ready: Bool
    public var checks: [DoctorCheck]

    public init(checks: [DoctorCheck]) {
        self.checks = checks
        ready = !checks.contains { $0.required && $0.status == .fail }
    }

    /// `PASS  name  detail` lines, the fix under each warning and failure,
    /// and a last line saying whether `mvm compare` can run.
    public func table() -> String {
        let width = checks.map(\.name.count).max() ?? 0
        var lines: [String] = []
        for check in checks {
            let name = check.name.padding(toLength: width, withPad: " ", startingAt: 0)
            lines.append("\(check.status.rawValue.uppercased())  \(name)  \(check.detail)")
            if check.status != .pass, let fix = check.fix { lines.append("      fix: \(fix)") }
        }
        let warnings = checks.filter { $0.status == .warn }.count
        let failures = checks.filter { $0.required && $0.status == .fail }.map(\.name)
        let warned = warnings == 0 ? "" : " (\(warnings) warning\(warnings == 1 ? "" : "s"))"
        lines.append("")
        lines.append(
            failures.isEmpty
                ? "ready: mvm compare can run\(warned)"
                : "not ready: mvm compare cannot run; \(failures.count) required check\(failures.count == 1 ? "" : "s") failed (\(failures.joined(separator: ", ")))"
        )
        return lines.joined(separator: "\n")
    }
}
