import Foundation
import MVMCore

/// One traced start to export: whose it was, when it was asked for, and
/// its trace.
public struct TracedStart: Sendable {
    public var contender: String
    public var requestedAt: Date
    public var trace: BootTrace

    public init(contender: String, requestedAt: Date, trace: BootTrace) {
        self.contender = contender
        self.requestedAt = requestedAt
        self.trace = trace
    }
}

/// The traces as an OpenTelemetry `ExportTraceServiceRequest` in OTLP's
/// JSON encoding (ids in hex, times as Unix nanoseconds in strings), so
/// that Jaeger, Tempo or any OTLP file reader shows them. One trace per
/// start: a root span from the request to readiness, the trace's spans
/// under it with their layer as the attribute `mvm.layer`.
public func renderOTLPTraces(_ starts: [TracedStart], host: String? = nil) throws -> Data {
    var generator = SystemRandomNumberGenerator()
    func identifier(bytes: Int) -> String {
        (0..<bytes).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }.joined()
    }
    var spans: [OTLPSpan] = []
    for start in starts {
        let traceID = identifier(bytes: 16)
        let origin = start.requestedAt.timeIntervalSince1970
        func nanoseconds(_ offset: Double) -> String {
            String(UInt64(max(0, (origin + offset) * 1e9).rounded()))
        }
        let rootID = identifier(bytes: 8)
        spans.append(
            OTLPSpan(
                traceId: traceID, spanId: rootID, parentSpanId: nil, name: "\(start.contender) start to ready",
                startTimeUnixNano: nanoseconds(0), endTimeUnixNano: nanoseconds(start.trace.ready),
                attributes: [.string("mvm.contender", start.contender), .double("mvm.coverage", start.trace.coverage)]
                    + start.trace.notes.map { .string("mvm.note", $0) }))
        let ids = start.trace.spans.map { _ in identifier(bytes: 8) }
        for (index, span) in start.trace.spans.enumerated() {
            var attributes: [OTLPAttribute] = [
                .string("mvm.layer", span.layer.rawValue), .string("mvm.contender", start.contender),
            ]
            if let detail = span.detail { attributes.append(.string("mvm.detail", detail)) }
            spans.append(
                OTLPSpan(
                    traceId: traceID, spanId: ids[index], parentSpanId: span.parent.map { ids[$0] } ?? rootID,
                    name: span.name, startTimeUnixNano: nanoseconds(span.start),
                    endTimeUnixNano: nanoseconds(span.end), attributes: attributes))
        }
    }
    var resource: [OTLPAttribute] = [.string("service.name", "mvm"), .string("service.version", mvmVersion)]
    if let host { resource.append(.string("host.name", host)) }
    let request = OTLPRequest(resourceSpans: [
        .init(
            resource: .init(attributes: resource),
            scopeSpans: [.init(scope: .init(name: "mvm.trace", version: mvmVersion), spans: spans)])
    ])
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return try encoder.encode(request)
}

private struct OTLPRequest: Encodable {
    struct ResourceSpans: Encodable {
        var resource: Resource
        var scopeSpans: [ScopeSpans]
    }
    struct Resource: Encodable { var attributes: [OTLPAttribute] }
    struct ScopeSpans: Encodable {
        var scope: Scope
        var spans: [OTLPSpan]
    }
    struct Scope: Encodable {
        var name: String
        var version: String
    }
    var resourceSpans: [ResourceSpans]
}

private struct OTLPSpan: Encodable {
    var traceId: String
    var spanId: String
    var parentSpanId: String?
    var name: String
    /// SPAN_KIND_INTERNAL.
    var kind = 1
    var startTimeUnixNano: String
    var endTimeUnixNano: String
    var attributes: [OTLPAttribute]

    init(
        traceId: String, spanId: String, parentSpanId: String?, name: String, startTimeUnixNano: String,
        endTimeUnixNano: String, attributes: [OTLPAttribute]
    ) {
        self.traceId = traceId
        self.spanId = spanId
        self.parentSpanId = parentSpanId
        self.name = name
        self.startTimeUnixNano = startTimeUnixNano
        self.endTimeUnixNano = endTimeUnixNano
        self.attributes = attributes
    }
}

private struct OTLPAttribute: Encodable {
    struct Value: Encodable {
        var stringValue: String?
        var doubleValue: Double?
    }
    var key: String
    var value: Value

    static func string(_ key: String, _ value: String) -> OTLPAttribute {
        OTLPAttribute(key: key, value: Value(stringValue: value))
    }

    static func double(_ key: String, _ value: Double) -> OTLPAttribute {
        OTLPAttribute(key: key, value: Value(doubleValue: value))
    }
}
