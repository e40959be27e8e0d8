// Seeded pseudo-random number generators for the bootstrap.
//
// The exact stream of numbers is part of the reproducibility contract of
// bootstrap intervals: the same samples and seed must give the same interval
// on every platform and toolchain. That is why these generators do not
// conform to `RandomNumberGenerator` — the standard library's
// `random(in:using:)` and `shuffled(using:)` algorithms are not guaranteed to
// stay the same across releases — and why `next(below:)` and `shuffle(_:)`
// are implemented here.

/// SplitMix64 (Steele, Lea & Flood 2014), exactly as in the reference
/// implementation <https://prng.di.unimi.it/splitmix64.c>. Used only to expand
/// a 64-bit seed into the 256-bit state of ``Xoshiro256StarStar``.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** 1.0 (Blackman & Vigna 2018), exactly as in the reference
/// implementation <https://prng.di.unimi.it/xoshiro256starstar.c>.
///
/// The state is the first four outputs of ``SplitMix64`` started at `seed`,
/// the seeding the authors recommend. Those four outputs are never all zero
/// (SplitMix64's output function is a bijection of distinct counter values),
/// so the forbidden all-zero state cannot occur.
package struct Xoshiro256StarStar {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    package init(seed: UInt64) {
        var seeder = SplitMix64(seed: seed)
        s0 = seeder.next()
        s1 = seeder.next()
        s2 = seeder.next()
        s3 = seeder.next()
    }

    @inline(__always)
    private static func rotateLeft(_ value: UInt64, by amount: UInt64) -> UInt64 {
        (value << amount) | (value >> (64 - amount))
    }

    package mutating func next() -> UInt64 {
        let result = Self.rotateLeft(s1 &* 5, by: 7) &* 9
        let shifted = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= shifted
        s3 = Self.rotateLeft(s3, by: 45)
        return result
    }

    /// A uniformly distributed integer in `0..<bound`, by Lemire's
    /// multiply-and-reject method ("Fast Random Integer Generation in an
    /// Interval", ACM TOMACS 2019): the high word of `next() * bound`, after
    /// rejecting the `2^64 mod bound` low words that would bias the result.
    ///
    /// `bound` must be greater than zero (callers pass a non-empty count).
    package mutating func next(below bound: UInt64) -> UInt64 {
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let rejectionThreshold = (0 &- bound) % bound
            while product.low < rejectionThreshold {
                product = next().multipliedFullWidth(by: bound)
            }
        }
        return product.high
    }

    /// Shuffles `elements` in place with the Fisher-Yates algorithm (Knuth's
    /// Algorithm P, from the last position down), drawing each position with
    /// `next(below:)`: the same seed gives the same order on every platform.
    package mutating func shuffle<Element>(_ elements: inout [Element]) {
        guard elements.count > 1 else { return }
        for position in stride(from: elements.count - 1, to: 0, by: -1) {
            let other = Int(next(below: UInt64(position + 1)))
            elements.swapAt(position, other)
        }
    }
}
