/* A server that forks a worker, which serves and ends with _exit, and then
 * waits until it is killed: it never writes a snapshot of its own (a
 * signal left to its default action ends it unseen). Prints "worker PID"
 * and "ready". */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void *kept[50];

int main(void) {
    pid_t worker = fork();
    if (worker == 0) {
        for (int i = 0; i < 50; i++)
            kept[i] = malloc(400);   // @site worker
        _exit(0);
    }
    waitpid(worker, NULL, 0);
    printf("worker %d\nready\n", (int)worker);
    fflush(stdout);
    for (;;)
        pause();
}
