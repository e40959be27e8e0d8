import ContainerShim
import Testing

@Suite struct RunscPlatformTests {
    /// What Debian 12's runsc (2022) prints for -platform, and a newer one.
    @Test(arguments: [
        (
            "  -platform string\n    \tspecifies which platform to use: ptrace (default), kvm. (default \"ptrace\")\n",
            ["ptrace", "kvm"]
        ),
        (
            "  -platform string\n    \tspecifies which platform to use: systrap (default), kvm, ptrace. (default \"systrap\")\n",
            ["systrap", "kvm", "ptrace"]
        ),
        ("nothing about platforms", ["ptrace"]),
    ])
    func theFlagsHelpNamesThePlatforms(help: String, platforms: [String]) {
        #expect(RunscPlatforms.parse(flagsHelp: help) == platforms)
    }

    @Test func runscIsTheGVisorRuntime() {
        #expect(RuntimeSelection(argument: "runsc") == .runsc(platform: "ptrace"))
        #expect(RuntimeSelection(argument: "runsc", runscPlatform: "kvm") == .runsc(platform: "kvm"))
        #expect(RuntimeSelection(argument: "runsc").description == "runsc")
        #expect(
            ContainerError.runtimeNotFound(.runsc(platform: "ptrace")).description
                == "gVisor's runsc is not installed, which the gvisor contender needs; install it (apt-get install runsc) or leave gvisor out of --contenders"
        )
    }
}
