/* A pre-forking server in miniature: the parent forks two workers that each
 * take a snapshot after warm-up and one after their load (worker 1 keeps
 * 500 more 128-byte blocks, worker 2 1000), a third worker that takes none
 * and just exits, and a helper, `/bin/true`, forked and executed. The
 * parent takes no snapshot of its own, unless told `launcher`: then one
 * before it forks and one after its children ended, with nothing allocated
 * in between, as runuser or sudo would. Prints the children's pids in that
 * order. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "heapdiff.h"

static void *kept[2000];

static void work(int worker) {
    for (int i = 0; i < 100; i++)
        kept[i] = malloc(128); // @site warm
    heapdiff_snapshot_if_traced("warm");
    for (int i = 0; i < 500 * worker; i++)
        kept[100 + i] = malloc(128); // @site load
    heapdiff_snapshot_if_traced("loaded");
}

static pid_t start(int role) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    if (role == 3) {
        execl("/bin/true", "true", (char *)NULL);
        _exit(127);
    }
    if (role > 0)
        work(role);
    exit(0);   /* exit handlers run: each child writes its exit snapshot */
}

int main(int argc, char **argv) {
    int launcher = argc > 1 && argv[1][0] == 'l';
    if (launcher)
        heapdiff_snapshot_if_traced("started");
    pid_t children[4] = {start(1), start(2), start(0), start(3)};
    for (int i = 0; i < 4; i++) {
        int status;
        if (children[i] < 0 || waitpid(children[i], &status, 0) != children[i] || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            return 2;
    }
    if (launcher)
        heapdiff_snapshot_if_traced("ended");
    for (int i = 0; i < 4; i++)
        printf("%d\n", (int)children[i]);
    return 0;
}
