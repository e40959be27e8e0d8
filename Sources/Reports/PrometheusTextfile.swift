import Compare
import Foundation
import History
import MVMCore

/// The outcome as a file for node_exporter's textfile collector, in the
/// Prometheus text exposition format (version 0.0.4), so that dashboards
/// and alerts see every nightly figure without reading mvm's store.
///
/// Every family is a gauge (each value is a reading of the last run, not a
/// count that grows). Each family's HELP and TYPE come once, before all of
/// its samples, and the samples of a family stay together: the format
/// requires both. Every sample carries `host` (the hostname people know)
/// and `host_key` (the identity runs are compared under: a reinstalled
/// machine with the same name gets a new key). Values that are not finite
/// are left out, not written as NaN: a missing figure must not look like a
/// measured one. No timestamps: the collector forbids them.
public func renderPrometheusTextfile(_ outcome: NightlyOutcome) -> String {
    var file = PrometheusTextfile(hostLabels: [("host", outcome.host.hostname), ("host_key", outcome.run.hostKey)])
    let statistics: [(String, (SampleSummary) -> Double)] = [
        ("median", \.median), ("p5", \.p5), ("p95", \.p95), ("ci_low", \.medianConfidenceInterval.lower),
        ("ci_high", \.medianConfidenceInterval.upper),
    ]
    let contenders = outcome.comparison.summary.contenders
    for (family, unit, labelName, help) in [
        (
            "mvm_boot_seconds", MetricUnit.seconds, "phase",
            "Seconds from the request to a phase in the last nightly run, by statistic."
        ),
        (
            "mvm_footprint_bytes", MetricUnit.bytes, "metric",
            "Memory of one instance in the last nightly run, by statistic."
        ),
    ] {
        file.family(family, help: help)
        for contender in contenders {
            for metric in contender.metrics where metric.unit == unit {
                guard let summary = metric.summary else { continue }
                for (stat, value) in statistics {
                    file.sample(
                        family, [("contender", contender.name), (labelName, metric.name), ("stat", stat)],
                        value(summary))
                }
            }
        }
    }
    file.family(
        "mvm_ratio",
        help: "Ratio of two contenders' medians in the last nightly run (numerator/denominator), by statistic.")
    for ratio in outcome.comparison.summary.ratios {
        let labels = [("subject", "\(ratio.numerator)/\(ratio.denominator)"), ("metric", ratio.metric)]
        for (stat, value) in [
            ("median", ratio.ratio.ratio), ("ci_low", ratio.ratio.interval.lower),
            ("ci_high", ratio.ratio.interval.upper),
        ] {
            file.sample("mvm_ratio", labels + [("stat", stat)], value)
        }
    }
    file.family("mvm_regression", help: "1 when the last nightly run confirmed a regression of the series, else 0.")
    for verdict in outcome.verdicts {
        file.sample(
            "mvm_regression", [("subject", verdict.series.subject), ("metric", verdict.series.metric)],
            verdict.isRegression ? 1 : 0)
    }
    file.family(
        "mvm_unexplained_step",
        help:
            "1 while the series has a step past its noise floor that no verdict or annotation has explained yet, else 0."
    )
    for verdict in outcome.verdicts {
        file.sample(
            "mvm_unexplained_step", [("subject", verdict.series.subject), ("metric", verdict.series.metric)],
            verdict.decision == .unexplainedStep ? 1 : 0)
    }
    file.family(
        "mvm_verdict", help: "1 for each series' decision and the rule that decided it (always 1; read the labels).")
    for verdict in outcome.verdicts {
        file.sample(
            "mvm_verdict",
            [
                ("subject", verdict.series.subject), ("metric", verdict.series.metric),
                ("decision", verdict.decision.rawValue),
                ("rule", verdict.rule?.rawValue ?? "unknown"),
            ], 1)
    }
    file.family(
        "mvm_verdict_change_ratio",
        help: "Relative change of the series' median against its baseline: (new - baseline) / baseline.")
    for verdict in outcome.verdicts {
        guard let change = verdict.relativeChange else { continue }
        file.sample(
            "mvm_verdict_change_ratio", [("subject", verdict.series.subject), ("metric", verdict.series.metric)], change
        )
    }
    file.family(
        "mvm_last_run_timestamp_seconds", help: "Start of the last nightly run, in seconds since the Unix epoch.")
    file.sample("mvm_last_run_timestamp_seconds", [], outcome.run.startedAt.timeIntervalSince1970)
    file.family(
        "mvm_last_run_success",
        help: "1 when the last nightly run completed without a failure and was not interrupted, else 0.")
    file.sample("mvm_last_run_success", [], outcome.failures.isEmpty && !outcome.run.partial ? 1 : 0)
    return file.render()
}

/// Collects families in the order they are declared and their samples under
/// them; a family with no sample is left out entirely, and a repeated label
/// set keeps its first value (duplicates make Prometheus reject the file).
struct PrometheusTextfile {
    private struct Family {
        var name: String
        var help: String
        var lines: [String] = []
        var seen: Set<String> = []
    }

    let hostLabels: [(String, String)]
    private var families: [Family] = []

    init(hostLabels: [(String, String)]) {
        self.hostLabels = hostLabels
    }

    mutating func family(_ name: String, help: String) {
        guard !families.contains(where: { $0.name == name }) else { return }
        families.append(Family(name: name, help: help))
    }

    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Double) {
        guard value.isFinite, let index = families.firstIndex(where: { $0.name == name }) else { return }
        let labelText = (hostLabels + labels).map { "\($0.0)=\"\(Self.escapeLabelValue($0.1))\"" }.joined(
            separator: ",")
        guard families[index].seen.insert(labelText).inserted else { return }
        families[index].lines.append("\(name){\(labelText)} \(Self.format(value))")
    }

    func render() -> String {
        families.filter { !$0.lines.isEmpty }.map { family in
            (["# HELP \(family.name) \(Self.escapeHelp(family.help))", "# TYPE \(family.name) gauge"] + family.lines)
                .joined(separator: "\n")
        }.joined(separator: "\n") + "\n"
    }

    /// Label values escape backslash, double quote and line feed, and
    /// nothing else (the exposition format's rule).
    static func escapeLabelValue(_ text: String) -> String {
        var result = ""
        for character in text.unicodeScalars {
            switch character {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            default: result.unicodeScalars.append(character)
            }
        }
        return result
    }

    /// HELP text escapes backslash and line feed only.
    static func escapeHelp(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// The shortest text that reads back as the same Double ("0.1203",
    /// "62914560.0", "1.5e-05"): Go's ParseFloat, which Prometheus uses,
    /// reads all of these. Whole numbers print without a fraction.
    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
