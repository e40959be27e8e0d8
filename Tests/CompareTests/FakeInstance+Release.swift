import MVMCore

// In a file of its own, so that RunnerTests.swift stays as the runner's
// tests have it: the fake holds nothing on the host.
extension FakeInstance {
    func releaseProbe() -> ReleaseProbe { ReleaseProbe([]) }
}
