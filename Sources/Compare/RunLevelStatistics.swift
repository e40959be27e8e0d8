import Foundation

// Statistics on one value per run (a run's median), the unit that varies
// from night to night. Samples within one run share that night's conditions
// and are not independent evidence about the next night; run medians are.
//
// Sources:
// - von Neumann, Kent, Bellinson & Hart, "The mean square successive
//   difference", Ann. Math. Statist. 12(2), 1941: the MSSD estimator of the
//   variance, which a shift in level barely moves.
// - Student's t distribution as in StudentT.swift.

/// The standard deviation of a series estimated from its successive
/// differences: `sqrt(Σ (x[i+1] - x[i])² / (2 (n - 1)))`.
///
/// Unlike the ordinary standard deviation, one step in the series' level
/// adds only one large difference, so a series that moved once still gives
/// an honest estimate of its night-to-night noise. For independent normal
/// values its efficiency is about two thirds of the sample variance's
/// (von Neumann et al. 1941), so it carries about `2 (n - 1) / 3` degrees of
/// freedom (``successiveDifferenceDegreesOfFreedom(count:)``).
///
/// - Returns: `nil` for fewer than two values or a non-finite value.
public func successiveDifferenceSpread(_ values: [Double]) -> Double? {
    guard values.count >= 2, values.allSatisfy(\.isFinite) else { return nil }
    var sum = 0.0
    for (a, b) in zip(values, values.dropFirst()) { sum += (b - a) * (b - a) }
    let spread = (sum / (2 * Double(values.count - 1))).squareRoot()
    return spread.isFinite ? spread : nil
}

/// The effective degrees of freedom of ``successiveDifferenceSpread(_:)``
/// from `count` values: `2 (count - 1) / 3`, at least 1.
public func successiveDifferenceDegreesOfFreedom(count: Int) -> Double {
    max(1, 2 * Double(count - 1) / 3)
}

/// The one-sided tail probability of the standard normal distribution,
/// `P(Z > z)`, from `erfc`.
public func normalUpperTail(_ z: Double) -> Double {
    0.5 * erfc(z / 2.0.squareRoot())
}

/// The `t` with `P(T > t) = upperTail` for Student's t with
/// `degreesOfFreedom`: `scipy.stats.t.isf(upperTail, df)`.
///
/// Found by bisection on ``studentTTwoSidedPValue(t:degreesOfFreedom:)``
/// (the two-sided p of `t` is twice the upper tail) to a relative precision
/// of 1e-10; the p-value is monotonic in `t`, so bisection converges.
///
/// - Returns: `nil` unless `0 < upperTail < 0.5` and `degreesOfFreedom` is
///   finite and positive, or when the quantile lies beyond 1e12.
public func studentTUpperQuantile(_ upperTail: Double, degreesOfFreedom: Double) -> Double? {
    guard upperTail > 0, upperTail < 0.5, degreesOfFreedom.isFinite, degreesOfFreedom > 0 else { return nil }
    func tail(_ t: Double) -> Double? {
        studentTTwoSidedPValue(t: t, degreesOfFreedom: degreesOfFreedom).map { $0 / 2 }
    }
    var low = 0.0
    var high = 1.0
    while let value = tail(high), value > upperTail {
        low = high
        high *= 2
        if high > 1e12 { return nil }
    }
    for _ in 0..<200 {
        let middle = (low + high) / 2
        guard let value = tail(middle) else { return nil }
        if value > upperTail { low = middle } else { high = middle }
        if high - low <= 1e-10 * high { break }
    }
    return (low + high) / 2
}

/// The standardized difference between the mean of `after` and the mean of
/// `before`, for values whose own standard deviation is `spread`:
/// `(mean(after) - mean(before)) / (spread · sqrt(1/|after| + 1/|before|))`.
///
/// It is a z-score of the level change when `spread` is known, and Student's
/// t when `spread` is estimated (compare it with
/// ``studentTUpperQuantile(_:degreesOfFreedom:)``).
///
/// - Returns: `nil` if either side is empty, a value is not finite, or
///   `spread` is not positive and finite.
public func levelChangeScore(before: [Double], after: [Double], spread: Double) -> (difference: Double, score: Double)?
{
    guard !before.isEmpty, !after.isEmpty, spread > 0, spread.isFinite,
        before.allSatisfy(\.isFinite), after.allSatisfy(\.isFinite)
    else { return nil }
    let difference = after.reduce(0, +) / Double(after.count) - before.reduce(0, +) / Double(before.count)
    let score = difference / (spread * (1 / Double(after.count) + 1 / Double(before.count)).squareRoot())
    return score.isFinite ? (difference, score) : nil
}
