/* Allocates 40 x 256 B, prints "ready", then waits until stdin closes, so a
 * test can take snapshots from outside (signal or `heapdiff snapshot`).
 * With argument "own-handler" it installs its own SIGUSR2 handler first and
 * prints how many times it ran. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t handled;
static void on_usr2(int sig) { (void)sig; handled++; }

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "own-handler") == 0)
        signal(SIGUSR2, on_usr2);
    for (int i = 0; i < 40; i++)
        (void)malloc(256); // @site waiting
    printf("ready\n");
    fflush(stdout);
    char buf[64];
    while (read(0, buf, sizeof buf) > 0)
        ;
    printf("handled=%d\n", (int)handled);
    return 0;
}
