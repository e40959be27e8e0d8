import Compare
import Foundation
import History
import MVMCore

/// One scale and suffix for a whole axis or column, so that neighbouring
/// figures read in the same unit (never "980 ms" above "1.02 s").
struct DisplayUnit: Equatable {
    var divisor: Double
    var suffix: String

    /// Seconds as ms below 10 s (the usual range of a boot, and the terminal
    /// table's rule), bytes as MiB from 1 MiB up, ratios as ×.
    static func fitting(_ values: [Double], unit: SeriesUnit) -> DisplayUnit {
        let largest = values.filter(\.isFinite).map(abs).max() ?? 0
        switch unit {
        case .seconds:
            return largest < 10 ? DisplayUnit(divisor: 0.001, suffix: "ms") : DisplayUnit(divisor: 1, suffix: "s")
        case .bytes:
            return largest >= 1_048_576 || largest == 0
                ? DisplayUnit(divisor: 1_048_576, suffix: "MiB") : DisplayUnit(divisor: 1024, suffix: "KiB")
        case .ratio: return DisplayUnit(divisor: 1, suffix: "×")
        }
    }

    func scaled(_ value: Double) -> Double { value / divisor }

    /// The unit in an axis title: "ms", "MiB", and "ratio, ×", since a bare
    /// "(×)" there reads as a stray mark.
    var axisSuffix: String { suffix == "×" ? "ratio, ×" : suffix }

    /// "1203.4 ms", "60.2 MiB", "10.03×".
    func format(_ value: Double, places: Int? = nil) -> String {
        let scaled = scaled(value)
        let places = places ?? (suffix == "×" ? (abs(scaled) < 10 ? 2 : 1) : 1)
        return formatDecimal(scaled, places: places) + (suffix == "×" ? "×" : "\u{A0}" + suffix)
    }
}

/// A value of a series in the unit people expect for it.
func formatValue(_ value: Double, _ unit: SeriesUnit) -> String {
    guard value.isFinite else { return "–" }
    return DisplayUnit.fitting([value], unit: unit).format(value)
}

func formatValue(_ value: Double, _ unit: MetricUnit) -> String {
    formatValue(value, SeriesUnit(unit))
}

/// A p or q value: two significant digits, which is all a permutation test
/// with 10 000 resamples can say.
func formatProbability(_ value: Double?) -> String {
    guard let value, value.isFinite else { return "–" }
    if value < 0.0001 { return "<\u{A0}0.0001" }
    return String(format: "%.2g", value)
}

func formatZ(_ value: Double?) -> String {
    guard let value, value.isFinite else { return "–" }
    return formatDecimal(value, places: 1)
}

func formatChange(_ value: Double?) -> String {
    guard let value, value.isFinite else { return "–" }
    // "-0.0 %" says a direction the figure does not have.
    if abs(value) < 0.0005 { return "0.0\u{A0}%" }
    return signedPercent(value).replacingOccurrences(of: " ", with: "\u{A0}")
}

/// "2026-11-30 08:23 UTC": unambiguous across the hosts that run the job.
func formatDate(_ date: Date) -> String {
    utcFormatter("yyyy-MM-dd HH:mm 'UTC'").string(from: date)
}

/// "11-30", for axis labels.
func formatShortDate(_ date: Date) -> String {
    utcFormatter("MM-dd").string(from: date)
}

/// "11-30 08:36": for runs of which several fall on one day.
func formatShortTime(_ date: Date) -> String {
    utcFormatter("MM-dd HH:mm").string(from: date)
}

private func utcFormatter(_ format: String) -> DateFormatter {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = format
    return formatter
}

/// Okabe and Ito's colour-blind-safe palette. One colour per contender role
/// everywhere in the report; vermillion is kept for regressions.
enum Palette {
    static let blue = "#0072B2"
    static let orange = "#E69F00"
    static let sky = "#56B4E9"
    static let green = "#009E73"
    /// The host a workload also runs on directly: no contender, so no role.
    static let host = green
    static let purple = "#CC79A7"
    static let vermillion = "#D55E00"
    /// Okabe and Ito's yellow, darkened to read on white.
    static let ochre = "#A8870A"
    static let slate = "#5A6B7B"
    static let ink = "#222222"
    static let muted = "#666666"
    static let grid = "#E4E4E4"
    static let band = "#56B4E9"

    static func colour(of role: ContenderRole?) -> String {
        switch role {
        case .microVM: blue
        case .container: orange
        case .ordinaryVM: purple
        case .microVMReference: sky
        case .containerReference: green
        case .warmMicroVM: vermillion
        case .sandboxedContainer: ochre
        case .containerEngine: slate
        case nil: ink
        }
    }

    /// Phases are ordered, so a ramp from dark to light (told apart by
    /// lightness alone, whatever one's colour vision) that no contender
    /// colour collides with; the light end keeps the long last segment calm.
    static let phases = ["#0B2545", "#3E5C76", "#7D8FA3", "#B3A772", "#DCD3A6", "#F3EEDA"]

    static func decision(_ decision: Decision) -> (background: String, text: String) {
        switch decision {
        case .regression: (vermillion, "#FFFFFF")
        case .improvement: (green, "#FFFFFF")
        case .changed: ("#555555", "#FFFFFF")
        case .unexplainedStep: ("#F0E442", "#000000")
        case .unconfirmed: (orange, "#000000")
        case .ok: ("#E8E8E8", "#222222")
        case .warming: ("#FFFFFF", "#555555")
        }
    }
}

extension NightlyOutcome {
    /// The colour of a series: its contender's, or ink for a ratio.
    func colour(of series: SeriesKey) -> String {
        series.isRatio ? Palette.ink : Palette.colour(of: comparison.roles[series.subject])
    }
}

extension Decision {
    /// The order every table lists decisions in: what needs action first.
    var urgency: Int {
        switch self {
        case .regression: 0
        case .unexplainedStep: 1
        case .improvement: 2
        case .changed: 3
        case .unconfirmed: 4
        case .ok: 5
        case .warming: 6
        }
    }
}
