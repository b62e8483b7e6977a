/* A server in miniature: a master that forks workers, as nginx, gunicorn or
 * postgres do. Each process allocates at its marked line and prints its
 * role and pid; the master prints "ready" once every worker has, waits until
 * stdin closes, then closes the workers' pipe and waits for them. Arguments:
 *   workers=N  how many (default 2)
 *   drop-user  workers switch to nobody (uid and gid 65534) first, as nginx's
 *              do (needs root)
 *   close-fds  every process closes the descriptors above 2 it inherited,
 *              as daemons do */
#define _GNU_SOURCE
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void close_inherited(void) {
    syscall(SYS_close_range, 3u, ~0u, 0u);
}

static void worker(int work, int ready, int drop_user) {
    if (drop_user && (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)) {
        perror("worker: cannot switch to nobody");
        _exit(2);
    }
    for (int i = 0; i < 10; i++)
        (void)malloc(1000); // @site worker
    printf("worker=%d\n", (int)getpid());
    fflush(stdout);
    (void)!write(ready, "w", 1);
    char buf[16];
    while (read(work, buf, sizeof buf) > 0)
        ;
    exit(0);
}

int main(int argc, char **argv) {
    int workers = 2, drop_user = 0, close_fds = 0;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "workers=", 8) == 0)
            workers = atoi(argv[i] + 8);
        drop_user |= strcmp(argv[i], "drop-user") == 0;
        close_fds |= strcmp(argv[i], "close-fds") == 0;
    }
    if (close_fds)
        close_inherited();
    int work[2], ready[2];
    if (pipe(work) != 0 || pipe(ready) != 0)
        return 2;
    for (int i = 0; i < workers; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            close(work[1]);
            close(ready[0]);
            worker(work[0], ready[1], drop_user);
        }
    }
    close(work[0]);
    close(ready[1]);
    for (int i = 0; i < 20; i++)
        (void)malloc(500); // @site master
    char byte;
    for (int i = 0; i < workers; i++)
        if (read(ready[0], &byte, 1) != 1)
            return 2;
    printf("master=%d\nready\n", (int)getpid());
    fflush(stdout);
    char buf[64];
    while (read(0, buf, sizeof buf) > 0)
        ;
    close(work[1]);
    int status, failed = 0;
    while (wait(&status) > 0)
        failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    return failed;
}
