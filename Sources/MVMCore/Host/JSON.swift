import Foundation

/// JSON as mvm writes it everywhere: pretty, keys sorted, ISO 8601 dates.
public func mvmJSONData<Value: Encodable>(_ value: Value) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    return try encoder.encode(value)
}

/// The decoder for what `mvmJSONData` wrote.
public func mvmJSONDecoder() -> JSONDecoder {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return decoder
}
