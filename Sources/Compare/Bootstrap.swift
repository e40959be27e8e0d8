// Seeded percentile-bootstrap confidence intervals for medians and ratios of
// medians.

/// A two-sided confidence interval `[lower, upper]` at confidence `level`
/// (0.95 for a 95% interval).
public struct ConfidenceInterval: Sendable, Codable, Equatable {
    public var lower: Double
    public var upper: Double
    /// The confidence level as a fraction in `(0, 1)`, e.g. 0.95.
    public var level: Double

    public init(lower: Double, upper: Double, level: Double) {
        self.lower = lower
        self.upper = upper
        self.level = level
    }

    /// True if `lower <= value <= upper`.
    public func contains(_ value: Double) -> Bool {
        lower <= value && value <= upper
    }
}

/// How a percentile-bootstrap confidence interval is computed.
///
/// Each of `resamples` rounds draws `n` samples with replacement from the `n`
/// observed samples and computes the statistic (the median, or a ratio of
/// medians) of that resample. The interval is the `(1 - level) / 2` and
/// `1 - (1 - level) / 2` quantiles of those statistics, with the same linear
/// interpolation as ``percentile(_:_:)`` (numpy "linear", R type 7).
///
/// Resampling is deterministic: the random stream is xoshiro256** seeded
/// through SplitMix64 from `seed`, and indices are drawn with Lemire's
/// unbiased multiply-and-reject method, so the same samples, settings and
/// seed always give the same interval. Record the settings next to results.
///
/// Values are validated on creation (and when decoding), so every
/// `BootstrapSettings` value is usable.
public struct BootstrapSettings: Sendable, Codable, Equatable {
    /// Number of bootstrap resamples; at least 1.
    public let resamples: Int
    /// Seed of the pseudo-random generator.
    public let seed: UInt64
    /// Confidence level, strictly between 0 and 1.
    public let level: Double

    /// 10,000 resamples, seed ``defaultSeed``, 95% confidence.
    public static let `default` = BootstrapSettings(
        validatedResamples: 10_000, seed: defaultSeed, level: 0.95)

    /// The default seed, 0x6D766D (ASCII "mvm"); small enough to survive
    /// JSON readers that parse numbers as doubles.
    public static let defaultSeed: UInt64 = 0x6D_766D

    /// - Returns: `nil` if `resamples < 1` or `level` is not strictly
    ///   between 0 and 1.
    public init?(resamples: Int = 10_000, seed: UInt64 = defaultSeed, level: Double = 0.95) {
        guard Self.areValid(resamples: resamples, level: level) else { return nil }
        self.init(validatedResamples: resamples, seed: seed, level: level)
    }

    private init(validatedResamples resamples: Int, seed: UInt64, level: Double) {
        self.resamples = resamples
        self.seed = seed
        self.level = level
    }

    private static func areValid(resamples: Int, level: Double) -> Bool {
        resamples >= 1 && level > 0 && level < 1  // level comparisons are false for NaN
    }

    private enum CodingKeys: String, CodingKey {
        case resamples, seed, level
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let resamples = try container.decode(Int.self, forKey: .resamples)
        let seed = try container.decode(UInt64.self, forKey: .seed)
        let level = try container.decode(Double.self, forKey: .level)
        guard Self.areValid(resamples: resamples, level: level) else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: decoder.codingPath,
                    debugDescription:
                        "BootstrapSettings needs resamples >= 1 and 0 < level < 1; got resamples \(resamples), level \(level)"
                ))
        }
        self.init(validatedResamples: resamples, seed: seed, level: level)
    }
}

/// The ratio of medians `median(numerator) / median(denominator)` with a
/// percentile-bootstrap confidence interval (see ``BootstrapSettings``).
///
/// Each bootstrap round resamples the numerator and the denominator
/// independently (each with replacement, keeping its own size) and takes the
/// ratio of the two resampled medians. Use it for "micro-VM boot is 55× the
/// container boot [52×, 58×]".
public struct MedianRatio: Sendable, Codable, Equatable {
    /// `median(numerator) / median(denominator)`.
    public var ratio: Double
    /// Percentile-bootstrap interval of the ratio.
    public var interval: ConfidenceInterval

    /// - Returns: `nil` if either array is empty or contains a non-finite
    ///   value, if the denominator samples are not all strictly positive or
    ///   all strictly negative (this guarantees that neither the observed nor
    ///   any resampled denominator median is 0), or if the ratio or an
    ///   interval bound overflows to infinity.
    public init?(
        numerator: [Double], denominator: [Double], bootstrap: BootstrapSettings = .default
    ) {
        guard isValidSample(numerator), isValidSample(denominator),
            denominator.allSatisfy({ $0 > 0 }) || denominator.allSatisfy({ $0 < 0 })
        else { return nil }
        let sortedNumerator = numerator.sorted()
        let sortedDenominator = denominator.sorted()
        let ratio = medianOfSorted(sortedNumerator) / medianOfSorted(sortedDenominator)

        var generator = Xoshiro256StarStar(seed: bootstrap.seed)
        var numeratorResampler = MedianResampler(sortedSamples: sortedNumerator)
        var denominatorResampler = MedianResampler(sortedSamples: sortedDenominator)
        var ratios: [Double] = []
        ratios.reserveCapacity(bootstrap.resamples)
        for _ in 0..<bootstrap.resamples {
            let numeratorMedian = numeratorResampler.nextMedian(using: &generator)
            let denominatorMedian = denominatorResampler.nextMedian(using: &generator)
            ratios.append(numeratorMedian / denominatorMedian)
        }
        let interval = percentileInterval(of: &ratios, level: bootstrap.level)
        guard ratio.isFinite, interval.lower.isFinite, interval.upper.isFinite else {
            return nil
        }
        self.ratio = ratio
        self.interval = interval
    }
}

// MARK: - Internal

/// Percentile-bootstrap interval of the median of a non-empty, finite,
/// ascending sample.
func bootstrapMedianInterval(
    ofSorted sortedSamples: [Double], settings: BootstrapSettings
) -> ConfidenceInterval {
    var generator = Xoshiro256StarStar(seed: settings.seed)
    var resampler = MedianResampler(sortedSamples: sortedSamples)
    var medians: [Double] = []
    medians.reserveCapacity(settings.resamples)
    for _ in 0..<settings.resamples {
        medians.append(resampler.nextMedian(using: &generator))
    }
    return percentileInterval(of: &medians, level: settings.level)
}

/// Sorts `statistics` (non-empty) in place and returns its `(1 - level) / 2`
/// and `1 - (1 - level) / 2` linear-interpolation quantiles.
func percentileInterval(of statistics: inout [Double], level: Double) -> ConfidenceInterval {
    statistics.sort()
    let tail = (1 - level) / 2
    return ConfidenceInterval(
        lower: linearInterpolatedQuantile(ofSorted: statistics, tail),
        upper: linearInterpolatedQuantile(ofSorted: statistics, 1 - tail),
        level: level)
}

/// Draws bootstrap resamples of a sorted sample and returns their medians
/// without sorting each resample.
///
/// A resample with replacement is fully described by how many times it
/// draws each original sample. Because the original samples are sorted, the
/// resample's k-th smallest value is the first original sample at which the
/// running total of those multiplicities exceeds k. That makes each median
/// O(n) instead of O(n log n). The median definition is that of
/// ``median(_:)``.
struct MedianResampler {
    private let sortedSamples: [Double]
    private var multiplicities: [Int]
    /// 0-based ranks of the middle element(s); equal for an odd count.
    private let lowerMiddleRank: Int
    private let upperMiddleRank: Int

    /// `sortedSamples` must be non-empty and ascending.
    init(sortedSamples: [Double]) {
        self.sortedSamples = sortedSamples
        multiplicities = Array(repeating: 0, count: sortedSamples.count)
        lowerMiddleRank = (sortedSamples.count - 1) / 2
        upperMiddleRank = sortedSamples.count / 2
    }

    mutating func nextMedian(using generator: inout Xoshiro256StarStar) -> Double {
        let count = sortedSamples.count
        let bound = UInt64(count)
        let (lowerRank, upperRank) = (lowerMiddleRank, upperMiddleRank)
        return multiplicities.withUnsafeMutableBufferPointer { multiplicities in
            multiplicities.update(repeating: 0)
            for _ in 0..<count {
                multiplicities[Int(generator.next(below: bound))] += 1
            }
            // The multiplicities add up to `count` > upperRank >= lowerRank,
            // so both walks stop inside the array.
            var index = 0
            var drawnUpToIndex = multiplicities[0]
            while drawnUpToIndex <= lowerRank {
                index += 1
                drawnUpToIndex += multiplicities[index]
            }
            let lowerMiddle = sortedSamples[index]
            while drawnUpToIndex <= upperRank {
                index += 1
                drawnUpToIndex += multiplicities[index]
            }
            let upperMiddle = sortedSamples[index]
            return lowerRank == upperRank ? lowerMiddle : lowerMiddle / 2 + upperMiddle / 2
        }
    }
}
