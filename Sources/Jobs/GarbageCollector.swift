import ContainerShim
import Foundation
import MVMCore
import OCIImages
import VMM

/// Something an mvm left behind that nobody will remove: its owner process
/// is gone and it was not kept with `--keep`.
public struct Orphan: Sendable, Codable, Equatable {
    /// "domain", "qemu process", "container", "bundle", "console", "cgroup", "owner record".
    public var kind: String
    /// The instance it belonged to (`mvm-xxxxxxxx`).
    public var instance: String
    /// Where it is: a path, a URI, a pid.
    public var location: String

    public var description: String { "\(kind) \(location)" }
}

/// What `mvm gc` did, or would do with `--dry-run`.
public struct CollectionReport: Sendable, Codable, Equatable {
    public var orphans: [Orphan]
    /// What could not be checked or removed, with the reason.
    public var problems: [String]
    /// Running domains or containers named mvm-… that no owner record
    /// covers: kept by an mvm older than owner records, or started by hand.
    /// Listed, never removed: `mvm destroy NAME` removes one.
    public var unowned: [String]
}

/// Finds and removes what dead mvm processes left: domains, plain QEMU
/// processes, containers, bundles, console sockets, cgroup directories and
/// owner records. An instance whose owner runs, or that was kept, is never
/// touched, so gc is safe while another mvm measures; a kept instance that
/// stopped on its own leaves its record and files, which go.
public struct GarbageCollector: Sendable {
    public let stateDirectory: StateDirectory
    public let connectURI: String?

    public init(stateDirectory: StateDirectory, connectURI: String? = nil) {
        self.stateDirectory = stateDirectory
        self.connectURI = connectURI
    }

    /// The cheap check every command runs first: owner records whose owner is
    /// gone, and leftover files with no owner record at all. No libvirt, no
    /// runtime: it must not slow a command down or take the embedded
    /// driver's lock.
    public func quickScan() -> [String] {
        let records = OwnerRecords(stateDirectory: stateDirectory)
        let owned = Set(records.all().map(\.name))
        var names = Set(records.orphans().map(\.name))
        for (_, name) in leftoverFiles() where !owned.contains(name) { names.insert(name) }
        return names.sorted()
    }

    /// Finds every orphan; removes them unless `dryRun`.
    public func collect(dryRun: Bool) async -> CollectionReport {
        let records = OwnerRecords(stateDirectory: stateDirectory)
        let owners = records.all()
        let orphanOwners = owners.filter(\.isOrphan)
        let live = Set(owners.filter { !$0.isOrphan }.map(\.name))
        var report = CollectionReport(orphans: [], problems: [], unowned: [])

        // Domains: on each URI an orphan or a kept VM ran on, plus this
        // command's own.
        var domainURIs: [String?: [String]] = [connectURI: []]
        for owner in owners where owner.kind == "micro-vm" && (owner.isOrphan || owner.kept) {
            domainURIs[owner.connectURI, default: []].append(owner.name)
        }
        var runningInstances = Set<String>()
        // What runs where, for the kept instances: nil where it could not
        // be checked.
        var runningDomains: [String?: Set<String>] = [:]
        var runningContainers: Set<String>?
        for (uri, _) in domainURIs {
            do {
                let manager = try await DomainManager(uri: uri, stateDirectory: stateDirectory)
                let running = try manager.runningMVMDomains()
                runningDomains[uri] = Set(running)
                for name in running where !live.contains(name) {
                    guard orphanOwners.contains(where: { $0.name == name }) else {
                        runningInstances.insert(name)
                        report.unowned.append("domain \(name) on \(manager.uri)")
                        continue
                    }
                    report.orphans.append(Orphan(kind: "domain", instance: name, location: "\(name) on \(manager.uri)"))
                    if !dryRun {
                        do { try manager.destroyDomain(named: name) } catch {
                            report.problems.append("destroying \(name): \(error)")
                        }
                    }
                }
            } catch {
                report.problems.append("domains on \(uri ?? "the embedded driver") not checked: \(error)")
            }
        }

        // Plain QEMU processes a killed mvm started itself.
        for owner in orphanOwners {
            guard let pid = owner.childPID, let started = owner.childStartTime, processStartTime(pid) == started else {
                continue
            }
            report.orphans.append(Orphan(kind: "qemu process", instance: owner.name, location: "pid \(pid)"))
            if !dryRun { kill(pid, SIGKILL) }
        }

        // Containers in mvm's runtime root.
        do {
            let containers = try ContainerManager(stateDirectory: stateDirectory)
            let ids = try await containers.containerIDs()
            runningContainers = Set(ids)
            for id in ids where !live.contains(id) {
                guard orphanOwners.contains(where: { $0.name == id }) else {
                    runningInstances.insert(id)
                    report.unowned.append("container \(id)")
                    continue
                }
                report.orphans.append(Orphan(kind: "container", instance: id, location: id))
                if !dryRun {
                    do { try await containers.remove(id: id) } catch {
                        report.problems.append("removing container \(id): \(error)")
                    }
                }
            }
        } catch {
            report.problems.append("containers not checked: \(error)")
        }

        // gVisor's sandboxes, the engines' containers and Docker's imported trees.
        runningInstances.formUnion(
            await collectLadder(
                live: live, orphans: Set(orphanOwners.map(\.name)), dryRun: dryRun, report: &report))

        // Kept instances that are gone all the same (powered off from
        // inside, their init exited, the host restarted): nothing is kept
        // any more, so their records and files go too.
        let goneKept = owners.filter { owner in
            guard owner.kept else { return false }
            switch owner.kind {
            case "micro-vm": return runningDomains[owner.connectURI].map { !$0.contains(owner.name) } ?? false
            case "container": return runningContainers.map { !$0.contains(owner.name) } ?? false
            default: return false
            }
        }
        let finished = orphanOwners + goneKept

        // Files and cgroups of instances that belong to nobody alive (those
        // of an unowned domain or container stay with it). The orphans
        // removed above are gone by now: theirs go too.
        let keep = live.subtracting(goneKept.map(\.name)).union(runningInstances)
        // cgroups are the whole host's: only those of instances this state
        // directory knows (an orphan record, a leftover file) are its to take.
        let files = leftoverFiles()
        let known = Set(finished.map(\.name)).union(files.map(\.1))
        for (path, name) in files + leftoverCgroups().filter({ known.contains($0.1) }) where !keep.contains(name) {
            let kind = path.hasPrefix("/sys/fs/cgroup") ? "cgroup" : path.contains("/bundles/") ? "bundle" : "console"
            report.orphans.append(Orphan(kind: kind, instance: name, location: path))
            if !dryRun {
                do { try removeTree(path, cgroup: kind == "cgroup") } catch {
                    report.problems.append("removing \(path): \(error)")
                }
            }
        }
        // Image folders an mvm killed while unpacking left half made.
        for path in ImagePreparer.abandonedWork(in: stateDirectory) {
            report.orphans.append(Orphan(kind: "image unpack", instance: "-", location: path))
            if !dryRun {
                do { try FileManager.default.removeItem(atPath: path) } catch {
                    report.problems.append("removing \(path): \(error)")
                }
            }
        }
        for owner in finished {
            report.orphans.append(
                Orphan(kind: "owner record", instance: owner.name, location: "\(records.directory)/\(owner.name).json"))
            if !dryRun { records.remove(owner.name) }
        }
        return report
    }

    /// Bundles and console files in the state directory, with their instance.
    func leftoverFiles() -> [(String, String)] {
        var found: [(String, String)] = []
        for directory in ["bundles", "consoles"] {
            let path = stateDirectory.subdirectory(directory)
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
                if let name = instanceName(in: entry) { found.append((path + "/" + entry, name)) }
            }
        }
        return found.sorted { $0.0 < $1.0 }
    }

    /// cgroup directories libvirt made for mvm domains (machine/…-mvm-…)
    /// and those runc made for mvm containers (mvm/mvm-…), in every
    /// hierarchy.
    func leftoverCgroups() -> [(String, String)] {
        let root = "/sys/fs/cgroup"
        let hierarchies =
            [root] + ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).map { root + "/" + $0 }
        var found: [(String, String)] = []
        for hierarchy in hierarchies {
            for parent in ["machine", "mvm"] {
                let directory = hierarchy + "/" + parent
                for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
                    if let name = instanceName(in: entry) { found.append((directory + "/" + entry, name)) }
                }
            }
        }
        return found.sorted { $0.0 < $1.0 }
    }

    /// Removes the cgroup directories libvirt or runc left for `name`: a
    /// destroy whose QEMU was not reaped at once (its parent gone, this
    /// machine's pid 1 reaping late) leaves them, as libvirt's rmdir found
    /// them busy. What could not be removed, with the reason.
    func removeCgroups(of name: String) -> [String] {
        leftoverCgroups().filter { $0.1 == name }.compactMap { path, _ in
            do {
                try removeTree(path, cgroup: true)
                return nil
            } catch {
                return "removing \(path): \(error)"
            }
        }
    }

    /// Removes a file or directory tree; a cgroup tree goes bottom-up with
    /// rmdir (its files are the kernel's, not removable), and only while no
    /// process is in it.
    private func removeTree(_ path: String, cgroup: Bool) throws {
        guard cgroup else {
            try FileManager.default.removeItem(atPath: path)
            return
        }
        var isDirectory: ObjCBool = false
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
            let child = path + "/" + entry
            if FileManager.default.fileExists(atPath: child, isDirectory: &isDirectory), isDirectory.boolValue {
                try removeTree(child, cgroup: true)
            }
        }
        // A QEMU that was just killed leaves its cgroup busy until the
        // kernel has reaped it: give that a few seconds.
        for _ in 0..<30 {
            if rmdir(path) == 0 || errno == ENOENT { return }
            guard errno == EBUSY else { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw SystemFailure("rmdir", underlying: POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO))
    }
}

/// The `mvm-xxxxxxxx` an entry is named after ("mvm-1a2b3c4d.sock",
/// "qemu-embed-2-mvm-1a2b3c4d.libvirt-qemu"), if any.
func instanceName(in entry: String) -> String? {
    guard let range = entry.range(of: #"mvm-[0-9a-f]{8}"#, options: .regularExpression) else { return nil }
    return String(entry[range])
}
