/* A program run as root that starts another with a real user that differs
 * from the effective one, as squid's master starts its kids (real user
 * proxy, effective user root): the new program runs in secure-execution
 * mode, where the loader ignores LD_PRELOAD's paths. Here the child sets
 * its real user to nobody, keeps root as its effective user, and executes
 * this program again with "child", which keeps 10 blocks of 100 bytes. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *kept[10];

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        for (int i = 0; i < 10; i++)
            kept[i] = malloc(100);
        return getuid() == 65534 && geteuid() == 0 ? 0 : 2;
    }
    pid_t child = fork();
    if (child == 0) {
        if (setresuid(65534, 0, 0) != 0)
            _exit(11);
        execl("/proc/self/exe", argv[0], "child", (char *)NULL);
        _exit(127);
    }
    int status;
    return child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
