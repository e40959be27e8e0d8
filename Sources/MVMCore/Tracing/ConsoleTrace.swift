import Foundation

/// A console or stdout line and when it arrived, in seconds from the request.
public struct TimedLine: Sendable, Hashable, Codable {
    public var text: String
    public var at: Double

    public init(_ text: String, at: Double) {
        self.text = text
        self.at = at
    }
}

/// The guest's own layers of a trace, read from its console: the kernel's
/// lines (`printk.time=1`), each kernel timestamp placed on mvm's clock by
/// when its line arrived, and the init's `mvm-trace` marks.
package enum ConsoleTrace {
    /// What mvm's init prints after each of its steps when `mvm_trace=1`:
    /// `mvm-trace <what it just did>`.
    package static let markPrefix = "mvm-trace "

    /// A kernel console line: "[    0.301234] smpboot: CPU0: ...".
    package struct KernelLine: Equatable {
        package var timestamp: Double
        package var message: String
        package var arrival: Double
    }

    package static func kernelLine(_ line: TimedLine) -> KernelLine? {
        guard let (timestamp, range) = timestamp(in: line.text) else { return nil }
        let message = line.text[range.upperBound...].trimmingCharacters(in: .whitespaces)
        return KernelLine(timestamp: timestamp, message: message, arrival: line.at)
    }

    /// The first printk timestamp in `text` ("[%5lu.%06lu]") and where it
    /// is. Anywhere in the line: the kernel writes its console lines
    /// straight to the UART while the init's output drains through the
    /// tty layer, so a kernel line can start in the middle of one of the
    /// init's.
    static func timestamp(in text: String) -> (Double, Range<String.Index>)? {
        var searchStart = text.startIndex
        while let open = text[searchStart...].firstIndex(of: "[") {
            guard let close = text[open...].firstIndex(of: "]") else { return nil }
            let inside = text[text.index(after: open)..<close].drop { $0 == " " }
            let parts = inside.split(separator: ".", omittingEmptySubsequences: false)
            if parts.count == 2, !parts[0].isEmpty, parts[1].count == 6,
                parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
                let value = Double(inside), value.isFinite
            {
                return (value, open..<text.index(after: close))
            }
            searchStart = text.index(after: open)
        }
        return nil
    }

    /// Where the kernel's time 0 lies on mvm's clock: a line arrives no
    /// sooner than it was printed, so the smallest difference between
    /// arrival and timestamp is the closest bound (lines printed before the
    /// console was registered arrive late, in one burst, and do not set it).
    package static func kernelZero(_ lines: [KernelLine]) -> Double? {
        lines.map { $0.arrival - $0.timestamp }.min()
    }

    /// The kernel's line that hands over to user space ("Run /init as init
    /// process"). Only its start is required: the init's first write to
    /// the console can land in the middle of it.
    static func isInitHandover(_ message: String) -> Bool {
        message.hasPrefix("Run /")
    }

    /// Adds the guest's layers to `trace`: QEMU's time before the kernel's
    /// clock starts (from `guestStart`, when the vCPUs were let run), the
    /// kernel's steps, each gap named by the line that ends it, and the
    /// init's steps up to the readiness line at `trace.ready`.
    /// `initStart` is used when the console shows no kernel (a container).
    package static func addGuest(
        console: [TimedLine], guestStart: Double?, initStart: Double, to trace: inout BootTrace,
        beforeKernel: String = "firmware and the kernel's entry, before the kernel's clock starts"
    ) {
        var kernel: [KernelLine] = []
        for line in console {
            guard let parsed = kernelLine(line) else { continue }
            kernel.append(parsed)
            if isInitHandover(parsed.message) { break }
        }
        var userSpaceStart = initStart
        if let zero = kernelZero(kernel), let last = kernel.last {
            if let guestStart, zero > guestStart {
                trace.add(
                    TraceSpan(
                        layer: .qemu, name: beforeKernel, start: guestStart, end: zero))
            }
            let parent = trace.add(
                TraceSpan(layer: .kernel, name: "kernel boot", start: zero, end: zero + last.timestamp))
            var previous = 0.0
            for line in kernel where line.timestamp > previous {
                trace.add(
                    TraceSpan(
                        layer: .kernel, name: String(line.message.prefix(120)), start: zero + previous,
                        end: zero + line.timestamp, parent: parent))
                previous = line.timestamp
            }
            userSpaceStart = zero + last.timestamp
            if !isInitHandover(last.message) {
                trace.notes.append("the kernel's console showed no hand-over to init; its last line ends its span")
            }
        } else if guestStart != nil {
            trace.notes.append(
                "the console showed no kernel timestamps (printk.time): the kernel's boot is one step")
            if let first = console.first {
                trace.add(
                    TraceSpan(
                        layer: .kernel, name: "guest boot until its first console line", start: guestStart ?? 0,
                        end: first.at))
                userSpaceStart = first.at
            }
        }
        addInit(console: console, start: userSpaceStart, to: &trace)
    }

    /// The init's steps: from `start` to each `mvm-trace` mark, then to the
    /// readiness line. Without marks (an init not mvm's) it is one step.
    static func addInit(console: [TimedLine], start: Double, to trace: inout BootTrace) {
        let parent = trace.add(TraceSpan(layer: .`init`, name: "init", start: start, end: trace.ready))
        var previous = start
        for line in console {
            guard let range = line.text.firstRange(of: markPrefix), line.at >= previous else { continue }
            var name = line.text[range.upperBound...].trimmingCharacters(in: .whitespaces)
            // A kernel line that landed inside the mark is not its name.
            if let (_, kernel) = timestamp(in: name) { name = String(name[..<kernel.lowerBound]) }
            guard !name.isEmpty else { continue }
            trace.add(
                TraceSpan(layer: .`init`, name: String(name.prefix(120)), start: previous, end: line.at, parent: parent)
            )
            previous = line.at
        }
        if previous > start {
            trace.add(
                TraceSpan(
                    layer: .`init`, name: "print the readiness line", start: previous, end: trace.ready, parent: parent)
            )
        }
    }
}
