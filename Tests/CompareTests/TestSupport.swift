/// True if `actual` is within `relativeTolerance` of `expected` (relative to
/// the larger magnitude). Used where numpy sums in a different order
/// (pairwise summation), so the last bit may differ.
func isClose(_ actual: Double, _ expected: Double, relativeTolerance: Double = 1e-12) -> Bool {
    abs(actual - expected) <= relativeTolerance * max(abs(actual), abs(expected))
}

/// Deterministic, roughly normal test data: `center + spread * (u1 + u2 + u3 + u4 - 2)`
/// with uniforms from Knuth's MMIX linear congruential generator. Independent
/// of the library's own generator on purpose.
func deterministicSamples(count: Int, center: Double, spread: Double, seed: UInt64) -> [Double] {
    var state = seed
    func nextUniform() -> Double {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(state >> 11) / Double(UInt64(1) << 53)
    }
    return (0..<count).map { _ in
        center + spread * (nextUniform() + nextUniform() + nextUniform() + nextUniform() - 2)
    }
}
