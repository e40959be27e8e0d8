/// How one step's time changed between two traces of the same contender.
public struct TraceStepChange: Sendable, Codable, Equatable {
    public var layer: TraceLayer
    public var name: String
    /// Seconds in the baseline's trace; nil: the step is new.
    public var baseline: Double?
    /// Seconds in this trace; nil: the step is gone.
    public var current: Double?

    public var delta: Double { (current ?? 0) - (baseline ?? 0) }

    /// "kernel "smpboot: CPU0: …" 236 → 12 ms", "libvirt Waiting for monitor … +40 ms (new)".
    public var description: String {
        let shown = layer == .kernel ? "gap before \"\(name.prefix(60))\"" : String(name.prefix(70))
        func ms(_ seconds: Double) -> String { formatDecimal(seconds * 1000, places: seconds < 0.01 ? 1 : 0) }
        switch (baseline, current) {
        case (let before?, let after?): return "\(layer.rawValue) \(shown) \(ms(before)) → \(ms(after)) ms"
        case (nil, let after?): return "\(layer.rawValue) \(shown) +\(ms(after)) ms (not in the baseline)"
        case (let before?, nil): return "\(layer.rawValue) \(shown) −\(ms(before)) ms (gone)"
        case (nil, nil): return "\(layer.rawValue) \(shown)"
        }
    }
}

/// The step-by-step difference between a baseline's trace and this one:
/// which layer and which step the time moved to.
public struct TraceDifference: Sendable, Codable, Equatable {
    /// Every step of either trace, the largest change first.
    public var steps: [TraceStepChange]
    /// Seconds per layer, baseline and this trace.
    public var layers: [LayerChange]
    /// Time to ready, baseline and this trace.
    public var baselineReady: Double
    public var currentReady: Double

    public struct LayerChange: Sendable, Codable, Equatable {
        public var layer: TraceLayer
        public var baseline: Double
        public var current: Double
        public var delta: Double { current - baseline }
    }

    /// Matches the finest steps of both traces by layer and name (numbers
    /// in a name do not count: a kernel line's sizes and addresses, a pid).
    /// A name that occurs several times is summed.
    public init(baseline: BootTrace, current: BootTrace) {
        func byKey(_ trace: BootTrace) -> [String: (span: TraceSpan, seconds: Double)] {
            trace.leaves.reduce(into: [:]) { steps, span in
                steps[span.key, default: (span, 0)].seconds += span.duration
            }
        }
        let before = byKey(baseline)
        let after = byKey(current)
        steps = Set(before.keys).union(after.keys).map { key in
            let span = after[key]?.span ?? before[key]?.span
            return TraceStepChange(
                layer: span?.layer ?? .mvm, name: span?.name ?? key, baseline: before[key]?.seconds,
                current: after[key]?.seconds)
        }.sorted { abs($0.delta) != abs($1.delta) ? abs($0.delta) > abs($1.delta) : $0.name < $1.name }
        let beforeLayers = baseline.secondsByLayer
        let afterLayers = current.secondsByLayer
        layers = TraceLayer.allCases.filter { beforeLayers[$0] != nil || afterLayers[$0] != nil }.map {
            LayerChange(layer: $0, baseline: beforeLayers[$0] ?? 0, current: afterLayers[$0] ?? 0)
        }
        baselineReady = baseline.ready
        currentReady = current.ready
    }

    /// The layer whose time changed most.
    public var largestLayerChange: LayerChange? {
        layers.max { abs($0.delta) < abs($1.delta) }
    }

    /// The largest changes, in one line: "libvirt Verifying and updating
    /// provided guest CPU 150 → 310 ms; kernel gap before "smpboot: CPU0" 227 → 12 ms".
    public func summary(steps count: Int = 3) -> String {
        steps.prefix(count).map(\.description).joined(separator: "; ")
    }
}
