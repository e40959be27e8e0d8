// How far one value lies from a reference sample, in robust units.

/// The robust z-score of `value` against `reference`:
/// `(value - median(reference)) / (1.4826 * max(MAD, madFloorFraction * |median(reference)|))`,
/// where MAD is the raw ``medianAbsoluteDeviation(_:)`` of `reference`.
///
/// `1.4826 * MAD` is R's `mad(reference)` (default `constant = 1.4826`), a
/// consistent estimator of the standard deviation of normal data, so the
/// score reads like a z-score but is not moved by outliers in the reference.
/// (scipy's `median_abs_deviation(x, scale="normal")` uses the exact constant
/// 1.482602218505602; the difference is below 2e-6 relative.)
///
/// The floor keeps a very stable reference from turning noise into a huge
/// score: when more than half of the reference values are equal the MAD is
/// 0, and with the default 0.01 the scale is never below 1% of the median.
///
/// - Parameters:
///   - value: The new measurement.
///   - reference: The measurements to compare against.
///   - madFloorFraction: The smallest MAD as a fraction of `|median|`; must
///     be finite and at least 0 (0 disables the floor).
/// - Returns: `nil` if `reference` is empty or contains a non-finite value,
///   if `value` is not finite, if `madFloorFraction` is negative or not
///   finite, if the floored scale is 0, or if the score overflows.
public func robustZ(
    _ value: Double, reference: [Double], madFloorFraction: Double = 0.01
) -> Double? {
    guard value.isFinite, isValidSample(reference),
        madFloorFraction.isFinite, madFloorFraction >= 0
    else { return nil }
    let referenceMedian = medianOfSorted(reference.sorted())
    let mad = rawMedianAbsoluteDeviation(reference, median: referenceMedian)
    let scale = 1.4826 * max(mad, madFloorFraction * abs(referenceMedian))
    guard scale > 0, scale.isFinite else { return nil }
    let score = (value - referenceMedian) / scale
    return score.isFinite ? score : nil
}
