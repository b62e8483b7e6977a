/* Processes that end by _exit, which runs no exit handler: a forked child
 * holding 7 x 300 B ends with _exit(3), a vfork child with _exit(4) (it
 * shares this process's memory and must write nothing), then the program
 * itself, holding 5 x 1000 B, with _exit(5) (or _Exit(5) with "Exit").
 * Prints its pid and the children's. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void *kept[8];   /* not static: the allocations must stay */

int main(int argc, char **argv) {
    for (int i = 0; i < 5; i++)
        kept[i] = malloc(1000);   // @site main_keep
    pid_t child = fork();
    if (child == 0) {
        for (int i = 0; i < 7; i++)
            kept[i] = malloc(300);   // @site child_keep
        _exit(3);
    }
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 3)
        return 1;
    pid_t vchild = vfork();
    if (vchild == 0)
        _exit(4);
    if (vchild < 0 || waitpid(vchild, &status, 0) != vchild || !WIFEXITED(status) || WEXITSTATUS(status) != 4)
        return 1;
    printf("pid=%d child=%d vchild=%d\n", (int)getpid(), (int)child, (int)vchild);
    fflush(stdout);
    if (argc > 1 && strcmp(argv[1], "Exit") == 0)
        _Exit(5);
    _exit(5);
}
