/* Stacks that make the per-thread memo store run out (stack_memo.c).
 *
 * A memo is keyed by the hook's frame address. Here each of 256 hook frame
 * addresses is reached from stacks 1 to 30 frames deep: an alloca above the
 * recursion is made smaller by one frame's size for each frame more, so the
 * allocation's stack pointer stays where it was. Depth by depth, in
 * lockstep, every remembered stack is replaced by a deeper one that no
 * longer fits in its memo, and sizes given back are never asked for again:
 * the store is used up and starts again. Each stack allocates 4 times, so
 * that its memo is proven 3 times (a set that only missed would be looked
 * in 1 time in 64). Built with -O0: frame pointers, no inlining.
 *
 *   memo_store_churn [ROUNDS]   (default 2) */
#include <alloca.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { BASES = 256, DEPTHS = 30, REPEATS = 4 };
static uintptr_t depth_zero_frame;
static unsigned long long allocations;

static __attribute__((noinline)) void down(int n) {
    if (n == 0) {
        depth_zero_frame = (uintptr_t)__builtin_frame_address(0);
        for (int i = 0; i < REPEATS; i++) {
            char *p = malloc(24 + (size_t)i);
            p[0] = 1;
            free(p);
            allocations++;
        }
    } else {
        down(n - 1);
    }
    __asm__ volatile("" ::: "memory");
}

/* PAD bytes of stack above N frames of down(); four copies, so that
 * neighbouring hook frames have stacks of their own (a memo proven for
 * the wrong one would show). */
#define AT(k)                                                               \
    static __attribute__((noinline)) void at##k(size_t pad, int n) {       \
        volatile char *room = alloca(pad);                                 \
        room[0] = 0;                                                       \
        down(n);                                                           \
        __asm__ volatile("" ::: "memory");                                 \
    }
AT(0) AT(1) AT(2) AT(3)
static void (*const at[])(size_t, int) = {at0, at1, at2, at3};

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 2;
    /* One frame of down(), measured: where depth 0's frame is with 0 and 1 frames above it. */
    at[0](4096, 0);
    uintptr_t none = depth_zero_frame;
    at[0](4096, 1);
    size_t frame = none - depth_zero_frame;
    if (frame == 0 || frame % 16 != 0 || frame * DEPTHS > 4096) {
        fprintf(stderr, "memo_store_churn: unexpected frame size %zu\n", frame);
        return 1;
    }
    for (int round = 0; round < rounds; round++)
        for (int n = 1; n <= DEPTHS; n++)
            for (size_t base = 0; base < BASES; base++)
                at[base % 4](8192 + 16 * base - frame * (size_t)n, n);
    printf("%llu allocations\n", allocations);
    return 0;
}
