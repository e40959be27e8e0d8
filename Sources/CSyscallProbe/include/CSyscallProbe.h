#ifndef MVM_CSYSCALLPROBE_H
#define MVM_CSYSCALLPROBE_H
#include <sys/types.h>
#include <linux/filter.h>

/* ptrace(2) is variadic in C, and Swift cannot call variadic C functions:
   these wrappers give the few requests mvm makes fixed signatures. Each
   returns what ptrace returns (-1 with errno set on failure). */

/* PTRACE_SEIZE without options: attaches without stopping the tracee. */
long mvm_ptrace_seize(pid_t pid);

/* PTRACE_INTERRUPT: asks a seized tracee to enter a ptrace-stop; the caller
   then waits for it with waitpid(pid, &status, __WALL). */
long mvm_ptrace_interrupt(pid_t pid);

/* PTRACE_SECCOMP_GET_FILTER for filter `index` (0 is the filter installed
   last). Returns the filter's number of instructions and copies them into
   `buffer` only when it holds `capacity` of them or more: the kernel copies
   the whole program unconditionally, so calling with capacity 0 first is how
   the caller learns the size. Needs CAP_SYS_ADMIN, a tracee in a ptrace-stop,
   and a caller that is not itself under seccomp. */
long mvm_ptrace_get_seccomp_filter(pid_t pid, unsigned long index, struct sock_filter *buffer, unsigned long capacity);

/* PTRACE_DETACH, delivering `signal` (0 for none) to the tracee: a signal
   whose delivery-stop the tracer saw is otherwise lost. */
long mvm_ptrace_detach(pid_t pid, int signal);

/* prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants of this process
   (QEMU, which libvirt daemonizes; a container's init, which `runc create`
   leaves) become its children instead of PID 1's. prctl is variadic too.
   Returns 0, or -1 with errno set. */
int mvm_become_child_subreaper(void);

/* prctl(PR_SET_CHILD_SUBREAPER, 0): no longer one. */
int mvm_clear_child_subreaper(void);

/* prctl(PR_SET_PDEATHSIG, signal): the signal this process gets when its
   parent dies. Returns 0, or -1 with errno set. */
int mvm_set_parent_death_signal(int signal);

/* ioctl(2) is variadic too. Gives terminal `to` the window size of
   terminal `from` (TIOCGWINSZ, TIOCSWINSZ), so that a container's shell
   lays out its lines for the terminal it is shown in; the kernel then
   signals SIGWINCH to the foreground of `to`. Returns 1 when the size
   changed, 0 when it was the same already, -1 with errno set on failure. */
int mvm_copy_window_size(int from, int to);

#endif
