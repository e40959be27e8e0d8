import Compare
import Foundation
import MVMCore

extension NightlyOutcome {
    /// The comparison's JSON (schema 1) with the run, its host and plan
    /// identity, its conditions and its verdicts added at the top level:
    /// what `--export-json` writes for a recorded or judged run.
    public func jsonData() throws -> Data {
        try mvmJSONData(WithVerdicts(outcome: self))
    }

    private struct WithVerdicts: Encodable {
        let outcome: NightlyOutcome

        enum Keys: String, CodingKey {
            case run, host, planIdentity, conditions, baseline, verdicts, failures, exitStatus
        }

        func encode(to encoder: any Encoder) throws {
            try outcome.comparison.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(outcome.run, forKey: .run)
            try container.encode(outcome.host, forKey: .host)
            try container.encode(outcome.plan, forKey: .planIdentity)
            try container.encode(outcome.conditions, forKey: .conditions)
            try container.encode(outcome.baseline, forKey: .baseline)
            try container.encode(outcome.verdicts, forKey: .verdicts)
            try container.encode(outcome.failures, forKey: .failures)
            try container.encode(outcome.exitStatus, forKey: .exitStatus)
        }
    }
}
