import MVMCore

/// One dimension as every rendering shows it: a title, how to read it,
/// tables of text for people, notes, and rows for the CSV. The terminal,
/// Markdown and HTML renderings draw the same section, so they cannot
/// disagree.
public struct DimensionSection: Sendable, Equatable {
    public var dimension: ComparisonDimension
    public var title: String
    /// One or two sentences: what was measured and how to read it.
    public var explanation: String
    /// Each table's first row is its header.
    public var tables: [[[String]]]
    public var notes: [String]
    public var csvRows: [DimensionCSVRow]
}

/// A row of the CSV export for a dimension: a figure's statistics (`summary`),
/// a ratio (`ratio`), or a single observed value (`value`).
public struct DimensionCSVRow: Sendable, Equatable {
    public var subject: String
    /// `<dimension>.<figure>`, e.g. `workload.cpu`, `teardown.released`.
    public var metric: String
    /// seconds, bytes, ratio, per-second, count or text.
    public var unit: String
    public var summary: SampleSummary?
    public var ratio: MedianRatio?
    public var value: String?
}

extension DimensionResults {
    /// The sections in report order.
    public var sections: [DimensionSection] {
        var sections = [isolation?.section, workload?.section, scaling?.section, size?.section, teardown?.section]
            .compactMap { $0 }
        for (name, reason) in (failures ?? [:]).sorted(by: { $0.key < $1.key }) {
            let dimension = ComparisonDimension(rawValue: name) ?? .boot
            sections.append(
                DimensionSection(
                    dimension: dimension, title: name, explanation: "could not be measured: \(reason)", tables: [],
                    notes: [],
                    csvRows: [DimensionCSVRow(subject: "-", metric: name + ".failure", unit: "text", value: reason)]))
        }
        return sections
    }
}

/// "1258.5 ms [1085.8, 1336.1]", or "-" without values.
func medianWithInterval(_ figure: MeasuredFigure) -> String {
    guard let summary = figure.summary else { return "-" }
    let interval = summary.medianConfidenceInterval
    return
        "\(formatMeasurement(summary.median, figure.unit)) [\(formatMeasurement(interval.lower, figure.unit, withUnit: false)), "
        + "\(formatMeasurement(interval.upper, figure.unit, withUnit: false))]"
}

/// "12.3x [11.0x, 13.1x]".
func ratioText(_ ratio: MedianRatio?) -> String {
    guard let ratio else { return "-" }
    return "\(formatDecimal(ratio.ratio, places: 2))x [\(formatDecimal(ratio.interval.lower, places: 2))x, "
        + "\(formatDecimal(ratio.interval.upper, places: 2))x]"
}

extension IsolationResult {
    var section: DimensionSection {
        var table = [["aspect"] + sides]
        for aspect in aspects { table.append([aspect.name] + sides.map { aspect.values[$0] ?? "-" }) }
        var rows: [DimensionCSVRow] = []
        for aspect in aspects {
            for side in sides {
                guard let value = aspect.values[side] else { continue }
                rows.append(
                    DimensionCSVRow(subject: side, metric: "isolation." + aspect.name, unit: "text", value: value))
            }
        }
        return DimensionSection(
            dimension: .isolation, title: "Isolation",
            explanation:
                "What each side is isolated by, observed on a running instance: the container's view read from inside it, "
                + "the VM's from its running domain and QEMU. Host syscalls: how many of the host kernel's system calls the "
                + "process that runs the workload (a container's init, gVisor's Sentry, the VM's QEMU) may make under its seccomp filter.",
            tables: [table], notes: failures.sorted { $0.key < $1.key }.map { "\($0.key): probe failed: \($0.value)" },
            csvRows: rows)
    }
}

extension WorkloadResult {
    var section: DimensionSection {
        var table = [["workload"] + sides]
        var rows: [DimensionCSVRow] = []
        for workload in workloads {
            table.append(
                [workload + " time"]
                    + sides.map { side in
                        figure(side: side, workload: workload).map { medianWithInterval($0.duration) } ?? "-"
                    })
            table.append(
                [workload + " ÷ host"]
                    + sides.map { side in
                        side == Self.hostSide ? "1x" : ratioText(figure(side: side, workload: workload)?.ratioToHost)
                    })
            for side in sides {
                guard let figure = figure(side: side, workload: workload) else { continue }
                rows.append(
                    DimensionCSVRow(
                        subject: side, metric: "workload." + workload, unit: "seconds", summary: figure.duration.summary
                    ))
                if let ratio = figure.ratioToHost {
                    rows.append(
                        DimensionCSVRow(subject: side, metric: "workload.\(workload)/host", unit: "ratio", ratio: ratio)
                    )
                }
            }
        }
        table.append(
            ["ok runs"]
                + sides.map { side in
                    let own = samples.filter { $0.side == side && !$0.warmup }
                    return "\(own.filter { $0.failure == nil }.count)/\(own.count)"
                })
        var notes = workloads.compactMap { workload in descriptions[workload].map { "\(workload): \($0)" } }
        notes += caveats
        for side in sides {
            for (reason, count) in Dictionary(failures(of: side).map { ($0, 1) }, uniquingKeysWith: +).sorted(by: {
                $0.key < $1.key
            }) {
                notes.append("\(side): \(count) failed run\(count == 1 ? "" : "s"): \(reason)")
            }
        }
        return DimensionSection(
            dimension: .workload, title: "Workload overhead",
            explanation:
                "The same workloads, from the same busybox, inside each side and directly on the host, \(runs) runs "
                + "each, interleaved. Times run from the workload's begin line to its end line as mvm receives them (one host "
                + "clock for every side); ÷ host is the ratio of medians with its 95% bootstrap interval (1x: no overhead).",
            tables: [table], notes: notes, csvRows: rows)
    }
}

extension ScalingResult {
    var section: DimensionSection {
        var table = [["side", "instances", "all ready", "launch rate", "total pss", "pss per instance", "failed"]]
        var rows: [DimensionCSVRow] = []
        for level in levels {
            table.append([
                level.side, "\(level.level)", medianWithInterval(level.allReady),
                level.launchRate.map { formatDecimal($0, places: 1) + "/s" } ?? "-",
                medianWithInterval(level.totalPSS), medianWithInterval(level.pssPerInstance),
                "\(level.failedInstances)/\(level.instances)",
            ])
            let prefix = "scaling.\(level.level)."
            rows.append(
                DimensionCSVRow(
                    subject: level.side, metric: prefix + "all-ready", unit: "seconds", summary: level.allReady.summary)
            )
            rows.append(
                DimensionCSVRow(
                    subject: level.side, metric: prefix + "launch-rate", unit: "per-second",
                    value: level.launchRate.map { "\($0)" }))
            rows.append(
                DimensionCSVRow(
                    subject: level.side, metric: prefix + "total-pss", unit: "bytes", summary: level.totalPSS.summary))
            rows.append(
                DimensionCSVRow(
                    subject: level.side, metric: prefix + "pss-per-instance", unit: "bytes",
                    summary: level.pssPerInstance.summary))
            rows.append(
                DimensionCSVRow(
                    subject: level.side, metric: prefix + "failed", unit: "count", value: "\(level.failedInstances)"))
        }
        var notes = stopped.sorted { $0.key < $1.key }.map { "\($0.key): stopped raising: \($0.value)" }
        if let memoryCapBytes {
            notes.append("memory cap: \(formatMeasurement(Double(memoryCapBytes), .bytes)) of summed PSS per side")
        }
        return DimensionSection(
            dimension: .scaling, title: "Scalability",
            explanation:
                "Each level starts that many instances of a side at once, \(runsPerLevel) time\(runsPerLevel == 1 ? "" : "s"), "
                + "both sides interleaved. All ready: from the start of the batch until the last instance was ready. Launch "
                + "rate: instances over that median time. Memory: PSS summed over the batch while all run.",
            tables: [table], notes: notes, csvRows: rows)
    }
}

extension SizeResult {
    var section: DimensionSection {
        var sizes = [["side", "part", "bytes", "gzip -6"]]
        var rows: [DimensionCSVRow] = []
        for artifact in artifacts {
            for part in artifact.parts {
                sizes.append([
                    artifact.side, part.name, formatMeasurement(Double(part.bytes), .bytes),
                    formatMeasurement(Double(part.gzipBytes), .bytes),
                ])
                rows.append(
                    DimensionCSVRow(
                        subject: artifact.side, metric: "size.\(part.name)", unit: "bytes", value: "\(part.bytes)"))
                rows.append(
                    DimensionCSVRow(
                        subject: artifact.side, metric: "size.\(part.name).gzip", unit: "bytes",
                        value: "\(part.gzipBytes)"))
            }
            sizes.append([
                artifact.side, "total", formatMeasurement(Double(artifact.bytes), .bytes),
                formatMeasurement(Double(artifact.gzipBytes), .bytes),
            ])
            rows.append(
                DimensionCSVRow(subject: artifact.side, metric: "size.total", unit: "bytes", value: "\(artifact.bytes)")
            )
            rows.append(
                DimensionCSVRow(
                    subject: artifact.side, metric: "size.total.gzip", unit: "bytes", value: "\(artifact.gzipBytes)"))
        }
        var needs = [["side", "the host must provide", "this host"]]
        for requirement in requirements {
            needs.append([
                requirement.side, requirement.requirement,
                (requirement.presentHere ? "yes: " : "no: ") + requirement.found,
            ])
            rows.append(
                DimensionCSVRow(
                    subject: requirement.side, metric: "requires." + requirement.requirement, unit: "text",
                    value: (requirement.presentHere ? "yes: " : "no: ") + requirement.found))
        }
        return DimensionSection(
            dimension: .size, title: "Portability and size",
            explanation:
                "The bytes each side ships (the VM: its kernel and initramfs; the container: its root filesystem as a "
                + "tar stream), as they are and gzipped, and what a host must provide to run each.",
            tables: [sizes, needs], notes: [], csvRows: rows)
    }
}

extension TeardownResult {
    var section: DimensionSection {
        var table = [[""] + sides]
        var rows: [DimensionCSVRow] = []
        table.append(["stop returned"] + figures.map { medianWithInterval($0.stopReturned) })
        table.append(["all released"] + figures.map { medianWithInterval($0.released) })
        let kinds = Set(figures.flatMap(\.releasedByKind.keys)).sorted()
        for kind in kinds {
            let label = kind == TeardownRunSample.processDeadKind ? "  process dead (zombie)" : "  \(kind) gone"
            table.append([label] + figures.map { $0.releasedByKind[kind].map(medianWithInterval) ?? "-" })
        }
        table.append(
            ["ok runs"]
                + figures.map { figure in
                    let own = samples.filter { $0.side == figure.side && !$0.warmup }.count
                    return "\(own - figure.failures.count)/\(own)"
                })
        for figure in figures {
            rows.append(
                DimensionCSVRow(
                    subject: figure.side, metric: "teardown.stop-returned", unit: "seconds",
                    summary: figure.stopReturned.summary))
            rows.append(
                DimensionCSVRow(
                    subject: figure.side, metric: "teardown.released", unit: "seconds", summary: figure.released.summary
                ))
            for kind in figure.releasedByKind.keys.sorted() {
                rows.append(
                    DimensionCSVRow(
                        subject: figure.side, metric: "teardown.released." + kind, unit: "seconds",
                        summary: figure.releasedByKind[kind]?.summary))
            }
        }
        var notes: [String] = []
        for figure in figures {
            for (reason, count) in Dictionary(figure.failures.map { ($0, 1) }, uniquingKeysWith: +).sorted(by: {
                $0.key < $1.key
            }) {
                notes.append("\(figure.side): \(count) failed run\(count == 1 ? "" : "s"): \(reason)")
            }
        }
        return DimensionSection(
            dimension: .teardown, title: "Teardown",
            explanation:
                "From the stop request until stop() returned, and until every host resource of the instance was gone "
                + "(processes, cgroups, the libvirt domain, sockets, runtime state), \(runs) runs per side, interleaved. The "
                + "rows below say when each kind of resource was seen gone; a process is dead when it exits and gone when its "
                + "parent has reaped it (QEMU's parent and the container's init's is the host's PID 1).",
            tables: [table], notes: notes, csvRows: rows)
    }
}
