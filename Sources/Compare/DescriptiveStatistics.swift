// Descriptive statistics of benchmark samples.
//
// Every public function returns `nil` for an empty array or one that contains
// NaN or ±infinity, so callers never get a silently meaningless number.

/// The threshold above which the absolute value of a sample's modified
/// Z-score (see ``modifiedZScores(_:)``) makes it an outlier: `1.4826 * 10`.
///
/// This is hyperfine's `OUTLIER_THRESHOLD` in `src/outlier_detection.rs`
/// (<https://github.com/sharkdp/hyperfine/blob/master/src/outlier_detection.rs>).
/// 1.4826 turns a MAD into an estimate of the standard deviation of normally
/// distributed data, so a sample is an outlier when it lies more than about
/// ten standard deviations from the median. Equivalently, in the
/// Iglewicz–Hoaglin form: `|0.6745 * (x - median) / MAD| > 10` (approximately,
/// since 0.6745 ≈ 1 / 1.4826); the check itself uses hyperfine's form exactly.
public let hyperfineOutlierThreshold: Double = 1.4826 * 10.0

/// The `p`-quantile of samples sorted in ascending order, by linear
/// interpolation between the closest ranks.
///
/// This is Hyndman & Fan's definition 7: R's `quantile(type = 7)` and numpy's
/// default `method="linear"` (`np.percentile(x, 100 * p)`). With `n` samples
/// `x[0] <= ... <= x[n-1]`, let `h = (n - 1) * p`, `i = floor(h)` and
/// `g = h - i`; the result is `x[i] + g * (x[i+1] - x[i])` (or `x[n-1]` when
/// `i == n - 1`). The interpolation is evaluated the way numpy does
/// (`x[i+1] - (x[i+1] - x[i]) * (1 - g)` when `g >= 0.5`), so results match
/// numpy to the last bit.
///
/// - Parameters:
///   - sortedSamples: Samples in ascending order.
///   - p: The quantile as a fraction in `0...1` (0.05 for the 5th percentile).
/// - Returns: `nil` if `sortedSamples` is empty, contains a non-finite value
///   or is not in ascending order, or if `p` is not in `0...1`.
public func percentile(_ sortedSamples: [Double], _ p: Double) -> Double? {
    guard p >= 0, p <= 1,  // both false for NaN
        isValidSample(sortedSamples),
        zip(sortedSamples, sortedSamples.dropFirst()).allSatisfy({ $0 <= $1 })
    else { return nil }
    return linearInterpolatedQuantile(ofSorted: sortedSamples, p)
}

/// The median: the middle sample in sorted order for an odd count, the mean
/// of the two middle samples for an even count (numpy's `np.median`).
///
/// - Parameter samples: Samples in any order.
/// - Returns: `nil` if `samples` is empty or contains a non-finite value.
public func median(_ samples: [Double]) -> Double? {
    guard isValidSample(samples) else { return nil }
    return medianOfSorted(samples.sorted())
}

/// The raw median absolute deviation, `median(|x - median(x)|)`.
///
/// Unscaled: it is *not* multiplied by 1.4826 (R's `mad()` default) to
/// estimate a normal standard deviation; numpy equivalent:
/// `np.median(np.abs(x - np.median(x)))`.
///
/// - Parameter samples: Samples in any order.
/// - Returns: `nil` if `samples` is empty or contains a non-finite value.
public func medianAbsoluteDeviation(_ samples: [Double]) -> Double? {
    guard isValidSample(samples) else { return nil }
    let sampleMedian = medianOfSorted(samples.sorted())
    return rawMedianAbsoluteDeviation(samples, median: sampleMedian)
}

/// Modified Z-scores as hyperfine defines them:
/// `(x - median) / MAD` for each sample, in input order, where MAD is the raw
/// (unscaled) ``medianAbsoluteDeviation(_:)``.
///
/// Note that, following hyperfine, the score is *not* multiplied by 0.6745;
/// the scaling lives in ``hyperfineOutlierThreshold`` (`1.4826 * 10`) instead.
/// When the MAD is 0 (more than half of the samples are equal), it is
/// replaced by `Double.ulpOfOne` (2.22e-16, Rust's `f64::EPSILON`), again as
/// hyperfine does: samples equal to the median score 0, any other sample gets
/// a huge score (possibly ±infinity) and counts as an outlier.
///
/// Source: `modified_zscores` in hyperfine's `src/outlier_detection.rs`
/// (<https://github.com/sharkdp/hyperfine/blob/master/src/outlier_detection.rs>).
///
/// - Parameter samples: Samples in any order.
/// - Returns: One score per sample, or `nil` if `samples` is empty or
///   contains a non-finite value.
public func modifiedZScores(_ samples: [Double]) -> [Double]? {
    guard isValidSample(samples) else { return nil }
    let sampleMedian = medianOfSorted(samples.sorted())
    return hyperfineModifiedZScores(samples, median: sampleMedian)
}

/// The number of samples whose modified Z-score (``modifiedZScores(_:)``)
/// has an absolute value strictly greater than ``hyperfineOutlierThreshold``
/// — hyperfine's `num_outliers`.
///
/// - Parameter samples: Samples in any order.
/// - Returns: `nil` if `samples` is empty or contains a non-finite value.
public func outlierCount(_ samples: [Double]) -> Int? {
    modifiedZScores(samples).map(countOutliers(modifiedZScores:))
}

// MARK: - Internal building blocks (inputs already validated)

/// True if `samples` is non-empty and every value is finite.
func isValidSample(_ samples: [Double]) -> Bool {
    !samples.isEmpty && samples.allSatisfy(\.isFinite)
}

/// ``percentile(_:_:)`` without validation. Requires a non-empty ascending
/// array and `p` in `0...1`.
func linearInterpolatedQuantile(ofSorted sorted: [Double], _ p: Double) -> Double {
    let lastIndex = sorted.count - 1
    let virtualIndex = Double(lastIndex) * p
    if virtualIndex >= Double(lastIndex) {
        return sorted[lastIndex]
    }
    let lowerIndex = Int(virtualIndex.rounded(.down))
    let fraction = virtualIndex - Double(lowerIndex)
    let below = sorted[lowerIndex]
    let above = sorted[lowerIndex + 1]
    let difference = above - below
    // numpy's `_lerp`: interpolate from the nearer end for accuracy.
    return fraction >= 0.5
        ? above - difference * (1 - fraction)
        : below + difference * fraction
}

/// The median of a non-empty ascending array. For an even count the two
/// middle values are halved before adding, which gives the same result as
/// numpy's `(a + b) / 2` but cannot overflow.
func medianOfSorted(_ sorted: [Double]) -> Double {
    let count = sorted.count
    if count % 2 == 1 {
        return sorted[count / 2]
    }
    return sorted[count / 2 - 1] / 2 + sorted[count / 2] / 2
}

func rawMedianAbsoluteDeviation(_ samples: [Double], median sampleMedian: Double) -> Double {
    medianOfSorted(samples.map { abs($0 - sampleMedian) }.sorted())
}

func hyperfineModifiedZScores(_ samples: [Double], median sampleMedian: Double) -> [Double] {
    let mad = rawMedianAbsoluteDeviation(samples, median: sampleMedian)
    let divisor = mad > 0 ? mad : Double.ulpOfOne
    return samples.map { ($0 - sampleMedian) / divisor }
}

func countOutliers(modifiedZScores scores: [Double]) -> Int {
    scores.reduce(0) { count, score in
        abs(score) > hyperfineOutlierThreshold ? count + 1 : count
    }
}
