/* A program that confines itself with seccomp once started, as OpenSSH's
 * privilege-separated child does: the filter allows what its own work
 * needs (the allocator's system calls, write, a sleep, exit) and kills the
 * process at any other system call. Before the filter it keeps 100 blocks
 * of 200 bytes; under it, it allocates, frees, sleeps past the writer
 * thread's tick, says it is done and exits 0. Under heapdiff it must end
 * the same way, not killed by SIGSYS.
 *
 *   seccomp_sandbox prctl   (prctl(PR_SET_SECCOMP), the calling thread)
 *   seccomp_sandbox tsync   (the seccomp system call through syscall(),
 *                            as libseccomp makes it, on every thread)
 *   seccomp_sandbox MODE SECONDS: says "ready" once confined, and waits
 *                            that long instead of 1.2 s (to be attached to) */
#define _GNU_SOURCE
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void *kept[100];

static __attribute__((noinline)) void load_config(void) {
    for (int i = 0; i < 100; i++)
        kept[i] = malloc(200);   // @site config
}

#define ALLOW(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

int main(int argc, char **argv) {
    load_config();
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        ALLOW(__NR_read), ALLOW(__NR_write), ALLOW(__NR_exit_group), ALLOW(__NR_exit), ALLOW(__NR_brk),
        ALLOW(__NR_mmap), ALLOW(__NR_munmap), ALLOW(__NR_mprotect), ALLOW(__NR_madvise), ALLOW(__NR_futex),
        ALLOW(__NR_getrandom), ALLOW(__NR_rt_sigreturn), ALLOW(__NR_clock_nanosleep), ALLOW(__NR_nanosleep),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    };
    struct sock_fprog program = {sizeof filter / sizeof filter[0], filter};
    int failed = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (!failed && argc > 1 && strcmp(argv[1], "tsync") == 0)
        failed = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &program);
    else if (!failed)
        failed = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program);
    if (failed) {
        perror("seccomp");
        return 2;
    }
    for (int i = 0; i < 10000; i++) {
        char *scratch = malloc(64 + i % 512);
        memset(scratch, i, 64);
        scratch = realloc(scratch, 1024);
        free(scratch);
    }
    /* Past the writer thread's tick (1 s): were it still running, its next
     * wait would be a system call the filter forbids. */
    struct timespec pause = {1, 200000000};
    if (argc > 2) {
        static const char ready[] = "ready\n";
        if (write(1, ready, sizeof ready - 1) < 0)
            return 3;
        pause = (struct timespec){atoi(argv[2]), 0};
    }
    clock_nanosleep(CLOCK_MONOTONIC, 0, &pause, NULL);
    static const char done[] = "sandboxed work done\n";
    if (write(1, done, sizeof done - 1) < 0)
        return 3;
    return 0;
}
