/* The end of a service stopped by a supervisor that signals its whole
 * process group (timeout, systemd's KillMode, docker stop): heapdiff gets
 * SIGTERM again after the program has ended, while it writes its summary.
 * The program leaves a process behind that waits for the program's end and
 * then sends SIGTERM to heapdiff (the program's parent) every millisecond
 * for half a second. Keeps 10 blocks of 1000 bytes. */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

static void *kept[10];

int main(void) {
    for (int i = 0; i < 10; i++)
        kept[i] = malloc(1000); // @site kept
    pid_t heapdiff = getppid(), program = getpid();
    if (fork() == 0) {
        while (getppid() == program)
            usleep(500);
        for (int i = 0; i < 500; i++) {
            kill(heapdiff, SIGTERM);
            usleep(1000);
        }
        _exit(0);
    }
    return 0;
}
