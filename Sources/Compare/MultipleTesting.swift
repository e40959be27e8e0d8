// False discovery rate control across the many metrics a nightly run checks.

/// Benjamini-Hochberg step-up adjusted p-values ("q-values"), in input order.
///
/// With the `m` valid p-values sorted ascending, `p_(1) <= ... <= p_(m)`,
/// `adjusted_(i) = min over k >= i of min(1, (m / k) * p_(k))`. This is R's
/// `p.adjust(p, method = "BH")` — computed in the same order, `m / k` first,
/// so results match R bit for bit — and equals statsmodels'
/// `multipletests(p, method="fdr_bh")[1]` and scipy's
/// `scipy.stats.false_discovery_control(p)` up to the last bit.
/// Source: Benjamini & Hochberg, "Controlling the False Discovery Rate",
/// J. R. Stat. Soc. B 57(1), 1995; R's `src/library/stats/R/p.adjust.R`.
///
/// Entries that are not p-values (NaN, ±infinity, or outside `0...1`) are
/// treated as R treats `NA`: they are left out of `m` and come back as NaN.
///
/// - Parameter pValues: Unadjusted p-values, any order.
/// - Returns: One adjusted p-value per input, in input order; empty for an
///   empty input.
public func benjaminiHochbergAdjusted(_ pValues: [Double]) -> [Double] {
    var adjusted = Array(repeating: Double.nan, count: pValues.count)
    // Valid entries by descending p; ties keep input order (the order does
    // not change the result, since tied p-values get the same adjustment).
    let order = pValues.indices
        .filter { pValues[$0] >= 0 && pValues[$0] <= 1 }  // false for NaN
        .sorted { pValues[$0] > pValues[$1] || (pValues[$0] == pValues[$1] && $0 < $1) }
    let count = Double(order.count)
    var runningMinimum = 1.0
    for (offset, index) in order.enumerated() {
        let rank = Double(order.count - offset)  // 1-based ascending rank
        runningMinimum = min(runningMinimum, count / rank * pValues[index])
        adjusted[index] = runningMinimum
    }
    return adjusted
}

/// Which hypotheses the Benjamini-Hochberg procedure rejects at false
/// discovery rate `q`: those whose ``benjaminiHochbergAdjusted(_:)`` p-value
/// is at most `q`. Equivalently (Benjamini & Hochberg 1995), with `k` the
/// largest `i` such that `p_(i) <= (i / m) q`, the hypotheses `p_(1)...p_(k)`.
/// statsmodels: `multipletests(p, alpha=q, method="fdr_bh")[0]`.
///
/// - Returns: One flag per input, in input order; false for entries that
///   are not p-values, and all false if `q` is NaN.
public func benjaminiHochbergRejections(_ pValues: [Double], q: Double) -> [Bool] {
    benjaminiHochbergAdjusted(pValues).map { $0 <= q }  // false for NaN
}
