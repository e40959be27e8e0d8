import Compare
import MVMCore
import Testing

@Suite struct LadderRatioTests {
    func samples(_ contender: String, ready: Double, pss: UInt64) -> [InstanceSample] {
        (0..<5).map { run in
            InstanceSample(
                contender: contender, run: run, instance: 0, warmup: false, ok: true, failure: nil,
                phases: ["ready": ready + Double(run) * 0.001], footprint: ["pss": pss], guest: nil,
                allReadySeconds: nil)
        }
    }

    /// Both engines share a role, and each gets its own ratios against runc
    /// and the micro-VM; gVisor's sandbox gets its own.
    @Test func everyStepIsSetAgainstTheContainerAndTheMicroVM() {
        let roles: [String: ContenderRole] = [
            "vm": .microVM, "container": .container, "gvisor": .sandboxedContainer, "podman": .containerEngine,
            "docker": .containerEngine,
        ]
        let all =
            samples("vm", ready: 1.4, pss: 80 << 20) + samples("container", ready: 0.05, pss: 2 << 20)
            + samples("gvisor", ready: 0.34, pss: 30 << 20) + samples("podman", ready: 0.18, pss: 3 << 20)
            + samples("docker", ready: 0.29, pss: 14 << 20)
        let summary = ComparisonSummary(
            samples: all, contenders: ["vm", "container", "gvisor", "podman", "docker"], roles: roles)
        for step in ["gvisor", "podman", "docker"] {
            for denominator in ["container", "vm"] {
                for metric in ["ready", "pss"] {
                    #expect(
                        summary.ratios.contains {
                            $0.numerator == step && $0.denominator == denominator && $0.metric == metric
                        }, "\(step)/\(denominator) \(metric)")
                }
            }
        }
        let dockerOverContainer = summary.ratios.first {
            $0.numerator == "docker" && $0.denominator == "container" && $0.metric == "ready"
        }
        // Medians: 0.292 s over 0.052 s.
        #expect(abs((dockerOverContainer?.ratio.ratio ?? 0) - 0.292 / 0.052) < 0.01)
    }
}
