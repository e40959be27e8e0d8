// Change points in a short series of nightly results (one value per night,
// for example the median boot time), found the way Apache Otava (formerly
// Hunter, DataStax) finds them: E-divisive means candidates, checked with
// Student's t-test.
//
// Sources:
// - Matteson & James, "A Nonparametric Approach for Multiple Change Point
//   Analysis of Multivariate Data", JASA 109(505), 2014
//   (https://arxiv.org/abs/1306.4933): the energy statistic and the
//   hierarchical (divisive) search.
// - Fleming et al., "Hunter: Using Change Point Detection to Hunt for
//   Performance Regressions", ICPE 2023 (https://arxiv.org/abs/2301.03034):
//   Student's t-test instead of the permutation test (deterministic and
//   fast), and "weak" change points found with a relaxed threshold and then
//   pruned with the strict one.
// - Apache Otava, `otava/analysis.py` (`compute_change_points`, `split`,
//   `merge`, `TTestSignificanceTester`), `otava/change_point_divisive/
//   calculator.py` and `docs/MATH.md` (https://github.com/apache/otava).

/// How ``changePoints(in:settings:)`` decides that a change is real.
public struct ChangePointSettings: Sendable, Codable, Equatable {
    /// A change point is reported only if Student's t-test between the
    /// segments on either side gives a p-value strictly below this. Otava's
    /// default, 0.001.
    public var maxPValue: Double
    /// A change point is reported only if `|relativeChange|` is at least
    /// this (0.05 for 5%). 0, the default, accepts any size, as in Otava.
    public var minimumMagnitude: Double
    /// No change point lies closer than this many points to either end of
    /// the series or to another change point; values below 1 count as 1.
    public var minimumSegment: Int

    public init(maxPValue: Double = 0.001, minimumMagnitude: Double = 0, minimumSegment: Int = 3) {
        self.maxPValue = maxPValue
        self.minimumMagnitude = minimumMagnitude
        self.minimumSegment = minimumSegment
    }
}

/// A point where the series' level changes.
public struct ChangePoint: Sendable, Codable, Equatable {
    /// The index of the first value of the new segment.
    public var index: Int
    /// Two-sided p-value of Student's t-test between the segment before
    /// (from the previous change point, or the start) and the segment after
    /// (up to the next change point, or the end).
    public var pValue: Double
    /// Mean of the segment before.
    public var meanBefore: Double
    /// Mean of the segment after.
    public var meanAfter: Double
    /// `(meanAfter - meanBefore) / meanBefore`: positive when the value grew
    /// (for times, a slowdown). `nil` when `meanBefore` is 0.
    public var relativeChange: Double?

    public init(
        index: Int, pValue: Double, meanBefore: Double, meanAfter: Double, relativeChange: Double?
    ) {
        self.index = index
        self.pValue = pValue
        self.meanBefore = meanBefore
        self.meanAfter = meanAfter
        self.relativeChange = relativeChange
    }
}

/// The change points of `series`, in ascending index order.
///
/// Deterministic (no random permutations): the same series and settings
/// always give the same change points. The two passes are Otava's
/// `compute_change_points`:
///
/// 1. **Split** (Otava's `split`, without its windows). Starting from the
///    whole series, each segment `[s, e)` is searched for the split `τ`
///    that, together with an end `κ` (`s < τ < κ <= e`), maximizes the
///    E-divisive energy statistic with `α = 1` (Matteson & James 2014, eq. 4;
///    Otava's `calculator.py`):
///    `Q = 2/(n+m) Σ|x_i - y_j| - 2m/((n+m)(n-1)) Σ_{i<k}|x_i - x_k| - 2n/((n+m)(m-1)) Σ_{j<k}|y_j - y_k|`
///    for `X = series[s..<τ]` (size `n`) and `Y = series[τ..<κ]` (size `m`),
///    a within-sample term being 0 for a sample of one. Both `n` and `m`, and
///    `e - τ`, must be at least ``ChangePointSettings/minimumSegment``. The
///    split is kept when Student's t-test between `series[s..<τ]` and
///    `series[τ..<e]` gives `p` below Otava's relaxed first-pass threshold
///    (`10 × maxPValue` when `maxPValue < 0.05`, `2 ×` when `< 0.5`, else
///    `maxPValue`), and both sides are searched in turn. Ties of `Q` go to
///    the smallest `τ`, then `κ` (numpy's `argmax` order). Otava's detector
///    instead tests, over all segments at once, only the candidate with the
///    largest `Q`, and stops at the first that is not significant; searching
///    every segment can only add weak points, which the merge then judges.
/// 2. **Merge** (Otava's `merge`). Each kept point is tested against its
///    neighbours: Student's t-test between the values since the previous
///    point and the values up to the next one. While some point has
///    `p >= maxPValue`, the one with the largest p is removed; then, while
///    some point has `|relativeChange| < minimumMagnitude`, the smallest
///    change is removed; the neighbours of a removed point are re-tested.
///    What remains is reported, with those final statistics.
///
/// Why Student's t-test (pooled variance), not Welch's: it is what Otava and
/// the Hunter paper use and validated ("works well even with tiny numbers of
/// points"), and on segments of three to five nights Welch's separate
/// variance estimates, each from a handful of points, are very noisy, while
/// the pooled estimate uses every point on both sides. Otava passes
/// `np.std` (divisor `n`) to `ttest_ind_from_stats`; this implementation uses
/// the sample variance (divisor `n - 1`), i.e. exactly
/// `scipy.stats.ttest_ind(before, after)` (see ``studentTTest(_:_:)``), which
/// gives slightly larger p-values on very short segments. Otava's magnitude
/// is `max(|after/before - 1|, |before/after - 1|)`; here it is
/// `|relativeChange|`, the forward change a regression verdict reports.
/// Otava also runs the split on overlapping windows of 50 points to bound
/// its cost; this implementation searches the whole series, which costs
/// O(n²) time and O(n) memory per level of splitting — milliseconds for a
/// year of nightly points.
///
/// - Returns: An empty array if `series` contains a non-finite value, is
///   shorter than `2 × minimumSegment`, or holds values so large that the
///   sums of distances could overflow (`4 n² max|x|` beyond `Double`'s range,
///   about 1.8e308). Differences beyond about 1e154 overflow the t-test's
///   squared deviations; such segments count as not significant.
public func changePoints(
    in series: [Double], settings: ChangePointSettings = .init()
) -> [ChangePoint] {
    guard series.allSatisfy(\.isFinite) else { return [] }
    let largest = series.reduce(0) { max($0, abs($1)) }
    guard (4 * Double(series.count) * Double(series.count) * largest).isFinite else { return [] }
    let minimumSegment = max(1, settings.minimumSegment)
    let maxPValue = settings.maxPValue
    let firstPassPValue =
        maxPValue < 0.05 ? maxPValue * 10 : (maxPValue < 0.5 ? maxPValue * 2 : maxPValue)

    // 1. Split.
    var candidates: [Int] = []
    var segments = [0..<series.count]
    while let segment = segments.popLast() {
        guard
            let split = bestEnergySplit(
                series, segment: segment, minimumSegment: minimumSegment),
            let test = studentTTest(
                Array(series[segment.lowerBound..<split]),
                Array(series[split..<segment.upperBound])),
            test.pValue < firstPassPValue
        else { continue }
        candidates.append(split)
        segments.append(segment.lowerBound..<split)
        segments.append(split..<segment.upperBound)
    }
    candidates.sort()

    // 2. Merge.
    func statistics(at position: Int) -> ChangePoint {
        let start = position > 0 ? candidates[position - 1] : 0
        let end = position + 1 < candidates.count ? candidates[position + 1] : series.count
        return changePointStatistics(series, index: candidates[position], segment: start..<end)
    }
    var points = candidates.indices.map(statistics(at:))
    while !points.isEmpty {
        var weakest = points.indices.max { points[$0].pValue < points[$1].pValue } ?? 0
        if points[weakest].pValue < maxPValue {
            weakest = points.indices.min { magnitude(points[$0]) < magnitude(points[$1]) } ?? 0
            if magnitude(points[weakest]) >= settings.minimumMagnitude { break }
        }
        candidates.remove(at: weakest)
        points.remove(at: weakest)
        if weakest < points.count { points[weakest] = statistics(at: weakest) }
        if weakest > 0 { points[weakest - 1] = statistics(at: weakest - 1) }
    }
    return points
}

// MARK: - Internal

/// `|relativeChange|`; when it is `nil` (`meanBefore` is 0, or the change
/// overflows), infinity if the means differ and 0 if they are equal.
private func magnitude(_ point: ChangePoint) -> Double {
    if let change = point.relativeChange { return abs(change) }
    return point.meanAfter == point.meanBefore ? 0 : .infinity
}

/// The t-test and means of `series[segment.lowerBound..<index]` against
/// `series[index..<segment.upperBound]`; a p-value of 1 when the test is
/// undefined (fewer than three values in all).
func changePointStatistics(_ series: [Double], index: Int, segment: Range<Int>) -> ChangePoint {
    let before = Array(series[segment.lowerBound..<index])
    let after = Array(series[index..<segment.upperBound])
    let meanBefore = MeanAndSquaredDeviations(before)?.mean ?? .nan
    let meanAfter = MeanAndSquaredDeviations(after)?.mean ?? .nan
    let relativeChange = meanBefore != 0 ? (meanAfter - meanBefore) / meanBefore : nil
    return ChangePoint(
        index: index, pValue: studentTTest(before, after)?.pValue ?? 1,
        meanBefore: meanBefore, meanAfter: meanAfter,
        relativeChange: relativeChange?.isFinite == true ? relativeChange : nil)
}

/// The `τ` of the pair `(τ, κ)` maximizing the E-divisive statistic `Q`
/// (α = 1) within `series[segment]`, with `τ - s`, `κ - τ` and `e - τ` all
/// at least `minimumSegment` (≥ 1); `nil` if the segment is too short.
///
/// O(L²) time and O(L) memory for a segment of length L. With
/// `W(a, b) = Σ_{a <= i < k < b} |x_i - x_k|`, the cross term is
/// `W(s, κ) - W(s, τ) - W(τ, κ)`. `W(s, ·)` is tabulated once; `W(τ, ·)` is
/// kept in one row updated in place as `τ` decreases, using
/// `W(τ, κ) = W(τ + 1, κ) + Σ_{τ < k < κ} |x_τ - x_k|`.
func bestEnergySplit(_ series: [Double], segment: Range<Int>, minimumSegment: Int) -> Int? {
    let (start, end) = (segment.lowerBound, segment.upperBound)
    let length = end - start
    guard minimumSegment >= 1, length >= 2 * minimumSegment else { return nil }
    return series.withUnsafeBufferPointer { x in
        // fromStart[b - start] = W(start, b).
        var fromStart = [Double](repeating: 0, count: length + 1)
        for b in (start + 1)...end {
            var column = 0.0
            for i in start..<(b - 1) { column += abs(x[i] - x[b - 1]) }
            fromStart[b - start] = fromStart[b - 1 - start] + column
        }
        // row[κ - start] = W(τ, κ) for the current τ.
        var row = [Double](repeating: 0, count: length + 1)
        var best: (q: Double, tau: Int, kappa: Int)?
        for tau in stride(from: end - 1, through: start + minimumSegment, by: -1) {
            if tau + 2 <= end {
                var rowSum = 0.0
                for kappa in (tau + 2)...end {
                    rowSum += abs(x[tau] - x[kappa - 1])
                    row[kappa - start] += rowSum
                }
            }
            guard tau <= end - minimumSegment else { continue }
            let n = Double(tau - start)
            let left = fromStart[tau - start]
            for kappa in (tau + minimumSegment)...end {
                let m = Double(kappa - tau)
                let right = row[kappa - start]
                let cross = fromStart[kappa - start] - left - right
                var q = 2 * cross / (n + m)
                if n > 1 { q -= 2 * m / ((n + m) * (n - 1)) * left }
                if m > 1 { q -= 2 * n / ((n + m) * (m - 1)) * right }
                // Keep the first maximum in (τ, κ) order; τ runs downwards.
                if let current = best {
                    let isEarlier =
                        tau < current.tau || (tau == current.tau && kappa < current.kappa)
                    guard q > current.q || (q == current.q && isEarlier) else { continue }
                }
                best = (q, tau, kappa)
            }
        }
        return best?.tau
    }
}
