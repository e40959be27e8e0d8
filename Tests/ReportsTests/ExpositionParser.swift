/// A strict reader of the Prometheus text exposition format (0.0.4), enough
/// to hold mvm's textfile to the grammar: HELP and TYPE at most once per
/// family and before its samples, a family's samples together, label values
/// with only the three escapes, no series twice.
struct ExpositionSample: Hashable {
    var name: String
    var labels: [String: String]
    var value: Double
}

struct ExpositionError: Error, CustomStringConvertible {
    var line: Int
    var message: String
    var description: String { "line \(line): \(message)" }
}

enum ExpositionParser {
    static func parse(_ text: String) throws(ExpositionError) -> [ExpositionSample] {
        guard text.hasSuffix("\n") else {
            throw ExpositionError(line: 0, message: "the file must end with a line feed")
        }
        var help: Set<String> = []
        var types: [String: String] = [:]
        var closed: Set<String> = []
        var current: String?
        var seen: Set<String> = []
        var samples: [ExpositionSample] = []
        for (offset, line) in text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            let fail = { (message: String) in ExpositionError(line: number, message: message) }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
                guard parts.count >= 3, parts[0] == "#", ["HELP", "TYPE"].contains(parts[1]) else { continue }
                let name = parts[2]
                guard isMetricName(name) else { throw fail("bad metric name \(name)") }
                guard !closed.contains(name), current != name else {
                    throw fail("\(parts[1]) of \(name) after its samples")
                }
                if parts[1] == "HELP" {
                    guard help.insert(name).inserted else { throw fail("second HELP for \(name)") }
                } else {
                    guard types[name] == nil else { throw fail("second TYPE for \(name)") }
                    let kind = parts.count > 3 ? parts[3] : ""
                    guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(kind) else {
                        throw fail("bad type \(kind)")
                    }
                    types[name] = kind
                }
                continue
            }
            guard !line.isEmpty else { throw fail("empty line") }
            let sample = try parseSample(String(line), fail: fail)
            if current != sample.name {
                if let current { closed.insert(current) }
                guard !closed.contains(sample.name) else { throw fail("samples of \(sample.name) are not together") }
                current = sample.name
            }
            let key =
                sample.name + "{"
                + sample.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            guard seen.insert(key).inserted else { throw fail("duplicate series \(key)") }
            samples.append(sample)
        }
        return samples
    }

    private static func parseSample(_ line: String, fail: (String) -> ExpositionError) throws(ExpositionError)
        -> ExpositionSample
    {
        var characters = Array(line)
        var index = 0
        var name = ""
        while index < characters.count, characters[index] != "{", characters[index] != " " {
            name.append(characters[index])
            index += 1
        }
        guard isMetricName(name) else { throw fail("bad metric name \(name)") }
        var labels: [String: String] = [:]
        if index < characters.count, characters[index] == "{" {
            index += 1
            while index < characters.count, characters[index] != "}" {
                var label = ""
                while index < characters.count, characters[index] != "=" {
                    label.append(characters[index])
                    index += 1
                }
                guard isLabelName(label) else { throw fail("bad label name \(label)") }
                guard index + 1 < characters.count, characters[index + 1] == "\"" else {
                    throw fail("label \(label) has no quoted value")
                }
                index += 2
                var value = ""
                while true {
                    guard index < characters.count else { throw fail("unterminated value of \(label)") }
                    let character = characters[index]
                    if character == "\"" { break }
                    if character == "\\" {
                        guard index + 1 < characters.count else { throw fail("dangling backslash") }
                        switch characters[index + 1] {
                        case "\\": value.append("\\")
                        case "\"": value.append("\"")
                        case "n": value.append("\n")
                        default: throw fail("bad escape in \(label)")
                        }
                        index += 2
                        continue
                    }
                    value.append(character)
                    index += 1
                }
                guard labels.updateValue(value, forKey: label) == nil else { throw fail("label \(label) twice") }
                index += 1
                if index < characters.count, characters[index] == "," { index += 1 }
            }
            guard index < characters.count else { throw fail("unterminated label set") }
            index += 1
        }
        guard index < characters.count, characters[index] == " " else { throw fail("no space before the value") }
        characters.removeFirst(index + 1)
        let fields = String(characters).split(separator: " ")
        guard fields.count == 1 || fields.count == 2 else { throw fail("expected a value and an optional timestamp") }
        let text = String(fields[0])
        let value: Double? =
            ["+Inf": Double.infinity, "-Inf": -Double.infinity, "NaN": Double.nan][text] ?? Double(text)
        guard let value else { throw fail("bad value \(text)") }
        return ExpositionSample(name: name, labels: labels, value: value)
    }

    private static func isMetricName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first == "_" || first == ":" else {
            return false
        }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") }
    }

    private static func isLabelName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first == "_" else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }
}
