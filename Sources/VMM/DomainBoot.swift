import Foundation
import Logging
import MVMCore

/// A domain libvirt started, its console connected: running, or paused
/// for a warm pool to resume.
struct StartedDomain: Sendable {
    let domainTeardown: DomainTeardown
    let teardown: InstanceTeardown
    let console: SharedDescriptor
    let qemuPID: Int32?
    /// libvirt's debug log of the start, for a traced start of the
    /// embedded driver.
    var libvirtLog: String?
}

/// The steps of booting one domain that a `LaunchScope` does not already
/// do: the console, the domain itself, and the wait for its readiness line.
struct DomainBoot: Sendable {
    let description: DomainDescription
    let connection: Connection
    let configuration: MicroVMConfiguration
    let acceleratorChoice: AcceleratorChoice
    let logger: Logger

    /// Starts the domain and waits for its readiness line.
    func run(in scope: LaunchScope) async throws(VMMError) -> MicroVM {
        try await waitUntilReady(try await start(in: scope, paused: false), in: scope)
    }

    /// Creates the domain with its console connected, registering its
    /// teardown first. `paused` leaves it paused for a later resume (the
    /// warm pool; a socket console only). Otherwise it runs: a socket
    /// console listens before the domain exists, a libvirt stream attaches
    /// to a domain started paused that is then resumed.
    func start(in scope: LaunchScope, paused: Bool) async throws(VMMError) -> StartedDomain {
        let domainTeardown = DomainTeardown(
            connection: connection, name: description.name, logPath: description.consoleLogPath)
        let (uri, name) = (connection.uri, description.name)
        let teardown = scope.onTeardown(
            forceStop: { Self.killQEMU(uri: uri, name: name) },
            { try await onDedicatedThreadTyped { () throws(VMMError) in try domainTeardown.run() } })
        // A local daemon's debug log, for this one start.
        let daemonLogFile = logFile(name: name)
        var daemonLog: DaemonDebugLog?
        if scope.tracing, let adminURI = uri.daemonAdminURIs().first {
            daemonLog = await DaemonDebugLog.enable(adminURI: adminURI, file: daemonLogFile)
            scope.tracePoint(Self.daemonLogPoint)
        }
        do {
            var started = try await onDedicatedThreadTyped { () throws(VMMError) -> StartedDomain in
                try startBlocking(in: scope, paused: paused, domainTeardown: domainTeardown, teardown: teardown)
            }
            if let daemonLog {
                await daemonLog.restore()
                started.libvirtLog = Self.takeLog(at: daemonLogFile)
            }
            return started
        } catch {
            if daemonLog != nil {
                await daemonLog?.restore()
                unlink(daemonLogFile)
            }
            guard scope.wasForceStopped else { throw error }
            throw .system(
                SystemFailure(
                    "QEMU did not start within the timeout (\(formatSeconds(scope.timeout))): libvirt was still waiting for it, so mvm killed it (libvirt: \(error))",
                    advice: "raise the timeout if the host is busy, or check the QEMU binary"))
        }
    }

    /// Where libvirt writes its debug log of a traced start.
    private func logFile(name: String) -> String {
        configuration.stateDirectory.subdirectory("consoles") + "/" + name + ".libvirt.log"
    }

    /// Reads libvirt's debug log of a traced start, and removes it.
    private static func takeLog(at path: String) -> String? {
        defer { unlink(path) }
        return FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The trace point noted once a daemon's debug log is on.
    static let daemonLogPoint = "daemon-log-on"

    /// Waits for the readiness line of a domain whose vCPUs run, and hands
    /// the domain over as a `MicroVM`.
    func waitUntilReady(_ started: StartedDomain, in scope: LaunchScope) async throws(VMMError) -> MicroVM {
        try await onDedicatedThreadTyped { () throws(VMMError) -> MicroVM in
            let boot: BootRecord
            do throws(ReadinessFailure) {
                var record = try scope.waitForReadiness(
                    on: started.console, rule: configuration.readiness, echo: configuration.consoleEcho)
                if scope.tracing { record.trace = trace(of: record, started: started, in: scope) }
                boot = record
            } catch {
                // A domain started with autodestroy goes with its connection.
                if error.reason == .endOfOutput, !connection.isAlive {
                    throw .system(
                        SystemFailure(
                            "the connection to libvirt (\(connection.uri)) closed while the guest booted, and the domain went with it",
                            advice: "libvirtd restarted or stopped; run again once it is up"))
                }
                throw VMMError(error, accelerator: description.accelerator)
            }
            return MicroVM(
                description: description, uri: connection.uri, acceleratorChoice: acceleratorChoice, boot: boot,
                qemuPID: started.qemuPID, teardown: started.teardown, domainTeardown: started.domainTeardown,
                console: started.console)
        }
    }

    /// Blocking: runs on a dedicated thread.
    private func startBlocking(
        in scope: LaunchScope, paused: Bool, domainTeardown: DomainTeardown, teardown: InstanceTeardown
    ) throws(VMMError) -> StartedDomain {
        do throws(SystemFailure) {
            _ = try configuration.stateDirectory.ensureSubdirectory("consoles", permissions: 0o711)
        } catch {
            throw .system(error)
        }
        let uri = connection.uri
        var flags: DomainStartFlags = uri.supportsAutoDestroy && !configuration.keep ? [.autoDestroy] : []
        if paused { flags.insert(.paused) }
        var socket: ConsoleSocket?
        switch description.console {
        case .unixSocket(let path):
            let listening = try ConsoleSocket(path: path)
            domainTeardown.console.attach(.socket(listening))
            socket = listening
        case .libvirtStream:
            guard !paused else {
                throw .invalidConfiguration("a domain kept paused needs the socket console: a domain on this machine")
            }
            flags.insert(.paused)
        }
        logger.debug("starting domain", metadata: ["name": "\(description.name)", "uri": "\(uri)"])
        let domain: Domain
        var libvirtLog: String?
        let xml = description.xml()
        scope.tracePoint(Self.createPoint)
        if scope.tracing && uri.isEmbedded {
            // The embedded driver runs in this process: its debug log is
            // turned on for this one start.
            let logFile = logFile(name: description.name)
            defer { unlink(logFile) }
            let (created, captured) = try LibvirtDebugLog.capture(into: logFile) { () throws(VMMError) in
                try domainTeardown.createDomain(xml: xml, flags: flags)
            }
            domain = created
            libvirtLog = captured ? Self.takeLog(at: logFile) : nil
        } else {
            domain = try domainTeardown.createDomain(xml: xml, flags: flags)
        }
        if !paused { scope.mark(.started) }

        let console: SharedDescriptor
        var peerPID: Int32?
        if let socket {
            (console, peerPID) = try socket.acceptConnection(until: scope.deadline)
        } else {
            console = try attachStream(to: domain, console: domainTeardown.console)
            scope.mark(.resumed)
        }
        return StartedDomain(
            domainTeardown: domainTeardown, teardown: teardown, console: console,
            qemuPID: uri.isLocal ? Self.qemuPID(uri: uri, name: description.name) ?? peerPID : nil,
            libvirtLog: libvirtLog)
    }

    /// The trace point noted as mvm calls `virDomainCreateXML`.
    static let createPoint = "virDomainCreateXML"

    /// Where a traced start spent its time: mvm's preparation, libvirt's
    /// steps (from its log, for the embedded driver), QEMU, the kernel and
    /// the init (from the console).
    private func trace(of boot: BootRecord, started: StartedDomain, in scope: LaunchScope) -> BootTrace {
        let timeline = boot.timeline
        var trace = BootTrace(ready: timeline.offset(of: .ready)?.seconds ?? 0)
        let traced = scope.traced
        if timeline.offset(of: .started) == nil, let resumed = timeline.offset(of: .resumed)?.seconds {
            // A prepared domain (a warm pool's): the request was its resume.
            trace.add(
                TraceSpan(layer: .mvm, name: "resume the prepared domain (virDomainResume)", start: 0, end: resumed))
            ConsoleTrace.addGuest(console: traced.lines, guestStart: resumed, initStart: resumed, to: &trace)
            return trace
        }
        let returned = timeline.offset(of: .started)?.seconds ?? traced.points[Self.createPoint] ?? 0
        let libvirt = started.libvirtLog.flatMap {
            LibvirtStartTrace(lines: LibvirtStartTrace.lines(of: $0, requestedAt: boot.requestedAt))
        }
        let createStart = libvirt?.create.at ?? traced.points[Self.createPoint] ?? 0
        var prepared = 0.0
        if let logOn = traced.points[Self.daemonLogPoint] {
            trace.add(
                TraceSpan(
                    layer: .mvm, name: "turn the daemon's debug log on (virt-admin; tracing only)", start: 0,
                    end: logOn))
            prepared = logOn
        }
        trace.add(
            TraceSpan(
                layer: .mvm, name: "prepare: owner record, console, domain XML", start: prepared, end: createStart))
        if let libvirt {
            libvirt.add(to: &trace, returned: returned)
        } else {
            trace.add(TraceSpan(layer: .libvirt, name: "virDomainCreateXML", start: createStart, end: returned))
            trace.notes.append(
                connection.uri.isEmbedded
                    ? "libvirt's debug log could not be turned on in this process: its steps are one span"
                    : connection.uri.daemonAdminURIs().isEmpty
                        ? "libvirt's steps are in the log of \(connection.uri)'s daemon, which mvm does not read: they are one span"
                        : "the daemon's debug log could not be turned on (virt-admin needs the daemon's admin socket): libvirt's steps are one span"
            )
        }
        var guestStart = libvirt?.vcpusStarted ?? returned
        if let resumed = timeline.offset(of: .resumed)?.seconds {
            trace.add(
                TraceSpan(
                    layer: .mvm, name: "attach libvirt's console stream, then resume the vCPUs", start: returned,
                    end: resumed, detail: "QEMU's pty drops output until it sees a client"))
            guestStart = resumed
        }
        ConsoleTrace.addGuest(console: traced.lines, guestStart: guestStart, initStart: guestStart, to: &trace)
        return trace
    }

    /// How long a paused domain waits, once libvirt has opened its pty
    /// console, before its vCPUs run. QEMU drops what a pty serial port
    /// writes until it notices a client, and it looks once a second
    /// (chardev/char-pty.c, pty_chr_rearm_timer(chr, 1000)). Two looks'
    /// worth, so that one late look on a loaded host loses nothing.
    static let ptyAttachHold: Duration = .milliseconds(2100)

    /// Opens the console of a paused domain through libvirt, waits until QEMU
    /// can have seen the client, resumes the domain; returns the console.
    private func attachStream(to domain: Domain, console: GuestConsole) throws(VMMError) -> SharedDescriptor {
        let stream: Stream
        do throws(LibvirtError) {
            stream = try connection.makeStream()
            try domain.openConsole(into: stream)
        } catch {
            throw .libvirt(error)
        }
        let streamConsole = try StreamConsole(stream: stream)
        console.attach(.stream(streamConsole))
        Thread.sleep(forTimeInterval: Self.ptyAttachHold.seconds)
        do {
            try domain.resume()
        } catch {
            throw .libvirt(error)
        }
        return streamConsole.console
    }

    /// Kills the domain's QEMU on this machine (nothing for a remote URI):
    /// the process of libvirt's pid file, and any process whose `-name` is
    /// the domain's, which also finds a QEMU stopped before libvirt wrote
    /// the file. libvirt then sees its monitor close and fails what waited.
    static func killQEMU(uri: LibvirtURI, name: String) {
        guard uri.isLocal else { return }
        var pids = ForceStop.processes { arguments in
            arguments.contains { $0 == "guest=" + name || $0.hasPrefix("guest=" + name + ",") }
        }
        if let pid = qemuPID(uri: uri, name: name) { pids.append(pid) }
        ForceStop.kill(Array(Set(pids)))
    }

    /// The QEMU process of the running domain, from the pid file libvirt's
    /// QEMU driver keeps in its run directory.
    static func qemuPID(uri: LibvirtURI, name: String) -> Int32? {
        guard let runDirectory = uri.qemuRunDirectory() else { return nil }
        let text = readSmallFile(runDirectory + "/" + name + ".pid")
        return text.flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}
