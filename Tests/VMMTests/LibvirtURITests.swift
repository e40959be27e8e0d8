import MVMCore
import Testing

@testable import VMM

@Suite struct LibvirtURITests {
    @Test func partsOfARemoteURI() throws {
        let uri = try LibvirtURI(parsing: "qemu+ssh://root@host:2222/system?keyfile=/k&no_verify=1")
        #expect(uri.driver == "qemu")
        #expect(uri.transport == "ssh")
        #expect(uri.authority == "root@host:2222")
        #expect(uri.path == "/system")
        #expect(uri.parameter("keyfile") == "/k")
        #expect(uri.parameter("no_verify") == "1")
        #expect(uri.parameter("socket") == nil)
        #expect(!uri.isLocal && uri.isDaemon && !uri.isEmbedded)
        #expect(uri.description == "qemu+ssh://root@host:2222/system?keyfile=/k&no_verify=1")
    }

    @Test(arguments: [
        ("qemu:///embed?root=/var/lib/mvm/libvirt", true),
        ("qemu:///system", true),
        ("qemu+unix:///system", true),
        ("qemu://localhost/system", true),
        ("qemu+ssh://root@localhost:2222/system", true),
        ("qemu+ssh://host/system", false),
        ("qemu+tcp://10.0.0.1/system", false),
    ])
    func locality(text: String, local: Bool) throws {
        #expect(try LibvirtURI(parsing: text).isLocal == local)
    }

    @Test func theEmbeddedDriverHasARootAndNoAutoDestroy() throws {
        let uri = try LibvirtURI(parsing: "qemu:///embed?root=/s/libvirt")
        #expect(uri.isEmbedded && !uri.isDaemon)
        #expect(uri.embeddedRoot == "/s/libvirt")
        #expect(!uri.supportsAutoDestroy)
        #expect(LibvirtURI.embedded(root: "/s/libvirt") == uri)
        let system = try LibvirtURI(parsing: "qemu:///system")
        #expect(system.embeddedRoot == nil && system.supportsAutoDestroy)
    }

    @Test func onlyTheEmbeddedDriversQEMULogIsMvms() throws {
        #expect(
            try LibvirtURI(parsing: "qemu:///embed?root=/s/libvirt").embeddedQEMULogPath(domain: "mvm-1")
                == "/s/libvirt/log/qemu/mvm-1.log")
        #expect(try LibvirtURI(parsing: "qemu:///system").embeddedQEMULogPath(domain: "mvm-1") == nil)
    }

    @Test(arguments: [
        ("qemu:///embed?root=/s/libvirt", "/s/libvirt/run/qemu"),
        ("qemu:///system", "/run/libvirt/qemu"),
        ("qemu+unix:///system?socket=/run/libvirt/libvirt-sock", "/run/libvirt/qemu"),
        ("qemu:///session", "/run/user/7/libvirt/qemu/run"),
    ])
    func runDirectories(text: String, directory: String) throws {
        #expect(try LibvirtURI(parsing: text).qemuRunDirectory(runtimeDirectory: "/run/user/7") == directory)
    }

    @Test(arguments: ["qemu+ssh://h/system", "test:///default", "qemu:///embedded"])
    func noRunDirectory(text: String) throws {
        #expect(try LibvirtURI(parsing: text).qemuRunDirectory() == nil)
    }

    @Test(arguments: [
        "", "system", "qemu:/system", "://host/system", "qemu+://h/system", "qemu :///system", "qe/mu:///system",
    ])
    func notAURI(text: String) {
        let error = #expect(throws: VMMError.self) { try LibvirtURI(parsing: text) }
        #expect(
            error?.description
                == "\(text) is not a libvirt URI: use driver[+transport]://[host]/path, e.g. qemu:///system")
    }

    @Test(arguments: [
        ("qemu:///system", "qemu+unix:///system?socket=/run/libvirt/libvirt-sock"),
        ("qemu+unix:///system", "qemu+unix:///system?socket=/run/libvirt/libvirt-sock"),
        ("qemu:///session", "qemu+unix:///session?socket=/run/user/7/libvirt/libvirt-sock"),
        ("qemu:///system?mode=legacy", "qemu+unix:///system?mode=legacy&socket=/run/libvirt/libvirt-sock"),
        ("qemu:///system?socket=/x", "qemu:///system?socket=/x"),
        ("qemu:///embed?root=/r", "qemu:///embed?root=/r"),
        ("qemu+ssh://h/system", "qemu+ssh://h/system"),
        ("qemu://localhost/system", "qemu://localhost/system"),
        ("qemu:///systemd", "qemu:///systemd"),
    ])
    func systemAndSessionGoThroughTheDaemonSocket(text: String, routed: String) throws {
        let uri = try LibvirtURI(parsing: text)
        #expect(uri.routedThroughDaemon(runtimeDirectory: "/run/user/7", socketExists: { _ in false }).text == routed)
    }

    @Test func modularDaemonSocketWinsWhereItExists() throws {
        let routed = try LibvirtURI(parsing: "qemu:///system").routedThroughDaemon(socketExists: {
            $0 == "/run/libvirt/virtqemud-sock"
        })
        #expect(routed.text == "qemu+unix:///system?socket=/run/libvirt/virtqemud-sock")
    }

    @Test func instanceNamesAreUniqueAndPrefixed() {
        let names = Set((0..<200).map { _ in newInstanceName() })
        #expect(names.count == 200)
        #expect(names.allSatisfy { $0.hasPrefix("mvm-") && $0.count == 12 && $0.dropFirst(4).allSatisfy(\.isHexDigit) })
    }
}
