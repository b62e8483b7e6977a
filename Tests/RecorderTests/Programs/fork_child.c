/* A multithreaded parent (4 threads churning malloc/free) forks 20 times.
 * Each child allocates 50 x 64 B at one line, takes a snapshot and exits:
 * no deadlock, and every child writes its own file, SEQ 1 under its own pid.
 * Prints the child pids, one per line. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "heapdiff.h"

static volatile int stop;

static void *churn(void *arg) {
    (void)arg;
    while (!stop) {
        void *p = malloc(32);
        free(p);
    }
    return NULL;
}

int main(void) {
    pthread_t threads[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&threads[i], NULL, churn, NULL);
    for (int round = 0; round < 20; round++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            for (int i = 0; i < 50; i++)
                (void)malloc(64); // @site child
            _exit(heapdiff_snapshot_if_traced("child") == 0 ? 0 : 3);
        }
        int status;
        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            return 2;
        printf("%d\n", (int)pid);
    }
    stop = 1;
    for (int i = 0; i < 4; i++)
        pthread_join(threads[i], NULL);
    return 0;
}
