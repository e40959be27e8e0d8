import Foundation

// The JSON that every history store keeps in its header, report, identity and
// verdict columns. One encoding for all stores, so that a run moved from one
// store to another (or read by a tool that knows one) reads the same.

/// `value` as stored: ISO 8601 dates, sorted keys (so equal values store as
/// equal text).
package func storedJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.dateEncodingStrategy = .iso8601
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// A value read back from the text `storedJSON` wrote.
package func decodeStoredJSON<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return try decoder.decode(type, from: Data(text.utf8))
}
