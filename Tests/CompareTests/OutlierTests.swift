import Compare
import Testing

/// The cases of hyperfine's own tests, `test_detect_outliers` and
/// `test_detect_outliers_if_mad_becomes_0` in `src/outlier_detection.rs`
/// (https://github.com/sharkdp/hyperfine), with the counts it asserts.
@Suite("Outlier detection matches hyperfine")
struct OutlierTests {
    @Test func thresholdIsHyperfines() {
        #expect(hyperfineOutlierThreshold == 1.4826 * 10.0)
    }

    @Test(arguments: [
        ([50.0], 0),
        ([1000.0, 0.0], 0),
        ([-0.2, 0.0, 0.2], 0),
        ([-0.2, 0.0, 0.2, 4.0], 1),
        ([0.5, 0.30, 0.29, 0.31, 0.30], 1),
        (
            [
                2.33269488, 1.42195907, -0.57527698, -0.31293437, 2.2948158, 0.75813273,
                -1.0712388, -0.96394741, -1.15897446, 1.10976285,
            ], 0
        ),
        (
            [
                2.33269488, 1.42195907, -0.57527698, -0.31293437, 2.2948158, 0.75813273,
                -1.0712388, -0.96394741, -1.15897446, 1.10976285, 20.0, -500.0,
            ], 2
        ),
        // MAD == 0: hyperfine divides by f64::EPSILON instead.
        ([10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 100.0], 1),
        ([10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 100.0, 100.0], 2),
    ])
    func hyperfineTestCases(samples: [Double], expectedOutliers: Int) throws {
        #expect(outlierCount(samples) == expectedOutliers)
        let summary = try #require(SampleSummary(samples: samples))
        #expect(summary.outliers == expectedOutliers)
    }

    @Test func flagsExactlyTheOneSlowBoot() throws {
        let samples = [101.2, 99.8, 100.5, 100.1, 98.9, 100.7, 99.5, 250.0, 100.3, 99.9]
        let scores = try #require(modifiedZScores(samples))
        let flagged = samples.indices.filter { abs(scores[$0]) > hyperfineOutlierThreshold }
        #expect(flagged == [7])
    }

    @Test func zeroMADUsesMachineEpsilon() throws {
        let scores = try #require(modifiedZScores([10, 10, 10, 10, 10, 10, 10, 100]))
        #expect(scores.dropLast().allSatisfy { $0 == 0 })
        #expect(scores.last == 90 / Double.ulpOfOne)
        #expect(modifiedZScores([7, 7, 7, 7]) == [0, 0, 0, 0])
        #expect(outlierCount([7, 7, 7, 7]) == 0)
    }
}
