/* An allocating signal handler on a small alternate stack: the recorder's
 * work inside the handler must take little more of that stack than the
 * allocation takes bare, or a handler that fits its stack bare would
 * overflow it under the recorder. The alternate stack is painted; each
 * signal is raised from a different depth and its handler keeps one block
 * of 200 bytes; the program prints the most of the stack any handler used
 * (build it with -z now: see RecorderCountTests). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "heapdiff.h"

enum { STACK = 64 * 1024, SIGNALS = 20, PAINT = 0xa5 };
static unsigned char *stack;
static void *kept[SIGNALS];
static volatile int handled;

static void on_signal(int sig) {
    (void)sig;
    kept[handled] = malloc(200); // @site handler
    handled++;
}

static __attribute__((noinline)) void raise_from(int depth) {
    if (depth == 0)
        raise(SIGUSR1);
    else
        raise_from(depth - 1);
    __asm__ volatile("" ::: "memory");
}

int main(void) {
    free(malloc(1));   /* the allocator set up outside the handler, bare too */
    stack = mmap(NULL, STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack == MAP_FAILED)
        return 1;
    memset(stack, PAINT, STACK);
    stack_t alt = {.ss_sp = stack, .ss_size = STACK};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_ONSTACK;
    if (sigaltstack(&alt, NULL) != 0 || sigaction(SIGUSR1, &sa, NULL) != 0)
        return 1;
    for (int i = 0; i < SIGNALS; i++)
        raise_from(i);
    size_t untouched = 0;
    while (untouched < STACK && stack[untouched] == PAINT)
        untouched++;
    printf("handlers used %zu bytes of the alternate stack\n", (size_t)STACK - untouched);
    int written = heapdiff_snapshot_if_traced("handled");
    return written == 0 || written == 1 ? 0 : 1;   /* 1: not traced */
}
