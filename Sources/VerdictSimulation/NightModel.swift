import Compare
import Foundation
import History

/// How synthetic nights are drawn: each series has a true level; each night
/// moves it by a drift shared by the whole night's batch (and by its
/// confirmation batch, which runs straight after), and each sample adds
/// noise within the run. Both are multiplicative (lognormal values).
struct NightModel: Sendable {
    var name: String
    /// Standard deviation of the night's log drift (0.03: 3 %).
    var drift = 0.03
    /// Standard deviation of one sample's log noise within a run (0.05).
    var noise = 0.05
    /// Samples per run.
    var samples = 10
    /// Degrees of freedom of Student's t for drift and noise (scaled to the
    /// same standard deviation); nil: normal.
    var tailDegrees: Double?
    /// Share of the night's drift variance common to every series (0:
    /// independent series).
    var sharedDrift = 0.0
    /// Whether the confirmation batch shares the night's drift.
    var confirmationSharesDrift = true
    /// Quiet nights before counting (or before a step); nil: the run's
    /// `--prehistory`.
    var prehistory: Int?

    static let base = NightModel(name: "base: 3 % drift, 5 % noise, normal")
    static let heavyTails = NightModel(
        name: "heavy tails: the same spreads, Student's t with 3 degrees of freedom", tailDegrees: 3)
    static let correlated = NightModel(
        name: "correlated: half of each night's drift shared by every series", sharedDrift: 0.5)
    static let youngHistory = NightModel(name: "base, with a history of 20 nights only", prehistory: 20)
    static let independentConfirmation = NightModel(
        name: "base, with a confirmation batch away from the night's drift", confirmationSharesDrift: false)
}

/// A seeded source of normal and Student's t variates (Box-Muller over
/// xoshiro256**), so that every table is reproducible.
struct Variates {
    private var generator: Xoshiro256StarStar

    init(seed: UInt64) { generator = Xoshiro256StarStar(seed: seed) }

    mutating func uniform() -> Double {
        (Double(generator.next() >> 11) + 0.5) / Double(UInt64(1) << 53)
    }

    mutating func normal() -> Double {
        (-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform())
    }

    /// A variate with standard deviation 1: normal, or Student's t with
    /// `degrees` (> 2) scaled by sqrt((ν - 2) / ν).
    mutating func standard(tailDegrees degrees: Double?) -> Double {
        guard let degrees else { return normal() }
        let whole = Int(degrees)
        var chiSquare = 0.0
        for _ in 0..<whole {
            let z = normal()
            chiSquare += z * z
        }
        return normal() / (chiSquare / degrees).squareRoot() * ((degrees - 2) / degrees).squareRoot()
    }
}

/// One synthetic history of `count` series, judged night after night by
/// mvm's own `VerdictEngine`, each night recorded with its verdicts as
/// `mvm nightly` records them.
struct SimulatedHistory {
    let model: NightModel
    let engine: VerdictEngine
    let keys: [SeriesKey]
    var variates: Variates
    var observations: [[SeriesObservation]]
    var night = 0
    /// Relative step of each series' true level (0.1: +10 %).
    var steps: [Double]

    static let stack = StackFacts(
        hostKernel: "sim", versions: [:], images: [:], domainXML: "", mvmVersion: "sim", gitCommit: "sim")

    init(model: NightModel, series count: Int, seed: UInt64, settings: VerdictSettings = VerdictSettings()) {
        self.model = model
        engine = VerdictEngine(settings: settings, choice: .automatic)
        keys = (0..<count).map {
            SeriesKey(hostKey: "sim", planKey: "sim", subject: "c\($0)", metric: "ready", unit: .seconds)
        }
        variates = Variates(seed: seed)
        observations = Array(repeating: [], count: count)
        steps = Array(repeating: 0, count: count)
    }

    private mutating func batch(level: Double, drift: Double) -> SeriesValues {
        let values = (0..<model.samples).map { _ in
            level * exp(drift + model.noise * variates.standard(tailDegrees: model.tailDegrees))
        }
        let middle = median(values) ?? level
        return SeriesValues(samples: values, median: middle, low: middle, high: middle)
    }

    private mutating func drifts() -> [Double] {
        let common = variates.standard(tailDegrees: model.tailDegrees)
        return keys.indices.map { _ in
            let own = variates.standard(tailDegrees: model.tailDegrees)
            return model.drift * (model.sharedDrift.squareRoot() * common + (1 - model.sharedDrift).squareRoot() * own)
        }
    }

    /// Measures, judges, confirms and records one night; returns its
    /// verdicts, in series order.
    mutating func runNight() -> [SeriesVerdict] {
        let header = RunHeader(
            id: String(format: "n%06d", night), label: nil,
            startedAt: Date(timeIntervalSince1970: Double(night) * 86_400),
            hostKey: "sim", planKey: "sim", stack: Self.stack, partial: false, failed: false, underLoad: false)
        night += 1
        let drift = drifts()
        let levels = steps.map { 1 + $0 }
        let values = keys.indices.map { batch(level: levels[$0], drift: drift[$0]) }
        let evidence = keys.indices.map {
            SeriesEvidence(
                series: keys[$0], history: observations[$0], annotations: [], new: values[$0], newStack: Self.stack)
        }
        var verdicts = engine.judge(evidence)
        if verdicts.contains(where: \.awaitsConfirmation) {
            let confirmationDrift = model.confirmationSharesDrift ? drift : drifts()
            var confirmation: [SeriesKey: SeriesValues] = [:]
            for index in keys.indices where verdicts[index].awaitsConfirmation {
                confirmation[keys[index]] = batch(level: levels[index], drift: confirmationDrift[index])
            }
            verdicts = engine.confirm(verdicts, with: confirmation, evidence: evidence)
        }
        for index in keys.indices {
            observations[index].append(SeriesObservation(run: header, values: values[index], verdict: verdicts[index]))
        }
        return verdicts
    }
}
