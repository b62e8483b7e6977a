/* A program that caps its own file sizes (RLIMIT_FSIZE 0, as OpenSSH's
 * privilege-separated child does before its sandbox) and ends normally:
 * any write to a file past the cap raises SIGXFSZ, whose default action
 * ends the process. Under heapdiff the exit snapshot cannot be written
 * then, and that must fail, not kill the program: it exits 0. It says it
 * is done before the cap, in case its stdout is a file too. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

static void *kept[200];

int main(void) {
    /* As a program started from a shell has it (a test runner may block it). */
    sigset_t xfsz;
    sigemptyset(&xfsz);
    sigaddset(&xfsz, SIGXFSZ);
    sigprocmask(SIG_UNBLOCK, &xfsz, NULL);
    signal(SIGXFSZ, SIG_DFL);
    for (int i = 0; i < 200; i++)
        kept[i] = malloc(100 + (size_t)i);
    puts("capped work done");
    fflush(stdout);
    struct rlimit none = {0, RLIM_INFINITY};
    if (setrlimit(RLIMIT_FSIZE, &none) != 0)
        return 3;
    for (int i = 0; i < 200; i++)
        kept[i] = realloc(kept[i], 300);
    return 0;
}
