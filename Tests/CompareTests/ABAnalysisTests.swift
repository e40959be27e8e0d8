import Testing

@testable import Compare

@Suite struct ABAnalysisTests {
    static func samples(_ contender: String, _ readies: [Double]) -> [InstanceSample] {
        readies.enumerated().map { index, ready in
            InstanceSample(
                contender: contender, run: index, instance: 0, warmup: false, ok: true, failure: nil,
                phases: ["ready": ready], footprint: ["pss": 80 << 20], guest: nil, allReadySeconds: nil)
        }
    }

    static let a = samples("A", [0.85, 0.86, 0.84, 0.87, 0.85, 0.86, 0.84, 0.85])

    /// With n runs a side, the most extreme split is 2 of C(2n, n): four
    /// runs cannot reach p < 0.01 (2/70), five can (2/252).
    @Test func fewerThanFiveRunsASideCannotReachTheLevel() {
        #expect(abs(ABAnalysis.smallestPValue(runs: 4) - 2.0 / 70) < 1e-12)
        #expect(abs(ABAnalysis.smallestPValue(runs: 5) - 2.0 / 252) < 1e-12)
        #expect(ABAnalysis.smallestPValue(runs: 1) == 1)
        #expect(ABAnalysis.fewestRuns == 5)
    }

    @Test func aClearlyFasterBIsAnImprovement() throws {
        let b = Self.samples("B", [0.62, 0.63, 0.61, 0.64, 0.62, 0.63, 0.62, 0.61])
        let ready = try #require(ABAnalysis.analyze(samples: Self.a + b, a: "A", b: "B").first { $0.metric == "ready" })
        #expect(ready.outcome == .improvement && ready.pValue < 0.01)
        #expect(ready.sentence == "B is 27.0 % faster (p < 0.001)")
        // Memory did not move: not a difference.
        let pss = try #require(ABAnalysis.analyze(samples: Self.a + b, a: "A", b: "B").first { $0.metric == "pss" })
        #expect(pss.outcome == .same)
    }

    @Test func aSlowerBIsARegression() throws {
        let b = Self.samples("B", [2.4, 2.5, 2.45, 2.6, 2.5, 2.55, 2.4, 2.5])
        let ready = try #require(ABAnalysis.analyze(samples: Self.a + b, a: "A", b: "B").first { $0.metric == "ready" })
        #expect(ready.outcome == .regression && ready.relativeChange > 1)
    }

    /// A significant change under the threshold is noise; the threshold is
    /// the metric's own when given.
    @Test func aSmallChangeIsNoiseUnlessItsThresholdIsLower() throws {
        let b = Self.samples("B", [0.87, 0.88, 0.86, 0.89, 0.87, 0.88, 0.86, 0.87])
        let samples = Self.a + b
        let loose = try #require(ABAnalysis.analyze(samples: samples, a: "A", b: "B").first { $0.metric == "ready" })
        #expect(loose.pValue < 0.01 && loose.outcome == .same)
        #expect(loose.sentence.hasPrefix("no difference past 5.0 % (B 2.3 % slower, p = 0.00"))
        let tight = try #require(
            ABAnalysis.analyze(samples: samples, a: "A", b: "B", thresholds: ["ready": 0.01]).first {
                $0.metric == "ready"
            })
        #expect(tight.outcome == .regression)
    }

    @Test func overlappingSamplesAreTheSame() throws {
        let b = Self.samples("B", [0.86, 0.84, 0.85, 0.87, 0.84, 0.86, 0.85, 0.85])
        let ready = try #require(ABAnalysis.analyze(samples: Self.a + b, a: "A", b: "B").first { $0.metric == "ready" })
        #expect(ready.outcome == .same && ready.pValue > 0.1)
    }
}
