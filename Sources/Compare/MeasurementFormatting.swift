import Foundation
import MVMCore

/// Rows of cells as text columns, three spaces apart, for the terminal.
public func alignColumns(_ rows: [[String]]) -> [String] {
    let columns = rows.map(\.count).max() ?? 0
    let widths = (0..<columns).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
    return rows.map { row in
        row.enumerated().map { column, text in
            column == row.count - 1 ? text : text.paddedRight(to: widths[column])
        }.joined(separator: "   ").trimmingTrailingSpaces
    }
}

/// Seconds as ms below 10 s (the usual range of a boot), bytes as MiB.
public func formatMeasurement(_ value: Double, _ unit: MetricUnit, withUnit: Bool = true) -> String {
    switch unit {
    case .seconds:
        if value < 10 { return formatDecimal(value * 1000, places: 1) + (withUnit ? " ms" : "") }
        return formatDecimal(value, places: 2) + (withUnit ? " s" : "")
    case .bytes:
        return formatDecimal(value / 1_048_576, places: 1) + (withUnit ? " MiB" : "")
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }

    func replacingAll(_ target: Character, with replacement: String) -> String {
        var result = ""
        for character in self { if character == target { result += replacement } else { result.append(character) } }
        return result
    }
}
