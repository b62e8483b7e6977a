/* heapdiff_pause and heapdiff_resume: the blocks a paused thread makes are
 * not recorded, while the recorded blocks it frees or reallocates are
 * forgotten; pauses nest; other threads are recorded meanwhile; a fork
 * child keeps the pause of the thread that forked, and so does the parent.
 * Snapshots "parent" and "child"; exits 2 when a call returns what it
 * should not. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "heapdiff.h"

static void *volatile kept[64];

__attribute__((noinline)) static void *recorded_before(size_t n) {
    return malloc(n);   // @site before
}
__attribute__((noinline)) static void *made_while_paused(size_t n) {
    return malloc(n);   // @site paused
}
__attribute__((noinline)) static void *zeroed_while_paused(size_t n) {
    return calloc(1, n);   // @site paused_calloc
}
__attribute__((noinline)) static void *made_by_other_thread(size_t n) {
    return malloc(n);   // @site other_thread
}
__attribute__((noinline)) static void *made_after_resume(size_t n) {
    return malloc(n);   // @site after_resume
}
__attribute__((noinline)) static void *made_in_child_after_resume(size_t n) {
    return malloc(n);   // @site child_after_resume
}

static void *other(void *unused) {
    (void)unused;
    for (int i = 0; i < 5; i++)
        kept[50 + i] = made_by_other_thread(300);
    return NULL;
}

int main(void) {
    void *before[10];
    for (int i = 0; i < 10; i++)
        before[i] = recorded_before(100);

    int outer = heapdiff_pause_if_traced();
    int inner = heapdiff_pause_if_traced();
    if (outer != 0 || inner != 1)
        return 2;
    for (int i = 0; i < 8; i++)
        kept[i] = made_while_paused(200);
    kept[8] = zeroed_while_paused(40);
    for (int i = 0; i < 4; i++)   /* recorded blocks freed while paused: forgotten */
        free(before[i]);
    for (int i = 4; i < 7; i++) {   /* and moved: the old ones forgotten, the new ones not recorded */
        before[i] = realloc(before[i], 1000 + (size_t)i);
        memset(before[i], 1, 1000);
    }
    pthread_t thread;
    if (pthread_create(&thread, NULL, other, NULL) != 0 || pthread_join(thread, NULL) != 0)
        return 2;
    heapdiff_resume_if_traced(inner);   /* still paused: the outer pause holds */
    kept[9] = made_while_paused(200);

    pid_t child = fork();
    if (child == 0) {
        kept[10] = made_while_paused(200);
        heapdiff_resume_if_traced(outer);
        kept[11] = made_in_child_after_resume(80);
        _exit(heapdiff_snapshot_if_traced("child") == 0 ? 0 : 3);
    }
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return 2;
    kept[12] = made_while_paused(200);   /* the parent is paused after fork, as before it */
    heapdiff_resume_if_traced(outer);

    for (int i = 0; i < 6; i++)
        kept[20 + i] = made_after_resume(50);
    if (heapdiff_snapshot_if_traced("parent") != 0)
        return 2;
    for (int i = 4; i < 10; i++)
        free(before[i]);
    return 0;
}
