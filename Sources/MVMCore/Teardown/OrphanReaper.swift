import CSyscallProbe
import Foundation

/// Reaps the orphans mvm's instances leave: QEMU, which libvirt daemonizes,
/// and a container's init, which `runc create` leaves behind. Without a
/// reaper of their own they become PID 1's children, and on a host whose
/// PID 1 reaps late (1.3-1.7 s on the machines mvm is built on) a destroyed
/// domain counts as running, for libvirt too, until then: a libvirt destroy
/// took 1.2-1.8 s instead of 0.2 s. With systemd as PID 1 reaping is
/// immediate and this changes nothing.
///
/// The reaper is a process of its own, as tini and dumb-init are: mvm starts
/// again as its child, and the parent, a child subreaper, does nothing but
/// reap whatever is orphaned below it (`waitpid(-1)`) and pass signals on.
/// The reaping cannot be done inside mvm's own process: libvirt (which runs
/// in it) and swift-subprocess wait for their own children there, and a
/// "reap any child" loop would take their children from under them, while
/// reaping only known pids leaves libvirt's other daemonized helpers (the
/// QEMU it probes for capabilities) unreaped, and libvirt waits for them.
public enum OrphanReaper {
    /// Set in the child's environment: this process runs under the reaper.
    public static let childMarker = "MVM_UNDER_REAPER"

    /// Runs the rest of this program as a child of a reaper process, unless
    /// it already is one or cannot be (the reaper then is not needed or not
    /// possible, and mvm runs as before). Returns in the child (or when no
    /// reaper is made); the reaper itself exits with the child's status.
    public static func becomeReapedChild(arguments: [String] = CommandLine.arguments) {
        let environment = ProcessInfo.processInfo.environment
        if environment[childMarker] != nil {
            // The reaper's death (even SIGKILL) ends mvm too, as it would
            // have ended mvm before there was a reaper.
            _ = mvm_set_parent_death_signal(SIGKILL)
            if getppid() == 1 { exit(137) }  // the reaper died before that
            return
        }
        guard mvm_become_child_subreaper() == 0 else { return }
        var childEnvironment = environment
        childEnvironment[childMarker] = "1"
        guard let child = spawnSelf(arguments: arguments, environment: childEnvironment) else {
            _ = mvm_clear_child_subreaper()
            return
        }
        reapUntilExit(of: child)
    }

    /// Starts this same executable again with `arguments` and `environment`.
    private static func spawnSelf(arguments: [String], environment: [String: String]) -> pid_t? {
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv + envp { free(pointer) }
        }
        // The child starts with no signal blocked, whatever this process
        // inherited (a test harness may block some): mvm's interrupt
        // handling must see SIGINT and SIGTERM.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        // The executable's own path, not /proc/self/exe: the child's process
        // name (comm) is the file's name, and `mvm` is what people and the
        // embedded driver's "in use by" message look for.
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "/proc/self/exe"
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, nil, &attributes, argv, envp)
        return status == 0 ? pid : nil
    }

    /// Passes signals on to `child` and reaps every process orphaned below
    /// this one until `child` exits; then exits with its status.
    private static func reapUntilExit(of child: pid_t) -> Never {
        reaperChild = child
        // A terminal's Ctrl-C reaches the whole foreground process group,
        // the child included: passing it on as well would interrupt mvm twice.
        let terminalSendsInterrupts = isatty(STDIN_FILENO) == 1 && tcgetpgrp(STDIN_FILENO) == getpgrp()
        let forwarded = [SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2] + (terminalSendsInterrupts ? [] : [SIGINT])
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for signalNumber in forwarded {
            signal(signalNumber, forwardSignal)
            sigaddset(&unblock, signalNumber)
        }
        if terminalSendsInterrupts { signal(SIGINT, SIG_IGN) }
        // Handlers run only for signals that are not blocked, and this
        // process may have inherited a mask that blocks them.
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, 0)
            if pid == -1 {
                if errno == EINTR { continue }
                exit(1)  // ECHILD: the child is gone without a status
            }
            guard pid == child else { continue }  // an orphan: reaped, nothing more
            if (status & 0x7f) == 0 { exit((status >> 8) & 0xff) }  // WIFEXITED: WEXITSTATUS
            exit(128 + (status & 0x7f))  // killed by a signal: the shell's convention
        }
    }
}

/// The child the reaper passes signals to; written once, before any handler
/// is installed, and read only by them.
nonisolated(unsafe) private var reaperChild: pid_t = 0

private func forwardSignal(_ signalNumber: Int32) {
    if reaperChild > 0 { kill(reaperChild, signalNumber) }
}
