/* Daemonizes as servers do (nginx, memcached -d): forks, and the parent
 * exits at once; the child starts a session of its own, writes its pid to
 * the file given as argv[1], lets go of the standard streams and of the
 * descriptors it inherited (the test runner waits for one of them to close),
 * and serves until SIGTERM, which it ends with exit(0) as servers shut
 * down, holding 10 x 100 B; at most 60 s. With "stop" after the file, the
 * child then stops itself (SIGSTOP), before its recorder has made its
 * control socket: found only by the directory it holds open. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid > 0)
        return 0;
    setsid();
    void *held[10];
    for (int i = 0; i < 10; i++)
        held[i] = malloc(100);
    FILE *f = fopen(argv[1], "w");
    if (!f)
        return 1;
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    for (int fd = 3; fd < 64; fd++)   /* the recorder's own sit above 700 */
        close(fd);
    if (argc > 2 && argv[2][0] == 's')
        raise(SIGSTOP);
    signal(SIGTERM, on_term);
    alarm(60);
    while (!stop)
        pause();
    for (int i = 0; i < 10; i++)
        free(held[i]);
    return 0;
}
