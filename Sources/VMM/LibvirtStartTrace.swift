import Foundation
import MVMCore

/// The steps of one `virDomainCreateXML` of the QEMU driver, read from
/// libvirt's debug log (`LibvirtDebugLog`). libvirt 9.0's
/// `src/qemu/qemu_process.c` announces each step of a start before it takes
/// it ("Setting up domain cgroup (if required)", "Verifying and updating
/// provided guest CPU"): each step lasts until the next one starts.
struct LibvirtStartTrace {
    /// One line of libvirt's log: `2026-12-05 19:01:40.053+0000: 26587:
    /// debug : qemuProcessLaunch:7877 : Waiting for monitor to show up`.
    struct Line: Equatable {
        /// Seconds from the request.
        var at: Double
        var thread: Int
        var function: String
        var message: String
    }

    /// Parses the log's lines, placing their wall-clock times on mvm's
    /// clock by the wall-clock time of the request. Lines that continue a
    /// multi-line message carry no time and are skipped.
    static func lines(of text: String, requestedAt origin: Date) -> [Line] {
        text.split(separator: "\n").compactMap { line(String($0), origin: origin) }
    }

    static func line(_ text: String, origin: Date) -> Line? {
        let parts = text.split(separator: ": ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let time = wallClock(parts[0]), let thread = Int(parts[1]) else { return nil }
        let rest = parts[2].split(separator: " : ", maxSplits: 2, omittingEmptySubsequences: false)
        guard rest.count == 3 else { return nil }
        let function = rest[1].split(separator: ":").first.map(String.init) ?? String(rest[1])
        return Line(
            at: time - origin.timeIntervalSince1970, thread: thread, function: function, message: String(rest[2]))
    }

    /// "2026-12-05 19:01:40.053+0000" as seconds since 1970.
    static func wallClock(_ text: Substring) -> Double? {
        let fields = text.split(whereSeparator: { "- :.+".contains($0) })
        guard fields.count == 8, fields[7].count == 4, text.count == 28 else { return nil }
        let numbers = fields.compactMap { Int($0) }
        guard numbers.count == 8 else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        guard let utc = TimeZone(identifier: "UTC") else { return nil }
        calendar.timeZone = utc
        let components = DateComponents(
            year: numbers[0], month: numbers[1], day: numbers[2], hour: numbers[3], minute: numbers[4],
            second: numbers[5])
        guard let date = calendar.date(from: components) else { return nil }
        // The zone is +HHMM or -HHMM east of UTC.
        let zone = Double(numbers[7] / 100 * 3600 + numbers[7] % 100 * 60)
        let sign: Double = text[text.index(text.startIndex, offsetBy: 23)] == "-" ? -1 : 1
        return date.timeIntervalSince1970 + Double(numbers[6]) / 1000 - sign * zone
    }

    /// A step announcement: a line of the start's thread from a
    /// `qemuProcess*` function that is prose, not a dump of arguments.
    static func isStep(_ line: Line) -> Bool {
        line.function.hasPrefix("qemuProcess") && !line.message.contains("=")
    }

    /// What the log showed of the start: nil when it has no start.
    let lines: [Line]
    let create: Line

    init?(lines: [Line]) {
        guard let create = lines.first(where: { $0.function == "virDomainCreateXML" }) else { return nil }
        self.lines = lines
        self.create = create
    }

    /// When libvirt asked QEMU to run the vCPUs (`cont`).
    var vcpusStarted: Double? {
        lines.first { $0.message.contains("QEMU_MONITOR_SEND_MSG") && $0.message.contains(#""execute":"cont""#) }?.at
    }

    /// Adds libvirt's layer (`virDomainCreateXML` and its steps, each with
    /// the QMP commands it sent) and QEMU's start until its monitor greets,
    /// the call having returned at `returned`.
    func add(to trace: inout BootTrace, returned: Double) {
        let end = max(returned, create.at)
        let parent = trace.add(TraceSpan(layer: .libvirt, name: "virDomainCreateXML", start: create.at, end: end))
        let steps = lines.filter { $0.thread == create.thread && $0.at >= create.at && Self.isStep($0) }
        let boundaries =
            [(name: "parse the domain XML, look up QEMU's capabilities", at: create.at, function: nil)]
            + steps.map { (name: $0.message, at: $0.at, function: Optional($0.function)) }
        trace.addAnnouncedSteps(boundaries.map { ($0.name, $0.at) }, until: end, layer: .libvirt, parent: parent) {
            index, start, stepEnd in
            let commands = lines.filter {
                $0.at >= start && $0.at < stepEnd && $0.message.hasPrefix("QEMU_MONITOR_SEND_MSG")
            }.count
            let detail = [
                commands > 0 ? "\(commands) QMP commands" : nil, boundaries[index].function.map { "in \($0)" },
            ]
            .compactMap { $0 }.joined(separator: ", ")
            return detail.isEmpty ? nil : detail
        }
        // QEMU's own start-up: from the handshake that lets it exec until
        // the greeting on its monitor.
        if let handshake = lines.first(where: { $0.function == "virCommandHandshakeNotify" && $0.at >= create.at }),
            let greeting = lines.first(where: { $0.message.contains(#"{"QMP":"#) && $0.at >= handshake.at })
        {
            trace.add(
                TraceSpan(
                    layer: .qemu, name: "QEMU initialises until its monitor's greeting", start: handshake.at,
                    end: greeting.at))
        }
    }
}
