// mvm-verdict-simulation: the nightly verdict's error rates, measured.
//
// Synthetic histories (NightModel) are judged night after night by mvm's own
// VerdictEngine, confirmation batch and recorded verdicts included, exactly
// as `mvm nightly` judges a real history. It prints a Markdown section, and
// with `--write FILE` puts it into FILE between the verdict-simulation
// markers (BENCHMARKS.md).

import Foundation
import History

struct Options {
    var histories = 200
    var quietNights = 50
    var stepHistories = 1_000
    var seed: UInt64 = 2026
    var write: String?
    var settings = VerdictSettings()
    /// Quiet nights before a step, and warm-up nights before counting.
    var prehistory = 100
    var models: [NightModel] = [.base, .youngHistory, .heavyTails, .correlated, .independentConfirmation]

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { throw SimulationError("\(flag) needs a value") }
            switch flag {
            case "--histories": histories = try Self.count(value, flag)
            case "--quiet-nights": quietNights = try Self.count(value, flag)
            case "--step-histories": stepHistories = try Self.count(value, flag)
            case "--seed": seed = UInt64(try Self.count(value, flag))
            case "--write": write = value
            case "--prehistory": prehistory = try Self.count(value, flag)
            case "--threshold": settings.threshold = try Self.number(value, flag)
            case "--confirmation-threshold": settings.confirmationThreshold = try Self.number(value, flag)
            case "--change-point-threshold": settings.changePointThreshold = try Self.number(value, flag)
            case "--persistence-margin": settings.persistenceMargin = try Self.number(value, flag)
            case "--prior-share": settings.priorSpreadShare = try Self.number(value, flag)
            case "--prior-degrees": settings.priorSpreadDegrees = try Self.number(value, flag)
            case "--spread-runs": settings.spreadRuns = try Self.count(value, flag)
            case "--baseline-runs": settings.baselineRuns = try Self.count(value, flag)
            case "--nights-window": settings.nightsWindow = try Self.count(value, flag)
            case "--models":
                let all = models
                models = try value.split(separator: ",").map { item in
                    guard let index = Int(item), all.indices.contains(index) else {
                        throw SimulationError("--models \(value): give indices 0 to \(all.count - 1)")
                    }
                    return all[index]
                }
            default:
                throw SimulationError(
                    "unknown option \(flag); options: --histories N --quiet-nights N --step-histories N --seed N --write FILE"
                )
            }
        }
    }

    static func number(_ value: String, _ flag: String) throws -> Double {
        guard let number = Double(value), number > 0 else {
            throw SimulationError("\(flag) \(value): give a positive number")
        }
        return number
    }

    static func count(_ value: String, _ flag: String) throws -> Int {
        guard let number = Int(value), number > 0 else {
            throw SimulationError("\(flag) \(value): give a positive whole number")
        }
        return number
    }
}

struct SimulationError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

let seriesPerNight = 15
let stepFollowUp = 30

struct QuietResult {
    var nights = 0
    var falseExitNights = 0
    var falseVerdicts = 0
    var stepReports = 0
    /// False regressions by the rule that gave them.
    var byRule: [String: Int] = [:]
    var seriesNights: Int { nights * seriesPerNight }
}

func quietNights(_ model: NightModel, _ options: Options, seed: UInt64) -> QuietResult {
    var result = QuietResult()
    for history in 0..<options.histories {
        var simulation = SimulatedHistory(
            model: model, series: seriesPerNight, seed: seed &+ UInt64(history) &* 7919, settings: options.settings)
        for night in 0..<((model.prehistory ?? options.prehistory) + options.quietNights) {
            let verdicts = simulation.runNight()
            guard night >= model.prehistory ?? options.prehistory else { continue }
            result.nights += 1
            if nightlyExitStatus(verdicts: verdicts, jobFailed: false) == 1 { result.falseExitNights += 1 }
            result.falseVerdicts += verdicts.filter(\.explainsStep).count
            for verdict in verdicts where verdict.isRegression {
                result.byRule[verdict.rule?.rawValue ?? "?", default: 0] += 1
            }
            result.stepReports += verdicts.filter { $0.decision == .unexplainedStep }.count
        }
    }
    return result
}

struct StepResult {
    var histories = 0
    /// By the night (1-based) a regression was first given.
    var caughtOn: [Int] = []
    var unexplainedAtEnd = 0
    var silentAtEnd = 0

    func share(within nights: Int) -> Double {
        Double(caughtOn.filter { $0 <= nights }.count) / Double(max(histories, 1))
    }
}

func step(_ size: Double, _ model: NightModel, _ options: Options, seed: UInt64) -> StepResult {
    var result = StepResult()
    for history in 0..<options.stepHistories {
        var simulation = SimulatedHistory(
            model: model, series: 1, seed: seed &+ UInt64(history) &* 104_729, settings: options.settings)
        for _ in 0..<(model.prehistory ?? options.prehistory) { _ = simulation.runNight() }
        simulation.steps[0] = size
        result.histories += 1
        var caught: Int?
        var last: SeriesVerdict?
        for night in 1...stepFollowUp {
            let verdict = simulation.runNight()[0]
            last = verdict
            if verdict.decision == .regression {
                caught = night
                break
            }
        }
        if let caught {
            result.caughtOn.append(caught)
        } else if last?.decision == .unexplainedStep || last?.decision == .unconfirmed {
            result.unexplainedAtEnd += 1
        } else {
            result.silentAtEnd += 1
        }
    }
    return result
}

func perMille(_ count: Int, of total: Int) -> String {
    String(format: "%.1f", 1000 * Double(count) / Double(max(total, 1)))
}

func percentText(_ share: Double) -> String {
    String(format: "%.1f %%", share * 100)
}

func commit() -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
    process.arguments = ["rev-parse", "--short", "HEAD"]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return "unknown" }
    process.waitUntilExit()
    let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        ? "unknown" : text.trimmingCharacters(in: .whitespacesAndNewlines)
}

func render(_ options: Options) -> String {
    let settings = options.settings
    let models = options.models
    let today = ISO8601DateFormatter.string(
        from: Date(), timeZone: TimeZone(identifier: "UTC") ?? .current, formatOptions: [.withFullDate])
    var lines = [
        startMarker,
        "## Verdicts: measured error rates",
        "",
        "Written by `swift run -c release mvm-verdict-simulation --write BENCHMARKS.md` on \(today) from commit `\(commit())`"
            + " (seed \(options.seed)). Synthetic histories are judged night after night by mvm's own `VerdictEngine`, with its"
            + " confirmation batch and the verdicts recorded as `mvm nightly` records them. Settings: the defaults (threshold"
            + " \(settings.threshold.formatted()), change point \(settings.changePointThreshold.formatted()), confirmation"
            + " \(settings.confirmationThreshold.formatted()), spread moderated toward the floor with"
            + " \(settings.priorSpreadDegrees.formatted()) degrees of freedom, baseline of"
            + " \(settings.baselineRuns) runs, spread from \(settings.spreadRuns), nights window \(settings.nightsWindow) with every night past \(settings.persistenceMargin.formatted()) of the floor, 5 % floor)."
            + " Every night measures \(seriesPerNight) series of \(NightModel.base.samples) samples; the confirmation batch shares"
            + " the night's drift (it runs straight after) unless said otherwise.",
        "",
        "### Quiet nights",
        "",
        "\(options.histories) histories per model, \(options.prehistory) nights of warm-up each (unless the model says otherwise), then \(options.quietNights) nights counted.",
        "",
        "| model | nights | false exit-1 nights per 1,000 | target | false verdicts per 1,000 series-nights | false regressions by rule | unexplained steps per 1,000 series-nights |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (index, model) in models.enumerated() {
        let quiet = quietNights(model, options, seed: options.seed &+ UInt64(index) &* 1_000_003)
        let rate = 1000 * Double(quiet.falseExitNights) / Double(max(quiet.nights, 1))
        let target = index == 0 ? (rate <= 5 ? "≤ 5: met" : "≤ 5: **not met**") : "–"
        lines.append(
            "| \(model.name) | \(quiet.nights) | \(perMille(quiet.falseExitNights, of: quiet.nights)) | \(target) | "
                + "\(perMille(quiet.falseVerdicts, of: quiet.seriesNights)) | "
                + "\(quiet.byRule.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ").nonEmpty ?? "none") | "
                + "\(perMille(quiet.stepReports, of: quiet.seriesNights)) |")
    }
    lines += [
        "",
        "### Persistent steps",
        "",
        "\(options.stepHistories) histories per row: \(options.prehistory) quiet nights (unless the model says otherwise), then the series' level steps up for good;"
            + " followed for \(stepFollowUp) nights. A step not yet caught is either reported on the last night (an unexplained"
            + " step, or a candidate its confirmation batch did not confirm), or silent (ok, warming, or an improvement).",
        "",
        "| model | step | caught night 1 | within 3 nights | within 5 nights | later (by night \(stepFollowUp)) | reported on night \(stepFollowUp) | silent on night \(stepFollowUp) | target |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (index, model) in models.enumerated() {
        for size in [0.05, 0.07, 0.10, 0.20] {
            let result = step(size, model, options, seed: options.seed &+ UInt64(index * 100) &+ UInt64(size * 1000))
            var target = "–"
            if index == 0 && size == 0.10 {
                target = result.share(within: 3) >= 0.8 ? "≥ 80 % within 3: met" : "≥ 80 % within 3: **not met**"
            }
            if index == 0 && size == 0.20 {
                target = result.share(within: 1) >= 0.8 ? "≥ 80 % night 1: met" : "≥ 80 % night 1: **not met**"
            }
            let later = result.share(within: stepFollowUp) - result.share(within: 5)
            lines.append(
                "| \(model.name) | +\(Int(size * 100)) % | \(percentText(result.share(within: 1))) | \(percentText(result.share(within: 3))) | "
                    + "\(percentText(result.share(within: 5))) | \(percentText(later)) | "
                    + "\(percentText(Double(result.unexplainedAtEnd) / Double(result.histories))) | "
                    + "\(percentText(Double(result.silentAtEnd) / Double(result.histories))) | \(target) |")
        }
    }
    lines.append(endMarker)
    return lines.joined(separator: "\n") + "\n"
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}

let startMarker = "<!-- verdict-simulation: start -->"
let endMarker = "<!-- verdict-simulation: end -->"

do {
    let options = try Options(Array(CommandLine.arguments.dropFirst()))
    let section = render(options)
    print(section, terminator: "")
    if let path = options.write {
        var text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        if let start = text.range(of: startMarker), let end = text.range(of: endMarker),
            start.lowerBound < end.upperBound
        {
            let lineEnd = text[end.upperBound...].first == "\n" ? text.index(after: end.upperBound) : end.upperBound
            text.replaceSubrange(start.lowerBound..<lineEnd, with: section)
        } else {
            text += (text.isEmpty || text.hasSuffix("\n\n") ? "" : "\n") + section
        }
        try text.write(toFile: path + ".tmp", atomically: false, encoding: .utf8)
        guard rename(path + ".tmp", path) == 0 else {
            throw SimulationError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(64)
}
