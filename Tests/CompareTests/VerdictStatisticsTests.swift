import Foundation
import Testing

@testable import Compare

// Known answers below come from Python 3.11 with scipy 1.17.1, numpy and
// statsmodels 0.15.0, printed with repr(float(...)); the change-point cases
// were also run through Apache Otava 0.8.0 (`otava.analysis.
// compute_change_points`, PyPI `apache-otava`).

// MARK: - Permutation test

@Suite("Permutation test of medians")
struct PermutationTestTests {
    /// Exact enumeration of all C(6, 3) = 20 relabellings. T_obs = 5 - 2 = 3;
    /// |T*| >= 3 for {4,5,6} (3), {3,5,6} vs {1,2,4} (5 - 2 = 3) and their
    /// mirror images {1,2,3} and {1,2,4} (-3): p = 4/20. Checked with
    /// itertools.combinations and np.median. (With means instead of medians
    /// only {4,5,6} and {1,2,3} qualify, p = 2/20.)
    @Test func exactEnumerationSmall() throws {
        let result = try #require(permutationTest(candidate: [4, 5, 6], reference: [1, 2, 3]))
        #expect(result.observed == 3)
        #expect(result.isExact)
        #expect(result.resamples == 20)
        #expect(result.pValue == 4.0 / 20.0)
    }

    /// More exact cases, from the same itertools script.
    @Test(arguments: [
        ([4.0, 5, 6, 7], [1.0, 2, 3], 3.5, 35, 4.0 / 35),
        ([10.0, 11, 12], [1.0, 2, 3, 4], 8.5, 35, 4.0 / 35),
        ([1.0, 2.0], [1.5, 2.5, 3.0], -1.0, 10, 4.0 / 10),
    ] as [([Double], [Double], Double, Int, Double)])
    func exactEnumeration(
        candidate: [Double], reference: [Double], observed: Double, count: Int, p: Double
    ) throws {
        let result = try #require(permutationTest(candidate: candidate, reference: reference))
        #expect(result.observed == observed)
        #expect(result.isExact)
        #expect(result.resamples == count)
        #expect(isClose(result.pValue, p))
        // Swapping the groups negates T and enumerates the same partitions.
        let swapped = try #require(permutationTest(candidate: reference, reference: candidate))
        #expect(swapped.observed == -observed)
        #expect(swapped.pValue == result.pValue)
    }

    @Test func exactOnlyWhenEnumerationFitsInResamples() throws {
        // C(6, 3) = 20 > 19 resamples: Monte Carlo; 20 resamples: exact.
        let random = try #require(
            permutationTest(candidate: [4, 5, 6], reference: [1, 2, 3], resamples: 19))
        #expect(!random.isExact)
        #expect(random.resamples == 19)
        let exact = try #require(
            permutationTest(candidate: [4, 5, 6], reference: [1, 2, 3], resamples: 20))
        #expect(exact.isExact)
    }

    @Test func clearShiftGivesTheSmallestPossibleP() throws {
        let candidate = deterministicSamples(count: 10, center: 2.0, spread: 0.05, seed: 3)
        let reference = deterministicSamples(count: 50, center: 1.0, spread: 0.05, seed: 4)
        let result = try #require(permutationTest(candidate: candidate, reference: reference))
        #expect(!result.isExact)
        #expect(result.resamples == 9_999)
        #expect(result.pValue == 1.0 / 10_000)
        #expect(abs(result.observed - 1.0) < 0.1)
    }

    @Test func identicalDistributionsGiveLargeP() throws {
        let candidate = deterministicSamples(count: 10, center: 1.0, spread: 0.05, seed: 5)
        let reference = deterministicSamples(count: 50, center: 1.0, spread: 0.05, seed: 6)
        let result = try #require(permutationTest(candidate: candidate, reference: reference))
        #expect(result.pValue > 0.2, "p = \(result.pValue)")
        let same = try #require(permutationTest(candidate: reference, reference: reference))
        #expect(same.observed == 0)
        #expect(same.pValue == 1)  // every |T*| >= 0
    }

    @Test func sameSeedSameP() throws {
        let candidate = deterministicSamples(count: 12, center: 1.02, spread: 0.05, seed: 7)
        let reference = deterministicSamples(count: 40, center: 1.0, spread: 0.05, seed: 8)
        let first = try #require(permutationTest(candidate: candidate, reference: reference))
        let second = try #require(permutationTest(candidate: candidate, reference: reference))
        #expect(first == second)
        let otherSeed = try #require(
            permutationTest(candidate: candidate, reference: reference, seed: 42))
        #expect(otherSeed.observed == first.observed)
        #expect(otherSeed.pValue != first.pValue)
        #expect(abs(otherSeed.pValue - first.pValue) < 0.05)
        // Order of the inputs does not matter: the pool is sorted first.
        let reordered = try #require(
            permutationTest(candidate: candidate.reversed(), reference: reference.reversed()))
        #expect(reordered == first)
    }

    @Test func pIsNeverZero() throws {
        let result = try #require(
            permutationTest(candidate: [100, 101, 102], reference: Array(repeating: 1, count: 30),
                            resamples: 10))
        #expect(!result.isExact)
        #expect(result.pValue == 1.0 / 11)
        let exact = try #require(permutationTest(candidate: [9], reference: [1, 2]))
        #expect(exact.isExact)
        #expect(exact.pValue == 1.0 / 3)
    }

    @Test(arguments: [
        ([Double](), [1.0]),
        ([1.0], []),
        ([1.0, .nan], [1.0, 2.0]),
        ([1.0], [.infinity]),
        ([1e308], [-1e308]),  // observed difference overflows
    ] as [([Double], [Double])])
    func invalidInputGivesNil(candidate: [Double], reference: [Double]) {
        #expect(permutationTest(candidate: candidate, reference: reference) == nil)
    }

    @Test func nonPositiveResamplesGiveNil() {
        #expect(permutationTest(candidate: [1, 2], reference: [3, 4], resamples: 0) == nil)
    }

    @Test func binomialCoefficientStopsAtTheLimit() {
        #expect(binomialCoefficient(6, 3, notAbove: 20) == 20)
        #expect(binomialCoefficient(6, 3, notAbove: 19) == nil)
        #expect(binomialCoefficient(60, 10, notAbove: 9_999) == nil)
        #expect(binomialCoefficient(5, 0, notAbove: 1) == 1)
        #expect(binomialCoefficient(1_000_000, 500_000, notAbove: .max) == nil)  // no overflow trap
    }

    /// 9,999 resamples of 10 vs 50 samples; the brief asks for well under
    /// 100 ms in a debug build. The bound here is loose so a busy machine
    /// running tests in parallel does not fail it.
    @Test func fastEnoughForNightlyUse() throws {
        let candidate = deterministicSamples(count: 10, center: 1.01, spread: 0.05, seed: 9)
        let reference = deterministicSamples(count: 50, center: 1.0, spread: 0.05, seed: 10)
        let clock = ContinuousClock()
        var result: PermutationTestResult?
        let elapsed = clock.measure {
            result = permutationTest(candidate: candidate, reference: reference)
        }
        #expect(result != nil)
        #expect(elapsed < .milliseconds(500), "took \(elapsed)")
    }
}
