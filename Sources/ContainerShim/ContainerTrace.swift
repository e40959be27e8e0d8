import Foundation
import MVMCore

/// Where a traced container start spent its time: mvm's preparation, the
/// runtime's `create` and `start` with the steps its debug log names
/// (runc's nsexec stages, its init), and the init's own steps.
struct ContainerTrace {
    /// The trace point noted as mvm runs the runtime's `create`.
    static let createPoint = "create"

    let runtime: String
    let boot: BootRecord
    let points: [String: Double]
    /// The runtime's debug log (JSON lines), timed on arrival.
    let runtimeLines: [TimedLine]

    /// A log line's message: `{"level":"debug","msg":"nsexec-0[26739]: spawn stage-1",...}`,
    /// without the pid, which differs every run.
    static func message(of line: String) -> String? {
        struct Entry: Decodable { var msg: String }
        guard let entry = try? JSONDecoder().decode(Entry.self, from: Data(line.utf8)) else { return nil }
        var message = entry.msg
        if let open = message.firstIndex(of: "["), let close = message[open...].firstIndex(of: "]"),
            message[message.index(after: open)..<close].allSatisfy(\.isNumber), message[..<open].hasPrefix("nsexec")
        {
            message.removeSubrange(open...close)
        }
        return message
    }

    func trace(console: [TimedLine]) -> BootTrace {
        let timeline = boot.timeline
        var trace = BootTrace(ready: timeline.offset(of: .ready)?.seconds ?? 0)
        let created = timeline.offset(of: .created)?.seconds ?? 0
        let started = timeline.offset(of: .started)?.seconds ?? created
        let createStart = min(points[Self.createPoint] ?? 0, created)
        trace.add(
            TraceSpan(layer: .mvm, name: "prepare: owner record, bundle, config.json", start: 0, end: createStart))
        let messages = runtimeLines.compactMap { line in Self.message(of: line.text).map { TimedLine($0, at: line.at) }
        }
        addCommand("create", from: createStart, to: created, messages: messages.filter { $0.at <= created }, to: &trace)
        addCommand("start", from: created, to: started, messages: messages.filter { $0.at > created }, to: &trace)
        ConsoleTrace.addGuest(console: console, guestStart: nil, initStart: started, to: &trace)
        return trace
    }

    /// A plain `runc run`: mvm's spawn, the runtime's steps until its last
    /// log line (it then execs the init), the init's steps.
    func traceOfRun(console: [TimedLine]) -> BootTrace {
        let timeline = boot.timeline
        var trace = BootTrace(ready: timeline.offset(of: .ready)?.seconds ?? 0)
        let spawned = timeline.offset(of: .spawned)?.seconds ?? 0
        trace.add(
            TraceSpan(layer: .mvm, name: "prepare: owner record, bundle, config.json; spawn", start: 0, end: spawned))
        // `runc run` stays the container's parent: what it logs once the
        // init runs is signal forwarding, not start-up.
        let messages = runtimeLines.compactMap { line in Self.message(of: line.text).map { TimedLine($0, at: line.at) }
        }
        .filter { $0.at <= trace.ready && !$0.text.hasPrefix("sending signal") && !$0.text.hasPrefix("process exited") }
        let lastLine = messages.last?.at ?? spawned
        addCommand("run", from: spawned, to: lastLine, messages: messages, to: &trace)
        ConsoleTrace.addGuest(console: console, guestStart: nil, initStart: lastLine, to: &trace)
        return trace
    }

    /// One runtime command as a span, its log lines as steps: each lasts
    /// from its line to the next (the messages announce what comes next:
    /// "spawn stage-1"), the first from the command's start.
    private func addCommand(
        _ command: String, from start: Double, to end: Double, messages: [TimedLine], to trace: inout BootTrace
    ) {
        let parent = trace.add(TraceSpan(layer: .runtime, name: "\(runtime) \(command)", start: start, end: end))
        guard !messages.isEmpty else { return }
        var steps = [(name: "\(runtime) \(command): until its first log line", at: start)]
        steps += messages.map { (name: $0.text, at: min(max($0.at, start), end)) }
        steps[steps.count - 1].name += " (then until \(runtime) \(command) exits)"
        trace.addAnnouncedSteps(steps, until: end, layer: .runtime, parent: parent)
    }
}
