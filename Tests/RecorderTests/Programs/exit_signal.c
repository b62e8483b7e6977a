/* A SIGTERM that arrives while the exit snapshot is being written (a
 * service manager stopping the program as it exits): the process must end
 * by SIGTERM, as it would, and its exit snapshot must still be complete.
 * The program leaves 32,768 distinct stacks (15 levels, each one of two
 * functions), so that the snapshot takes several milliseconds to write (with
 * 8,192, a loaded two-core machine let ten tries in a row pass the window). Its last atexit
 * handler, which runs just before the recorder's, starts a thread that
 * waits for the snapshot's temporary file in HEAPDIFF_OUTPUT and then sends
 * SIGTERM to the process (by the system call: an external sender). Without
 * the recorder there is no file, and the program exits 0; so does it when
 * the thread was too late to see the file. */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { LEVELS = 15 };

void *kept[1 << LEVELS];   /* not static: the allocations must not be optimized away */
int count;

static void leaf(void) {
    kept[count++] = malloc(64); // @site leaf
}
#include "binary_paths.h"

static bool temporary_file_in(const char *path) {
    DIR *dir = opendir(path);
    if (!dir)
        return false;
    bool found = false;
    for (struct dirent *e; !found && (e = readdir(dir));)
        found = e->d_name[0] == '.' && strstr(e->d_name, ".tmp") != NULL;
    closedir(dir);
    return found;
}

static void *terminate_when_writing(void *output) {
    while (!temporary_file_in(output))
        sched_yield();
    syscall(SYS_kill, getpid(), SIGTERM);
    return NULL;
}

static void at_exit(void) {
    const char *output = getenv("HEAPDIFF_OUTPUT");
    pthread_t thread;
    if (output)
        pthread_create(&thread, NULL, terminate_when_writing, (void *)output);
}

int main(void) {
    for (unsigned path = 0; path < 1u << LEVELS; path++)
        next(0, path);
    atexit(at_exit);
    return 0;
}
