/* Allocates 40 x 256 B, prints its pid and "ready", then waits until stdin
 * closes, so a test can take snapshots from outside (`heapdiff snapshot`,
 * a signal). Arguments:
 *   own-handler    install its own SIGUSR2 handler first, and print how many
 *                  times it ran
 *   blank-environ  overwrite its arguments and environment in place, as
 *                  setproctitle does, so /proc/PID/environ tells nothing */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;
static volatile sig_atomic_t handled;
static void on_usr2(int sig) { (void)sig; handled++; }

/* The strings argv and environ point to are one contiguous area. */
static void set_process_title(int argc, char **argv, const char *title) {
    char *end = argv[argc - 1] + strlen(argv[argc - 1]);
    for (char **e = environ; *e; e++)
        if (*e == end + 1)
            end = *e + strlen(*e);
    memset(argv[0], 0, (size_t)(end - argv[0]));
    snprintf(argv[0], (size_t)(end - argv[0]), "%s", title);
}

int main(int argc, char **argv) {
    int own_handler = 0, blank = 0;
    for (int i = 1; i < argc; i++) {
        own_handler |= strcmp(argv[i], "own-handler") == 0;
        blank |= strcmp(argv[i], "blank-environ") == 0;
    }
    if (own_handler) {
        /* Unblocked too: a test runner's thread may block it, and its
         * children inherit that. */
        sigset_t usr2;
        sigemptyset(&usr2);
        sigaddset(&usr2, SIGUSR2);
        sigprocmask(SIG_UNBLOCK, &usr2, NULL);
        signal(SIGUSR2, on_usr2);
    }
    if (blank)
        set_process_title(argc, argv, "waiter: serving");
    for (int i = 0; i < 40; i++)
        (void)malloc(256); // @site waiting
    printf("pid=%d\nready\n", (int)getpid());
    fflush(stdout);
    char buf[64];
    while (read(0, buf, sizeof buf) > 0)
        ;
    printf("handled=%d\n", (int)handled);
    return 0;
}
