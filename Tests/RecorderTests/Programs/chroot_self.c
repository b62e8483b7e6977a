/* A program that confines itself with chroot, as Postfix's smtpd or vsftpd
 * do: /proc is gone by path once it has. It then allocates, forks a child
 * that allocates too, and takes a snapshot in each (heapdiff_snapshot, found
 * with dlsym so the program runs bare as well). Usage: chroot_self ROOT */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *kept[300];

static void snapshot(const char *label) {
    int (*take)(const char *) = (int (*)(const char *))dlsym(RTLD_DEFAULT, "heapdiff_snapshot");
    if (take && take(label) != 0)
        fprintf(stderr, "snapshot %s failed\n", label);
}

__attribute__((noinline)) static void parent_keeps(int i) {
    kept[i] = malloc(1000);   // @site parent
    memset(kept[i], 1, 1000);
}

__attribute__((noinline)) static void child_keeps(int i) {
    kept[i] = malloc(500);   // @site child
    memset(kept[i], 2, 500);
}

int main(int argc, char **argv) {
    if (argc < 2 || chroot(argv[1]) != 0 || chdir("/") != 0) {
        perror("chroot");
        return 2;
    }
    if (access("/proc/self/status", R_OK) == 0) {
        fprintf(stderr, "/proc is still there\n");
        return 2;
    }
    for (int i = 0; i < 200; i++)
        parent_keeps(i);
    pid_t child = fork();
    if (child == 0) {
        for (int i = 200; i < 300; i++)
            child_keeps(i);
        snapshot("child");
        _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    snapshot("parent");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 3;
}
