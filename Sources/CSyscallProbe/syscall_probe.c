#include <sys/prctl.h>
#include "CSyscallProbe.h"
#include <stddef.h>
#include <sys/ptrace.h>
#include <sys/ioctl.h>

long mvm_ptrace_seize(pid_t pid) {
    return ptrace(PTRACE_SEIZE, pid, NULL, NULL);
}

long mvm_ptrace_interrupt(pid_t pid) {
    return ptrace(PTRACE_INTERRUPT, pid, NULL, NULL);
}

long mvm_ptrace_get_seccomp_filter(pid_t pid, unsigned long index, struct sock_filter *buffer, unsigned long capacity) {
    long count = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)index, NULL);
    if (count < 0 || buffer == NULL || (unsigned long)count > capacity) {
        return count;
    }
    return ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)index, buffer);
}

long mvm_ptrace_detach(pid_t pid, int signal) {
    return ptrace(PTRACE_DETACH, pid, NULL, (void *)(long)signal);
}

int mvm_become_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0UL, 0UL, 0UL);
}

int mvm_clear_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 0UL, 0UL, 0UL, 0UL);
}

int mvm_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0UL, 0UL, 0UL);
}

int mvm_copy_window_size(int from, int to) {
    struct winsize source, target;
    if (ioctl(from, TIOCGWINSZ, &source) != 0) return -1;
    if (ioctl(to, TIOCGWINSZ, &target) == 0 && source.ws_row == target.ws_row && source.ws_col == target.ws_col) {
        return 0;
    }
    return ioctl(to, TIOCSWINSZ, &source) == 0 ? 1 : -1;
}
