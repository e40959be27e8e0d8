import Compare
import Foundation
import Testing

// Expected values come from numpy 2.4.6 (python3), with x = np.array(samples):
//   mean    np.mean(x)                  std  np.std(x, ddof=1)
//   median  np.median(x)                min/max  np.min(x) / np.max(x)
//   p5/p95  np.percentile(x, 5) / np.percentile(x, 95)   (default method="linear")
//   MAD     np.median(np.abs(x - np.median(x)))
//   scores  (x - np.median(x)) / MAD
//   outliers  np.sum(np.abs(scores) > 1.4826 * 10.0)
// printed with repr(float(...)) and pasted verbatim.

struct KnownAnswer: Sendable, CustomTestStringConvertible {
    var name: String
    var samples: [Double]
    var mean: Double
    var standardDeviation: Double
    var median: Double
    var minimum: Double
    var maximum: Double
    var p5: Double
    var p95: Double
    var medianAbsoluteDeviation: Double
    var outliers: Int

    var testDescription: String { name }
}

let knownAnswers: [KnownAnswer] = [
    KnownAnswer(
        name: "odd count (7)",
        samples: [12.5, 10.1, 11.3, 9.8, 10.7, 13.2, 10.4],
        mean: 11.142857142857144, standardDeviation: 1.2739141034061685,
        median: 10.7, minimum: 9.8, maximum: 13.2,
        p5: 9.89, p95: 12.989999999999998,
        medianAbsoluteDeviation: 0.6000000000000014, outliers: 0),
    KnownAnswer(
        name: "even count (10) with duplicates",
        samples: [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0],
        mean: 3.9, standardDeviation: 2.4698178070456938,
        median: 3.5, minimum: 1.0, maximum: 9.0,
        p5: 1.0, p95: 7.649999999999997,
        medianAbsoluteDeviation: 1.5, outliers: 0),
    KnownAnswer(
        name: "single sample",
        samples: [42.0],
        mean: 42.0, standardDeviation: 0,  // numpy gives nan for ddof=1, n=1; we define 0
        median: 42.0, minimum: 42.0, maximum: 42.0,
        p5: 42.0, p95: 42.0,
        medianAbsoluteDeviation: 0.0, outliers: 0),
    KnownAnswer(
        name: "obvious outlier (250 among ~100)",
        samples: [101.2, 99.8, 100.5, 100.1, 98.9, 100.7, 99.5, 250.0, 100.3, 99.9],
        mean: 115.09, standardDeviation: 47.40687831012617,
        median: 100.19999999999999, minimum: 98.9, maximum: 250.0,
        p5: 99.17, p95: 183.03999999999985,
        medianAbsoluteDeviation: 0.45000000000000284, outliers: 1),
    KnownAnswer(
        name: "two samples",
        samples: [1000.0, 0.0],
        mean: 500.0, standardDeviation: 707.1067811865476,
        median: 500.0, minimum: 0.0, maximum: 1000.0,
        p5: 50.0, p95: 950.0,
        medianAbsoluteDeviation: 500.0, outliers: 0),
]

@Suite("Descriptive statistics match numpy")
struct DescriptiveStatisticsTests {
    @Test(arguments: knownAnswers)
    func summaryMatchesNumpy(_ expected: KnownAnswer) throws {
        let summary = try #require(SampleSummary(samples: expected.samples))
        #expect(summary.count == expected.samples.count)
        #expect(isClose(summary.mean, expected.mean))
        #expect(isClose(summary.standardDeviation, expected.standardDeviation))
        // Order statistics are computed exactly as numpy does: compare bits.
        #expect(summary.median == expected.median)
        #expect(summary.minimum == expected.minimum)
        #expect(summary.maximum == expected.maximum)
        #expect(summary.p5 == expected.p5)
        #expect(summary.p95 == expected.p95)
        #expect(summary.medianAbsoluteDeviation == expected.medianAbsoluteDeviation)
        #expect(summary.outliers == expected.outliers)
    }

    @Test(arguments: knownAnswers)
    func freeFunctionsAgreeWithSummary(_ expected: KnownAnswer) {
        #expect(median(expected.samples) == expected.median)
        #expect(medianAbsoluteDeviation(expected.samples) == expected.medianAbsoluteDeviation)
        #expect(outlierCount(expected.samples) == expected.outliers)
        let sorted = expected.samples.sorted()
        #expect(percentile(sorted, 0.05) == expected.p5)
        #expect(percentile(sorted, 0.95) == expected.p95)
        #expect(percentile(sorted, 0) == expected.minimum)
        #expect(percentile(sorted, 1) == expected.maximum)
        #expect(percentile(sorted, 0.5) == expected.median)
    }

    /// np.percentile(x, [0, 25, 50, 75, 100]) for the odd and even sets.
    @Test func quartilesMatchNumpy() {
        let odd = [12.5, 10.1, 11.3, 9.8, 10.7, 13.2, 10.4].sorted()
        #expect([0, 0.25, 0.5, 0.75, 1].map { percentile(odd, $0) } == [9.8, 10.25, 10.7, 11.9, 13.2])
        let even = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0].sorted()
        #expect([0, 0.25, 0.5, 0.75, 1].map { percentile(even, $0) } == [1.0, 2.25, 3.5, 5.0, 9.0])
        let withOutlier = [101.2, 99.8, 100.5, 100.1, 98.9, 100.7, 99.5, 250.0, 100.3, 99.9].sorted()
        #expect(
            [0, 0.25, 0.5, 0.75, 1].map { percentile(withOutlier, $0) }
                == [98.9, 99.825, 100.19999999999999, 100.65, 250.0])
    }

    /// (x - np.median(x)) / np.median(np.abs(x - np.median(x))), numpy.
    @Test func modifiedZScoresMatchNumpy() throws {
        let samples = [101.2, 99.8, 100.5, 100.1, 98.9, 100.7, 99.5, 250.0, 100.3, 99.9]
        let expected = [
            2.2222222222222396, -0.8888888888888643, 0.6666666666666877, -0.2222222222222082,
            -2.888888888888833, 1.1111111111111356, -1.5555555555555205, 332.8888888888868,
            0.22222222222223978, -0.6666666666666246,
        ]
        let scores = try #require(modifiedZScores(samples))
        #expect(scores == expected)
    }

    @Test func emptyInputGivesNil() {
        #expect(SampleSummary(samples: []) == nil)
        #expect(median([]) == nil)
        #expect(percentile([], 0.5) == nil)
        #expect(medianAbsoluteDeviation([]) == nil)
        #expect(modifiedZScores([]) == nil)
        #expect(outlierCount([]) == nil)
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity])
    func nonFiniteInputGivesNil(_ bad: Double) {
        let samples = [1.0, bad, 3.0]
        #expect(SampleSummary(samples: samples) == nil)
        #expect(median(samples) == nil)
        #expect(percentile(samples, 0.5) == nil)
        #expect(medianAbsoluteDeviation(samples) == nil)
        #expect(modifiedZScores(samples) == nil)
        #expect(outlierCount(samples) == nil)
    }

    @Test func percentileRejectsBadArguments() {
        #expect(percentile([1, 2, 3], -0.01) == nil)
        #expect(percentile([1, 2, 3], 1.01) == nil)
        #expect(percentile([1, 2, 3], .nan) == nil)
        #expect(percentile([3, 1, 2], 0.5) == nil, "unsorted input is rejected, not misread")
    }

    @Test func overflowingStandardDeviationGivesNil() {
        // Finite samples whose squared deviations overflow.
        #expect(SampleSummary(samples: [1e300, -1e300]) == nil)
        // The median of two huge values does not overflow.
        #expect(median([Double.greatestFiniteMagnitude, Double.greatestFiniteMagnitude]) == .greatestFiniteMagnitude)
    }

    @Test func summaryRoundTripsThroughJSON() throws {
        let summary = try #require(SampleSummary(samples: [12.5, 10.1, 11.3, 9.8, 10.7, 13.2, 10.4]))
        let data = try JSONEncoder().encode(summary)
        #expect(try JSONDecoder().decode(SampleSummary.self, from: data) == summary)
    }
}
