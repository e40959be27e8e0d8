import Foundation

/// The layer of the stack a traced step ran in, from the host down to the
/// workload.
public enum TraceLayer: String, Sendable, Codable, CaseIterable, Comparable {
    /// mvm's own work: owner records, bundles, the console, the waits.
    case mvm
    /// libvirt's domain start, inside `virDomainCreateXML`.
    case libvirt
    /// The QEMU process: its start-up until its monitor answers, and the
    /// guest's firmware before the kernel's clock runs.
    case qemu
    /// The guest kernel, from its console lines (`printk.time=1`).
    case kernel
    /// The workload's init: its mounts, probes and readiness line.
    case `init`
    /// The OCI runtime's own steps (`runc create`, `runc start`).
    case runtime

    public static func < (lhs: TraceLayer, rhs: TraceLayer) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }
}

/// One step of a start, on mvm's monotonic clock: seconds from the request.
public struct TraceSpan: Sendable, Codable, Hashable {
    public var layer: TraceLayer
    public var name: String
    public var start: Double
    public var end: Double
    /// The index of the enclosing span in the trace's `spans`.
    public var parent: Int?
    /// What else the source said of the step ("412 QMP commands").
    public var detail: String?

    public init(layer: TraceLayer, name: String, start: Double, end: Double, parent: Int? = nil, detail: String? = nil)
    {
        self.layer = layer
        self.name = name
        self.start = start
        self.end = max(start, end)
        self.parent = parent
        self.detail = detail
    }

    public var duration: Double { end - start }

    /// What identifies the step across runs: its layer and its name with
    /// the numbers taken out (a kernel line's addresses and sizes, a pid).
    public var key: String {
        // A number runs on through the letters and dots that follow its
        // first digit: "0x7fc2", "6.1.192", "4KB" each become one "#".
        var normalized = ""
        var inNumber = false
        for character in name {
            if character.isNumber || (inNumber && (character.isLetter || character == ".")) {
                if !inNumber { normalized.append("#") }
                inNumber = true
            } else {
                normalized.append(character)
                inNumber = false
            }
        }
        return layer.rawValue + ": " + normalized
    }
}

/// Where one start of an instance spent its time, layer by layer, all on
/// mvm's one monotonic clock from the request (offset 0) to readiness.
public struct BootTrace: Sendable, Codable, Hashable {
    public private(set) var spans: [TraceSpan]
    /// Seconds from the request to the readiness line.
    public var ready: Double
    /// What the trace could not see, and why ("libvirt's steps are in
    /// libvirtd's log on a daemon connection").
    public var notes: [String]

    public init(spans: [TraceSpan] = [], ready: Double, notes: [String] = []) {
        self.spans = spans
        self.ready = ready
        self.notes = notes
    }

    /// Adds a span; returns its index, to name it as a parent.
    @discardableResult
    public mutating func add(_ span: TraceSpan) -> Int {
        spans.append(span)
        return spans.count - 1
    }

    /// Adds `spans` under `parent`, keeping their own parents relative to
    /// the list (a parent index inside `spans` is moved along).
    public mutating func add(_ children: [TraceSpan], under parent: Int?) {
        let base = spans.count
        for var child in children {
            child.parent = child.parent.map { $0 + base } ?? parent
            spans.append(child)
        }
    }

    /// Steps that a log announces before it takes them ("Setting up domain
    /// cgroup", "spawn stage-1"), under `parent`: each lasts from its
    /// announcement to the next one, the last until `end`; a step of no
    /// length is left out. `detail` says what else a step did, given its
    /// index and its time.
    public mutating func addAnnouncedSteps(
        _ steps: [(name: String, at: Double)], until end: Double, layer: TraceLayer, parent: Int,
        detail: (_ index: Int, _ start: Double, _ end: Double) -> String? = { _, _, _ in nil }
    ) {
        for (index, step) in steps.enumerated() {
            let stepEnd = min(index + 1 < steps.count ? steps[index + 1].at : end, end)
            guard stepEnd > step.at else { continue }
            add(
                TraceSpan(
                    layer: layer, name: String(step.name.prefix(120)), start: step.at, end: stepEnd, parent: parent,
                    detail: detail(index, step.at, stepEnd)))
        }
    }

    /// Spans no other span names as its parent: the finest steps.
    public var leaves: [TraceSpan] {
        let parents = Set(spans.compactMap(\.parent))
        return spans.indices.filter { !parents.contains($0) }.map { spans[$0] }
    }

    /// The stretches of [0, ready] that no leaf covers, longest first.
    public var unexplainedGaps: [(start: Double, end: Double)] {
        var gaps: [(start: Double, end: Double)] = []
        var covered = 0.0
        for leaf in leaves.sorted(by: { $0.start < $1.start }) where leaf.end > covered {
            let start = max(0, leaf.start)
            if start > covered, start <= ready { gaps.append((covered, min(start, ready))) }
            covered = max(covered, leaf.end)
        }
        if covered < ready { gaps.append((covered, ready)) }
        return gaps.sorted { $0.end - $0.start > $1.end - $1.start }
    }

    /// The share of the time to ready that leaves cover (0...1).
    public var coverage: Double {
        guard ready > 0 else { return 1 }
        let unexplained = unexplainedGaps.reduce(0) { $0 + ($1.end - $1.start) }
        return max(0, 1 - unexplained / ready)
    }

    /// The longest leaves, each with its share of the time to ready.
    public func topSteps(_ count: Int) -> [(span: TraceSpan, share: Double)] {
        leaves.sorted { $0.duration > $1.duration }.prefix(count).map {
            ($0, ready > 0 ? $0.duration / ready : 0)
        }
    }

    /// Seconds of leaves per layer (overlapping leaves of one layer count
    /// once each: a layer's own steps do not overlap).
    public var secondsByLayer: [TraceLayer: Double] {
        leaves.reduce(into: [:]) { $0[$1.layer, default: 0] += $1.duration }
    }
}

/// A boot trace made of mvm's own phases only: what any contender has,
/// when its runtime offers nothing finer.
extension BootTrace {
    public init(phasesOf timeline: BootTimeline, note: String? = nil) {
        let marks = timeline.marks
        self.init(ready: timeline.offset(of: .ready)?.seconds ?? marks.last?.offset.seconds ?? 0)
        for (from, to) in zip(marks, marks.dropFirst()) {
            add(
                TraceSpan(
                    layer: .mvm, name: "\(from.phase) → \(to.phase)", start: from.offset.seconds,
                    end: to.offset.seconds))
        }
        if let note { notes.append(note) }
    }
}
