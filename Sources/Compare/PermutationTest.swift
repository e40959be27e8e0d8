// A two-sample permutation test of the difference of medians.
//
// Deterministic like the bootstrap: relabellings are drawn from
// ``Xoshiro256StarStar`` with Lemire's `next(below:)`, so the same samples,
// resample count and seed always give the same p-value.

/// The outcome of ``permutationTest(candidate:reference:resamples:seed:)``.
public struct PermutationTestResult: Sendable, Codable, Equatable {
    /// `median(candidate) - median(reference)`, medians as ``median(_:)``.
    public var observed: Double
    /// Two-sided p-value, in `(0, 1]`; never 0.
    public var pValue: Double
    /// The number of relabellings evaluated: the random resamples, or all
    /// `C(n + m, n)` distinct relabellings when ``isExact``.
    public var resamples: Int
    /// True if every distinct relabelling was enumerated and ``pValue`` is
    /// the exact permutation p-value.
    public var isExact: Bool

    public init(observed: Double, pValue: Double, resamples: Int, isExact: Bool) {
        self.observed = observed
        self.pValue = pValue
        self.resamples = resamples
        self.isExact = isExact
    }
}

/// Two-sided permutation test of the difference of medians
/// `T = median(candidate) - median(reference)`.
///
/// The `n` candidate and `m` reference samples are pooled; a relabelling
/// picks `n` of the `n + m` pooled values as the candidate group and the rest
/// as the reference group, and `T*` is the difference of the two medians.
/// "At least as extreme" means `|T*| >= |T| * (1 - 1e-12)`: the relative
/// tolerance makes relabellings whose statistic equals the observed one
/// mathematically, but differs in the last bits of the floating-point
/// arithmetic, count as ties.
///
/// - Monte Carlo (when `C(n + m, n) > resamples`): `resamples` relabellings
///   are drawn uniformly at random, with replacement, and
///   `p = (1 + #{|T*| >= |T|}) / (resamples + 1)` — the estimator of Phipson
///   & Smyth, "Permutation P-values Should Never Be Zero" (Stat. Appl. Genet.
///   Mol. Biol. 9(1), 2010, eq. 2), which counts the observed labelling among
///   the permutations, so `p >= 1 / (resamples + 1)`.
/// - Exact (when `C(n + m, n) <= resamples`): every distinct relabelling is
///   enumerated once and `p = #{|T*| >= |T|} / C(n + m, n)`. The observed
///   labelling is one of them, so `p >= 1 / C(n + m, n)`. In Python:
///   the mean over `itertools.combinations(range(n + m), n)` of
///   `abs(np.median(a) - np.median(b)) >= abs(T) * (1 - 1e-12)`.
///
/// The random stream: the pooled values are sorted once; a buffer holds the
/// ranks `0..<n+m`; each resample runs a partial Fisher-Yates shuffle of
/// `k = min(n, m)` steps on that buffer (position `i` swapped with
/// `i + next(below: n + m - i)`, with ``Xoshiro256StarStar`` seeded from
/// `seed`), continuing from the previous resample's arrangement, and the `k`
/// ranks in front form the smaller group (the candidate group when `n <= m`).
/// Both medians are then read in one pass over the sorted pool, without
/// sorting. The default seed is ``BootstrapSettings/defaultSeed``.
///
/// - Parameters:
///   - candidate: The new measurements (for example tonight's run).
///   - reference: The measurements to compare against (for example the
///     previous nights).
///   - resamples: Number of random relabellings; at least 1.
///   - seed: Seed of the pseudo-random generator.
/// - Returns: `nil` if either array is empty or contains a non-finite value,
///   if `resamples < 1`, or if the observed difference overflows.
public func permutationTest(
    candidate: [Double], reference: [Double], resamples: Int = 9_999,
    seed: UInt64 = BootstrapSettings.defaultSeed
) -> PermutationTestResult? {
    guard isValidSample(candidate), isValidSample(reference), resamples >= 1 else { return nil }
    let observed = medianOfSorted(candidate.sorted()) - medianOfSorted(reference.sorted())
    guard observed.isFinite else { return nil }

    var relabeller = MedianDifferenceRelabeller(
        sortedPool: (candidate + reference).sorted(), candidateCount: candidate.count)
    let threshold = abs(observed) * (1 - 1e-12)

    if let relabellingCount = binomialCoefficient(
        relabeller.poolCount, relabeller.drawnCount, notAbove: resamples)
    {
        let extreme = relabeller.countExhaustively(atLeast: threshold)
        return PermutationTestResult(
            observed: observed,
            pValue: Double(extreme) / Double(relabellingCount),
            resamples: relabellingCount,
            isExact: true)
    }
    var generator = Xoshiro256StarStar(seed: seed)
    let extreme = relabeller.countRandomly(
        atLeast: threshold, resamples: resamples, using: &generator)
    return PermutationTestResult(
        observed: observed,
        pValue: Double(1 + extreme) / Double(resamples + 1),
        resamples: resamples,
        isExact: false)
}

// MARK: - Internal

/// `C(n, k)` if it is at most `limit`, else `nil` (computed without
/// overflow). Requires `0 <= k <= n`.
func binomialCoefficient(_ n: Int, _ k: Int, notAbove limit: Int) -> Int? {
    let k = min(k, n - k)
    var result = 1
    guard k > 0 else { return result <= limit ? result : nil }
    // C(n - k + i, i) for i = 1...k; each step is exact in integers and the
    // sequence never decreases, so it can stop as soon as it passes `limit`.
    for i in 1...k {
        let (product, overflow) = result.multipliedReportingOverflow(by: n - k + i)
        guard !overflow else { return nil }
        result = product / i
        guard result <= limit else { return nil }
    }
    return result
}

/// Computes `median(candidate group) - median(reference group)` for
/// relabellings of a sorted pool, in O(n + m) each and without allocation.
struct MedianDifferenceRelabeller {
    /// The pooled samples in ascending order.
    private let sortedPool: [Double]
    /// Ranks `0..<poolCount`; the first `drawnCount` form the drawn group.
    private var ranks: [Int]
    /// `isCandidate[rank]`, valid while a relabelling is evaluated.
    private var isCandidate: [Bool]
    /// Size of the smaller group, the one that is drawn.
    let drawnCount: Int
    /// True if the drawn group is the candidate group.
    private let drawnIsCandidate: Bool
    private let candidateCount: Int

    var poolCount: Int { sortedPool.count }

    /// `sortedPool` must be ascending, and `0 < candidateCount < sortedPool.count`.
    init(sortedPool: [Double], candidateCount: Int) {
        self.sortedPool = sortedPool
        self.candidateCount = candidateCount
        let referenceCount = sortedPool.count - candidateCount
        drawnIsCandidate = candidateCount <= referenceCount
        drawnCount = min(candidateCount, referenceCount)
        ranks = Array(0..<sortedPool.count)
        isCandidate = Array(repeating: !drawnIsCandidate, count: sortedPool.count)
    }

    /// The number of `resamples` random relabellings with `|T*| >= threshold`.
    mutating func countRandomly(
        atLeast threshold: Double, resamples: Int, using generator: inout Xoshiro256StarStar
    ) -> Int {
        let pool = sortedPool
        let (drawnCount, drawnIsCandidate, candidateCount) =
            (self.drawnCount, self.drawnIsCandidate, self.candidateCount)
        return ranks.withUnsafeMutableBufferPointer { ranks in
            isCandidate.withUnsafeMutableBufferPointer { isCandidate in
                pool.withUnsafeBufferPointer { pool in
                    let poolCount = pool.count
                    var extreme = 0
                    for _ in 0..<resamples {
                        for position in 0..<drawnCount {
                            let other =
                                position
                                + Int(generator.next(below: UInt64(poolCount - position)))
                            ranks.swapAt(position, other)
                            isCandidate[ranks[position]] = drawnIsCandidate
                        }
                        let difference = Self.medianDifference(
                            pool: pool, isCandidate: isCandidate, candidateCount: candidateCount)
                        if abs(difference) >= threshold { extreme += 1 }
                        for position in 0..<drawnCount {
                            isCandidate[ranks[position]] = !drawnIsCandidate
                        }
                    }
                    return extreme
                }
            }
        }
    }

    /// The number of all `C(n + m, k)` relabellings with `|T*| >= threshold`,
    /// enumerating the drawn group's rank sets in lexicographic order.
    mutating func countExhaustively(atLeast threshold: Double) -> Int {
        let pool = sortedPool
        let (drawnCount, drawnIsCandidate, candidateCount) =
            (self.drawnCount, self.drawnIsCandidate, self.candidateCount)
        var chosen = Array(0..<drawnCount)
        return isCandidate.withUnsafeMutableBufferPointer { isCandidate in
            pool.withUnsafeBufferPointer { pool in
                let poolCount = pool.count
                var extreme = 0
                while true {
                    for rank in chosen { isCandidate[rank] = drawnIsCandidate }
                    let difference = Self.medianDifference(
                        pool: pool, isCandidate: isCandidate, candidateCount: candidateCount)
                    if abs(difference) >= threshold { extreme += 1 }
                    for rank in chosen { isCandidate[rank] = !drawnIsCandidate }

                    // Next combination: bump the rightmost rank that can move.
                    var slot = drawnCount - 1
                    while slot >= 0 && chosen[slot] == poolCount - drawnCount + slot {
                        slot -= 1
                    }
                    guard slot >= 0 else { return extreme }
                    chosen[slot] += 1
                    for next in (slot + 1)..<drawnCount {
                        chosen[next] = chosen[next - 1] + 1
                    }
                }
            }
        }
    }

    /// `median(candidates) - median(references)` in one pass over the sorted
    /// pool: a group's k-th smallest value is the k-th pool value that
    /// belongs to it. Medians as ``medianOfSorted(_:)``, bit for bit.
    private static func medianDifference(
        pool: UnsafeBufferPointer<Double>, isCandidate: UnsafeMutableBufferPointer<Bool>,
        candidateCount: Int
    ) -> Double {
        let referenceCount = pool.count - candidateCount
        let (candidateLow, candidateHigh) = ((candidateCount - 1) / 2, candidateCount / 2)
        let (referenceLow, referenceHigh) = ((referenceCount - 1) / 2, referenceCount / 2)
        var candidateSeen = 0
        var referenceSeen = 0
        var candidateLowValue = 0.0
        var candidateHighValue = 0.0
        var referenceLowValue = 0.0
        var referenceHighValue = 0.0
        for rank in 0..<pool.count {
            let value = pool[rank]
            if isCandidate[rank] {
                if candidateSeen == candidateLow { candidateLowValue = value }
                if candidateSeen == candidateHigh { candidateHighValue = value }
                candidateSeen += 1
            } else {
                if referenceSeen == referenceLow { referenceLowValue = value }
                if referenceSeen == referenceHigh { referenceHighValue = value }
                referenceSeen += 1
            }
            if candidateSeen > candidateHigh && referenceSeen > referenceHigh { break }
        }
        let candidateMedian =
            candidateLow == candidateHigh
            ? candidateLowValue : candidateLowValue / 2 + candidateHighValue / 2
        let referenceMedian =
            referenceLow == referenceHigh
            ? referenceLowValue : referenceLowValue / 2 + referenceHighValue / 2
        return candidateMedian - referenceMedian
    }
}
