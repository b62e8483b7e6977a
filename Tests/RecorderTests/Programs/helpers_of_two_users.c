/* A program run as root that starts helpers as two other users, one after
 * the other, as dovecot's master starts its login and mail processes: each
 * child switches to its user and executes this program again with
 * "helper", which keeps one block of 100 bytes and takes no snapshot, so
 * its exit snapshot is filed among the run's helpers. Prints the helpers'
 * pids. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *kept;

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "helper") == 0) {
        kept = malloc(100); // @site helper
        return kept ? 0 : 1;
    }
    const unsigned users[] = {65534, 65533};
    for (int i = 0; i < 2; i++) {
        fflush(stdout);
        pid_t child = fork();
        if (child == 0) {
            if (setgid(users[i]) != 0 || setuid(users[i]) != 0)
                _exit(11);
            execl("/proc/self/exe", argv[0], "helper", (char *)NULL);
            _exit(127);
        }
        int status;
        if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            return 1;
        printf("%d\n", (int)child);
    }
    return 0;
}
