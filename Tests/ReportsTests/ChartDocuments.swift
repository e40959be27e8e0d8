import Foundation
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The inline SVG charts of a page, each as a document of its own.
func chartDocuments(in html: String) -> [String] {
    html.components(separatedBy: "<svg ").dropFirst().map {
        "<svg " + ($0.components(separatedBy: "</svg>").first ?? "") + "</svg>"
    }
}

/// Every chart must parse as XML, hostile names and all: a broken SVG blanks
/// the chart in browsers that parse it strictly.
func expectWellFormedXML(_ charts: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    #if canImport(FoundationXML) || canImport(Darwin)
        for chart in charts {
            let parser = XMLParser(data: Data(chart.utf8))
            #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")", sourceLocation: sourceLocation)
        }
    #endif
}
