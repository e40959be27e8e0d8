import CSyscallProbe
import Foundation

/// Reaps the orphans mvm's instances leave: QEMU, which libvirt daemonizes
/// (its parent is gone by the time the domain runs), and a container's init,
/// which `runc create` leaves behind. Without a reaper of their own they
/// become PID 1's children, and on a host whose PID 1 reaps late (1.3-1.7 s
/// on the machines mvm is built on) a destroyed domain counts as running,
/// for libvirt too, until then: a libvirt destroy took 1.2-1.8 s instead of
/// 0.2 s. With systemd as PID 1 reaping is immediate and this changes nothing.
///
/// mvm becomes the child subreaper of its descendants (`enable`), and waits
/// for exactly the pids it adopts: never for "any child", so the children
/// libvirt, swift-subprocess and runc wait for themselves stay theirs.
public enum OrphanReaper {
    /// Makes this process the subreaper of its descendants, for the rest of
    /// its life. The command line calls it first thing; a library user may.
    /// Returns whether the process is one now.
    @discardableResult
    public static func enable() -> Bool {
        mvm_become_child_subreaper() == 0
    }

    public static var isEnabled: Bool { mvm_is_child_subreaper() == 1 }

    /// Reaps `pid` once it exits, if it is this process's child (an orphan
    /// adopted as subreaper). Otherwise, a child of another process (a
    /// libvirt daemon's QEMU) or of nobody any more, it does nothing.
    package static func adopt(_ pid: Int32) {
        guard pid > 0, isEnabled else { return }
        Thread.detachNewThread {
            reapWhenExited(pid)
        }
    }

    /// Blocks until `pid` has exited, then reaps it. `WNOWAIT` first, and
    /// only an exit is reaped: a ptrace-stop (the isolation probe reads
    /// QEMU's seccomp filters) stays for the tracer's own waitpid.
    private static func reapWhenExited(_ pid: Int32) {
        while true {
            var info = siginfo_t()
            let result = waitid(P_PID, id_t(pid), &info, WEXITED | WSTOPPED | WNOWAIT)
            if result != 0 {
                if errno == EINTR { continue }
                return  // ECHILD: not (or no longer) this process's child
            }
            let code = info.si_code
            if code == CLD_EXITED || code == CLD_KILLED || code == CLD_DUMPED {
                var reaped = siginfo_t()
                _ = waitid(P_PID, id_t(pid), &reaped, WEXITED | WNOHANG)
                return
            }
            // Stopped or trapped: the tracer's to collect; look again soon.
            Thread.sleep(forTimeInterval: 0.005)
        }
    }
}
