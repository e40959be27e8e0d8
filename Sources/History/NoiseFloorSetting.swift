import Compare
import Foundation
import MVMCore

/// Why a noise floor setting was refused; the message says how to write one.
public struct NoiseFloorSettingError: Error, CustomStringConvertible, Equatable {
    public var description: String
}

extension VerdictSettings {
    /// Sets one contender metric's noise floor from "metric=percent"
    /// ("ready=8", "pss=3%"). A memory metric keeps the absolute floor of
    /// its unit (4 MiB); ratio series keep their own floor whatever is given
    /// here. The metric must be one mvm measures.
    public mutating func setNoiseFloor(_ entry: String) throws {
        let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty,
            let percent = Double(parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "% "))), percent >= 0,
            percent < 1000
        else {
            throw NoiseFloorSettingError(description: "\"\(entry)\" is invalid: write metric=percent, e.g. ready=8")
        }
        guard let metric = ComparisonSummary.metricOrder.first(where: { $0.name == parts[0] }) else {
            let names = ComparisonSummary.metricOrder.map(\.name).joined(separator: ", ")
            throw NoiseFloorSettingError(description: "\"\(entry)\" names no metric mvm measures: use one of \(names)")
        }
        metricFloors[metric.name] = NoiseFloor(
            relative: percent / 100, absolute: metric.unit == .bytes ? memoryFloor.absolute : 0)
    }
}
