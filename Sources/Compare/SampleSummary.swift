/// Descriptive statistics of one set of benchmark samples (for example the
/// boot times of 100 runs), plus a bootstrap confidence interval of the
/// median.
///
/// Definitions (numpy equivalents in parentheses, for `x = np.array(samples)`):
/// - `mean`: arithmetic mean (`np.mean(x)`).
/// - `standardDeviation`: sample standard deviation with Bessel's correction,
///   `sqrt(sum((x - mean)^2) / (n - 1))` (`np.std(x, ddof=1)`); 0 when
///   `count == 1`.
/// - `median`: see ``median(_:)`` (`np.median(x)`).
/// - `p5`, `p95`: 5th and 95th percentiles by linear interpolation between
///   closest ranks, see ``percentile(_:_:)`` (`np.percentile(x, 5)`, R type 7).
/// - `medianAbsoluteDeviation`: raw, unscaled `median(|x - median|)`
///   (`np.median(np.abs(x - np.median(x)))`), *not* multiplied by 1.4826.
/// - `outliers`: samples flagged by hyperfine's rule, see ``outlierCount(_:)``.
/// - `medianConfidenceInterval`: percentile bootstrap of the median, see
///   ``BootstrapSettings``.
public struct SampleSummary: Sendable, Codable, Equatable {
    public var count: Int
    public var mean: Double
    /// Sample standard deviation (divisor `n - 1`); 0 when `count == 1`.
    public var standardDeviation: Double
    public var median: Double
    public var minimum: Double
    public var maximum: Double
    /// 5th percentile, linear interpolation (numpy default, R type 7).
    public var p5: Double
    /// 95th percentile, linear interpolation (numpy default, R type 7).
    public var p95: Double
    /// Raw median absolute deviation `median(|x - median|)`, unscaled.
    public var medianAbsoluteDeviation: Double
    /// Number of samples with `|(x - median) / MAD| > 1.4826 * 10` (hyperfine).
    public var outliers: Int
    /// Percentile-bootstrap confidence interval of the median.
    public var medianConfidenceInterval: ConfidenceInterval

    /// - Returns: `nil` if `samples` is empty or contains NaN or ±infinity,
    ///   or if the values are so large that the mean or standard deviation
    ///   overflows.
    public init?(samples: [Double], bootstrap: BootstrapSettings = .default) {
        guard isValidSample(samples) else { return nil }
        let count = samples.count
        let mean = samples.reduce(0, +) / Double(count)
        let standardDeviation: Double
        if count > 1 {
            let sumOfSquaredDeviations = samples.reduce(0) { sum, sample in
                let deviation = sample - mean
                return sum + deviation * deviation
            }
            standardDeviation = (sumOfSquaredDeviations / Double(count - 1)).squareRoot()
        } else {
            standardDeviation = 0
        }
        guard mean.isFinite, standardDeviation.isFinite else { return nil }

        let sorted = samples.sorted()
        let sampleMedian = medianOfSorted(sorted)
        self.count = count
        self.mean = mean
        self.standardDeviation = standardDeviation
        self.median = sampleMedian
        self.minimum = sorted[0]
        self.maximum = sorted[count - 1]
        self.p5 = linearInterpolatedQuantile(ofSorted: sorted, 0.05)
        self.p95 = linearInterpolatedQuantile(ofSorted: sorted, 0.95)
        self.medianAbsoluteDeviation = rawMedianAbsoluteDeviation(samples, median: sampleMedian)
        self.outliers = countOutliers(
            modifiedZScores: hyperfineModifiedZScores(samples, median: sampleMedian))
        self.medianConfidenceInterval = bootstrapMedianInterval(
            ofSorted: sorted, settings: bootstrap)
    }
}
