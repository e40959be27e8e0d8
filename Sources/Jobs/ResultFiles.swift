import Compare
import Foundation
import History
import MVMCore
import Reports

/// The files a comparison writes besides its table: the exports, the HTML
/// report and the Prometheus textfile. Each is written whole or not at all;
/// relative paths are taken from the current directory.
public struct ResultFiles: Sendable {
    public var json: String?
    public var csv: String?
    public var markdown: String?
    public var htmlReport: String?
    public var prometheus: String?

    public init(
        json: String? = nil, csv: String? = nil, markdown: String? = nil, htmlReport: String? = nil,
        prometheus: String? = nil
    ) {
        self.json = json
        self.csv = csv
        self.markdown = markdown
        self.htmlReport = htmlReport
        self.prometheus = prometheus
    }

    /// Every path given.
    public var paths: [String] { [json, csv, markdown, htmlReport, prometheus].compactMap { $0 } }

    /// Checks, before anything runs, that each file lands in an existing
    /// directory.
    public func checkDirectories() throws(ResultFileError) {
        for path in paths { try Self.checkDirectory(of: path) }
    }

    /// Checks that one result file lands in an existing directory.
    public static func checkDirectory(of path: String) throws(ResultFileError) {
        let directory = URL(fileURLWithPath: absolutePath(path)).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw ResultFileError(description: "cannot write \(path): \(directory) is not a directory")
        }
    }

    /// An A/B run's files: JSON, Markdown and its HTML page.
    public func write(_ report: ABReport) throws {
        if let json { try Self.write(try report.jsonData(), to: json) }
        if let markdown { try Self.write(Data(ABRendering(report).markdown().utf8), to: markdown) }
        if let htmlReport { try Self.write(Data(renderABHTML(report).utf8), to: htmlReport) }
    }

    /// A plain comparison's files: the exports and its HTML page.
    public func write(_ report: ComparisonReport) throws {
        try writeExports(report, json: { try report.jsonData() })
        if let htmlReport { try Self.write(Data(renderComparisonHTML(report).utf8), to: htmlReport) }
    }

    /// A recorded or judged run's files. Writes every one it can; returns
    /// what failed, one error per file.
    public func write(_ outcome: NightlyOutcome) -> [any Error] {
        var failures: [any Error] = []
        func attempt(_ body: () throws -> Void) {
            do { try body() } catch { failures.append(error) }
        }
        attempt { try writeExports(outcome.comparison, json: { try outcome.jsonData() }) }
        if let htmlReport { attempt { try Self.write(Data(renderHTMLReport(outcome).utf8), to: htmlReport) } }
        if let prometheus { attempt { try Self.write(Data(renderPrometheusTextfile(outcome).utf8), to: prometheus) } }
        return failures
    }

    private func writeExports(_ report: ComparisonReport, json makeJSON: () throws -> Data) throws {
        let rendering = ComparisonRendering(report)
        if let json { try Self.write(try makeJSON(), to: json) }
        if let csv { try Self.write(Data(rendering.csv().utf8), to: csv) }
        if let markdown { try Self.write(Data(rendering.markdown().utf8), to: markdown) }
    }

    /// Whole or not at all, and readable by its owner only: results name
    /// the host, its kernel and its CPU.
    public static func write(_ data: Data, to path: String) throws {
        try writeFileAtomically(data, to: absolutePath(path))
    }
}

/// A result file that cannot be written where it was asked for.
public struct ResultFileError: Error, CustomStringConvertible {
    public var description: String
}
