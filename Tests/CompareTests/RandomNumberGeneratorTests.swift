import Testing

@testable import Compare

/// Reference outputs from a Python transcription of the reference C code
/// (https://prng.di.unimi.it/splitmix64.c, xoshiro256starstar.c). The
/// SplitMix64 values for seeds 0 and 1234567 also match widely published
/// outputs (e.g. Java's SplittableRandom(1234567).nextLong() is
/// 6457827717110365317 = 0x599ED017FB08FC85).
@Suite("Seeded generators")
struct RandomNumberGeneratorTests {
    @Test func splitMix64MatchesReference() {
        var zero = SplitMix64(seed: 0)
        #expect(
            (0..<4).map { _ in zero.next() }
                == [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F, 0xF88B_B8A8_724C_81EC])
        var other = SplitMix64(seed: 1_234_567)
        #expect(
            (0..<3).map { _ in other.next() }
                == [0x599E_D017_FB08_FC85, 0x2C73_F084_5854_0FA5, 0x883E_BCE5_A3F2_7C77])
    }

    @Test func xoshiro256StarStarMatchesReference() {
        var zero = Xoshiro256StarStar(seed: 0)
        #expect(
            (0..<5).map { _ in zero.next() }
                == [
                    0x99EC_5F36_CB75_F2B4, 0xBF6E_1F78_4956_452A, 0x1A5F_849D_4933_E6E0,
                    0x6AA5_94F1_262D_2D2C, 0xBBA5_AD4A_1F84_2E59,
                ])
        var mvm = Xoshiro256StarStar(seed: BootstrapSettings.defaultSeed)
        #expect(
            (0..<3).map { _ in mvm.next() } == [0x1832_DF75_FC45_FADC, 0xC05E_76C4_62D9_CA27, 0x9BFB_D2D3_B68B_108E])
    }

    @Test func boundedDrawsMatchReference() {
        var generator = Xoshiro256StarStar(seed: 42)
        #expect((0..<12).map { _ in generator.next(below: 10) } == [0, 3, 6, 9, 9, 7, 7, 8, 7, 5, 6, 2])
    }

    @Test func boundedDrawsStayInRangeAndCoverIt() {
        var generator = Xoshiro256StarStar(seed: 9)
        var seen = Array(repeating: 0, count: 7)
        for _ in 0..<7_000 {
            let value = generator.next(below: 7)
            #expect(value < 7)
            seen[Int(value)] += 1
        }
        #expect(seen.allSatisfy { $0 > 800 && $0 < 1_200 }, "counts \(seen)")
        var one = Xoshiro256StarStar(seed: 9)
        #expect((0..<10).allSatisfy { _ in one.next(below: 1) == 0 })
    }

    /// The O(n) multiplicity walk must give exactly the median of the
    /// resample it represents; replay the same draws and sort to check.
    @Test(arguments: [1, 2, 3, 10, 11, 64])
    func resampledMedianEqualsSortedResampleMedian(count: Int) throws {
        let samples = deterministicSamples(count: count, center: 5, spread: 2, seed: UInt64(count))
        let sorted = samples.sorted()
        var resampler = MedianResampler(sortedSamples: sorted)
        var generator = Xoshiro256StarStar(seed: 77)
        var replay = Xoshiro256StarStar(seed: 77)
        for _ in 0..<50 {
            let fast = resampler.nextMedian(using: &generator)
            let resample = (0..<count).map { _ in sorted[Int(replay.next(below: UInt64(count)))] }
            #expect(fast == median(resample))
        }
    }
}
