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

// MARK: - Benjamini-Hochberg

@Suite("Benjamini-Hochberg")
struct BenjaminiHochbergTests {
    /// R's p.adjust(p, "BH") evaluates `n/i * p`; these are that order's
    /// results (statsmodels' multipletests(method="fdr_bh") divides by i/n
    /// and gives 0.024999999999999998 and 0.049999999999999996 instead).
    @Test func fiveValues() {
        let p = [0.01, 0.04, 0.03, 0.005, 0.2]
        #expect(benjaminiHochbergAdjusted(p) == [0.025, 0.05, 0.05, 0.025, 0.2])
        #expect(benjaminiHochbergRejections(p, q: 0.05) == [true, true, true, true, false])
        #expect(benjaminiHochbergRejections(p, q: 0.03) == [true, false, false, true, false])
    }

    /// statsmodels multipletests(p, alpha=0.05, method="fdr_bh").
    @Test func tenValues() {
        let p = [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216]
        let expected = [
            0.01, 0.04, 0.084, 0.084, 0.084, 0.1, 0.10571428571428572, 0.216, 0.216, 0.216,
        ]
        let adjusted = benjaminiHochbergAdjusted(p)
        #expect(zip(adjusted, expected).allSatisfy { isClose($0, $1) }, "\(adjusted)")
        #expect(
            benjaminiHochbergRejections(p, q: 0.05)
                == [true, true, false, false, false, false, false, false, false, false])
    }

    /// The 15 p-values of Benjamini & Hochberg (1995), section 4: at q = 0.05
    /// the procedure rejects the four smallest. Adjusted values from
    /// statsmodels multipletests(method="fdr_bh").
    @Test func benjaminiHochberg1995Example() {
        let p = [
            0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240,
            0.4262, 0.5719, 0.6528, 0.7590, 1.000,
        ]
        let expected = [
            0.0015, 0.003, 0.0095, 0.035625, 0.0603, 0.06385714285714286, 0.06385714285714286,
            0.0645, 0.07650000000000001, 0.48600000000000004, 0.5811818181818182,
            0.7148749999999999, 0.7532307692307693, 0.8132142857142857, 1.0,
        ]
        let adjusted = benjaminiHochbergAdjusted(p)
        #expect(zip(adjusted, expected).allSatisfy { isClose($0, $1) }, "\(adjusted)")
        let rejected = benjaminiHochbergRejections(p, q: 0.05)
        #expect(rejected == Array(repeating: true, count: 4) + Array(repeating: false, count: 11))
    }

    @Test func inputOrderIsKept() {
        // statsmodels: [0.625, 0.025, 0.625, 1.0, 0.0]
        #expect(
            benjaminiHochbergAdjusted([0.5, 0.01, 0.5, 1.0, 0.0]) == [0.625, 0.025, 0.625, 1.0, 0.0])
    }

    @Test func invalidEntriesAreLeftOutLikeRsNA() {
        let adjusted = benjaminiHochbergAdjusted([0.01, .nan, 0.04, 1.5, -0.1, .infinity, 0.03])
        // As if the input were [0.01, 0.04, 0.03]: m = 3.
        let expected = benjaminiHochbergAdjusted([0.01, 0.04, 0.03])
        #expect(adjusted[0] == expected[0] && adjusted[2] == expected[1] && adjusted[6] == expected[2])
        #expect([1, 3, 4, 5].allSatisfy { adjusted[$0].isNaN })
        #expect(
            benjaminiHochbergRejections([0.01, .nan], q: 1) == [true, false])
        #expect(benjaminiHochbergRejections([0.01, 0.02], q: .nan) == [false, false])
    }

    @Test func edgeCases() {
        #expect(benjaminiHochbergAdjusted([]).isEmpty)
        #expect(benjaminiHochbergRejections([], q: 0.05).isEmpty)
        #expect(benjaminiHochbergAdjusted([0.02]) == [0.02])
        #expect(benjaminiHochbergAdjusted([0.04, 0.04, 0.04]) == [0.04, 0.04, 0.04])
    }
}

// MARK: - Student's t

@Suite("Student's t distribution")
struct StudentTTests {
    /// 2 * scipy.stats.t.sf(abs(t), df).
    @Test(arguments: [
        (2.0, 10.0, 0.07338803477074039),
        (-2.0, 10.0, 0.07338803477074039),
        (0.5, 3.0, 0.651447964848151),
        (5.0, 30.0, 2.3296685467007786e-05),
        (1e-8, 5.0, 0.9999999924078662),
        (12.0, 100.0, 4.3950877156043564e-21),
        (1.0, 1.0, 0.49999999999999956),
        (3.0, 2.5, 0.07257609554903183),
    ] as [(Double, Double, Double)])
    func twoSidedPValue(t: Double, degreesOfFreedom: Double, expected: Double) throws {
        let p = try #require(studentTTwoSidedPValue(t: t, degreesOfFreedom: degreesOfFreedom))
        #expect(isClose(p, expected, relativeTolerance: 1e-12), "p = \(p)")
    }

    @Test func twoSidedPValueLimits() {
        #expect(studentTTwoSidedPValue(t: 0, degreesOfFreedom: 4) == 1)
        #expect(studentTTwoSidedPValue(t: .infinity, degreesOfFreedom: 4) == 0)
        #expect(studentTTwoSidedPValue(t: 1e200, degreesOfFreedom: 4) == 0)
        #expect(studentTTwoSidedPValue(t: .nan, degreesOfFreedom: 4) == nil)
        #expect(studentTTwoSidedPValue(t: 1, degreesOfFreedom: 0) == nil)
        #expect(studentTTwoSidedPValue(t: 1, degreesOfFreedom: .infinity) == nil)
    }

    /// scipy.special.betainc(a, b, x).
    @Test(arguments: [
        (2.0, 3.0, 0.4, 0.5247999999999999),
        (0.5, 0.5, 0.9, 0.7951672353008665),
        (10.0, 0.5, 0.3, 1.2205229279531696e-06),
        (150.0, 0.5, 0.99, 0.08274800325408048),
        (1.0, 1.0, 0.25, 0.25),
    ] as [(Double, Double, Double, Double)])
    func incompleteBeta(a: Double, b: Double, x: Double, expected: Double) throws {
        let value = try #require(regularizedIncompleteBeta(x, a: a, b: b))
        #expect(isClose(value, expected, relativeTolerance: 1e-12), "I = \(value)")
    }

    @Test func incompleteBetaLimitsAndInvalidInput() {
        #expect(regularizedIncompleteBeta(0, a: 2, b: 3) == 0)
        #expect(regularizedIncompleteBeta(1, a: 2, b: 3) == 1)
        #expect(regularizedIncompleteBeta(1.5, a: 2, b: 3) == nil)
        #expect(regularizedIncompleteBeta(.nan, a: 2, b: 3) == nil)
        #expect(regularizedIncompleteBeta(0.5, a: 0, b: 3) == nil)
        #expect(regularizedIncompleteBeta(0.5, a: 2, b: -1) == nil)
    }

    /// scipy.stats.ttest_ind(a, b): statistic -4.739479006824719,
    /// pvalue 0.0010597066165470004, df 9.
    @Test func pooledTwoSampleTest() throws {
        let result = try #require(
            studentTTest([12.1, 11.8, 12.4, 12.0, 11.9, 12.3], [12.6, 12.9, 12.5, 13.1, 12.7]))
        #expect(result.degreesOfFreedom == 9)
        #expect(isClose(result.t, -4.739479006824719, relativeTolerance: 1e-12))
        #expect(isClose(result.pValue, 0.0010597066165470004, relativeTolerance: 1e-12))

        // scipy.stats.ttest_ind([1, 2], [3]): -1.7320508075688774, 0.33333333333333326.
        let small = try #require(studentTTest([1, 2], [3]))
        #expect(isClose(small.t, -1.7320508075688774, relativeTolerance: 1e-12))
        #expect(isClose(small.pValue, 0.33333333333333326, relativeTolerance: 1e-12))
    }

    @Test func degenerateTwoSampleTests() {
        #expect(studentTTest([1], [2]) == nil)  // no degree of freedom
        #expect(studentTTest([], [1, 2, 3]) == nil)
        #expect(studentTTest([1, .nan], [1, 2]) == nil)
        #expect(studentTTest([2, 2], [2, 2, 2]) == TTestResult(t: 0, degreesOfFreedom: 3, pValue: 1))
        #expect(
            studentTTest([3, 3], [2, 2, 2])
                == TTestResult(t: .infinity, degreesOfFreedom: 3, pValue: 0))
    }
}
