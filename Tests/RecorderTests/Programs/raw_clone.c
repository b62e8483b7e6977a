/* Children made by clone without CLONE_VM, which run no fork handlers: by
 * syscall(SYS_clone) as vsftpd makes its sessions, by syscall(SYS_clone3),
 * and by glibc's clone() with a function and a stack. Each child keeps
 * blocks at its own line and ends (_exit, or its function returns). Then
 * ROUNDS more syscall clones while the recorder may be writing a snapshot
 * (run with a short HEAPDIFF_INTERVAL): each child allocates and must end.
 * Prints "ended N" with the number of children that ended by themselves.
 * Usage: raw_clone ROUNDS */
#define _GNU_SOURCE
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...);

static void *kept[64];

__attribute__((noinline)) static void by_syscall(void) {
    for (int i = 0; i < 10; i++)
        kept[i] = malloc(300);   // @site syscall
}

__attribute__((noinline)) static void by_clone3(void) {
    for (int i = 0; i < 20; i++)
        kept[i] = malloc(400);   // @site clone3
}

__attribute__((noinline)) static int by_function(void *arg) {
    for (int i = 0; i < 30; i++)
        kept[i] = malloc(500);   // @site function
    return arg == kept ? 0 : 7;
}

static int ended(pid_t child) {
    int status;
    if (child < 0 || waitpid(child, &status, __WALL) != child)
        return 0;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 0, count = 0;
    pid_t child = (pid_t)syscall(SYS_clone, SIGCHLD, NULL);
    if (child == 0) {
        by_syscall();
        _exit(0);
    }
    count += ended(child);

    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.exit_signal = SIGCHLD;
    child = (pid_t)syscall(SYS_clone3, &args, sizeof args);
    if (child == 0) {
        by_clone3();
        _exit(0);
    }
    count += ended(child);

    static char stack[256 * 1024] __attribute__((aligned(16)));
    child = clone(by_function, stack + sizeof stack, SIGCHLD, kept);
    count += ended(child);

    for (int i = 0; i < rounds; i++) {
        child = (pid_t)syscall(SYS_clone, SIGCHLD, NULL);
        if (child == 0) {
            free(malloc(100));
            _exit(0);
        }
        struct timespec deadline = {.tv_sec = 0, .tv_nsec = 0};
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        for (;;) {   /* a child stuck on a lock its parent's thread held never ends */
            int status;
            pid_t done = waitpid(child, &status, WNOHANG);
            if (done == child) {
                count += WIFEXITED(status) && WEXITSTATUS(status) == 0;
                break;
            }
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec - deadline.tv_sec > 5) {
                kill(child, SIGKILL);
                waitpid(child, &status, 0);
                break;
            }
            usleep(1000);
        }
        usleep(2000);
    }
    printf("ended %d\n", count);
    return 0;
}
