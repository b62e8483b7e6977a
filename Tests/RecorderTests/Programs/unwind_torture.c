/* Stacks built to fool a stack cache: the recorder's stacks must equal
 * unw_backtrace's for every allocation (UnwindExactnessTests). Every block
 * is kept live, so a snapshot's traceback table covers every allocation.
 *
 *   unwind_torture [async]
 * Phases, each run on the main thread and then on 4 threads at once, all
 * from fixed seeds: alloca and VLA frames of varying size (two different
 * outer paths reaching the same allocating frame at the same address), one
 * call site reached at many depths (past the depth limit too), recursion
 * whose depth changes every round, longjmp out of deep frames, a signal
 * handler that allocates, raised from deep frames (on an alternate signal
 * stack on the main thread, on the thread's own stack on the others), and
 * realigned frames.
 * "async" adds a timer signal whose handler allocates wherever the main
 * thread happens to be (not deterministic: for the unw_backtrace check). */
#define _GNU_SOURCE
#include <alloca.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define NOINLINE __attribute__((noinline))
#define KEEP_FRAME() __asm__ volatile("" ::: "memory")

static __thread unsigned long long seed;
static unsigned next_random(void) {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return (unsigned)(seed >> 11);
}

/* Every block stays live: a snapshot then lists every allocation's stack. */
enum { KEPT_MAX = 1 << 20 };
static void *volatile kept[KEPT_MAX];   /* volatile: the compiler may not drop the mallocs */
static unsigned long kept_count;
static void keep(void *p) {
    unsigned long i = __atomic_fetch_add(&kept_count, 1, __ATOMIC_RELAXED);
    if (i < KEPT_MAX)
        kept[i] = p;
}

/* The one call site reached from everywhere. malloc must give errno back
 * as it found it, whichever of the recorder's paths (a proven stack, a
 * walk, unw_backtrace, a table growing) the allocation took. */
static volatile sig_atomic_t errno_changed;
static NOINLINE void leaf(size_t size) {
    int expected = 1000 + (int)size;
    errno = expected;
    keep(malloc(size));
    if (errno != expected)
        errno_changed = 1;
    KEEP_FRAME();
}

/* ---- alloca and VLAs ---------------------------------------------------- */
static NOINLINE void under_alloca(int depth) {
    if (depth == 0)
        leaf(24);
    else
        under_alloca(depth - 1);
    KEEP_FRAME();
}

static NOINLINE void outer_a(size_t bytes, int depth) {
    char *area = alloca(bytes);
    memset(area, 1, bytes);
    under_alloca(depth);
    __asm__ volatile("" : : "r"(area) : "memory");
}

static NOINLINE void outer_b(size_t bytes, int depth) {
    volatile char pad[48];
    pad[0] = 1;
    char *area = alloca(bytes);
    memset(area, 2, bytes);
    under_alloca(depth);
    __asm__ volatile("" : : "r"(area), "r"(pad) : "memory");
}

static NOINLINE void vla_level(int levels, unsigned r) {
    char vla[16 + (r % 61) * 8];
    memset(vla, 3, sizeof vla);
    if (levels == 0)
        leaf(32 + sizeof vla % 7);
    else if (r & 1)
        vla_level(levels - 1, r / 3 + 7);
    else
        outer_a((r % 17) * 16, levels % 3);
    __asm__ volatile("" : : "r"(vla) : "memory");
}

static void alloca_phase(int rounds) {
    for (int i = 0; i < rounds; i++) {
        unsigned r = next_random();
        /* The same allocating frame at the same address under different
         * outer frames: outer_a and outer_b differ by a fixed frame size,
         * and the alloca sizes cover it both ways. */
        if (r & 1)
            outer_a((r >> 1) % 64 * 16, (int)(r >> 8) % 3);
        else
            outer_b((r >> 1) % 64 * 16, (int)(r >> 8) % 3);
        vla_level((int)(r >> 12) % 5, r >> 4);
    }
}

/* ---- depths ------------------------------------------------------------- */
static NOINLINE void descend(int depth) {
    if (depth == 0)
        leaf(40);
    else
        descend(depth - 1);
    KEEP_FRAME();
}

static void depth_phase(int rounds) {
    for (int i = 0; i < rounds; i++)
        descend((int)(next_random() % 90));       /* past the 64-frame depth limit too */
    for (int round = 0; round < rounds; round++)
        descend((round * 7) % 41);                /* a depth that changes every round */
}

/* ---- longjmp ------------------------------------------------------------ */
static __thread jmp_buf *escape;

static NOINLINE void jump_from(int depth) {
    char scratch[24];
    memset(scratch, depth, sizeof scratch);
    leaf(16 + (size_t)depth);
    if (depth == 0)
        longjmp(*escape, 1);
    jump_from(depth - 1);
    __asm__ volatile("" : : "r"(scratch) : "memory");
}

static void longjmp_phase(int rounds) {
    jmp_buf here;
    escape = &here;
    for (volatile int i = 0; i < rounds; i++)
        if (setjmp(here) == 0)
            jump_from((int)(next_random() % 30));
    for (volatile int i = 0; i < rounds; i++)
        descend((int)(next_random() % 30));       /* over the stale frames */
}

/* ---- signals ------------------------------------------------------------ */
static NOINLINE void in_handler(int depth) {
    if (depth == 0)
        leaf(48);
    else
        in_handler(depth - 1);
    KEEP_FRAME();
}

static volatile sig_atomic_t handled;
static void on_signal(int sig) {
    (void)sig;
    int saved = errno;
    in_handler(3);
    handled++;
    errno = saved;
}

static NOINLINE void raise_from(int depth) {
    if (depth == 0) {
        raise(SIGUSR1);
        leaf(56);
    } else {
        raise_from(depth - 1);
    }
    KEEP_FRAME();
}

static void signal_phase(int rounds) {
    for (int i = 0; i < rounds; i++)
        raise_from((int)(next_random() % 25));
}

/* ---- realigned frames --------------------------------------------------- */
static NOINLINE void aligned_locals(int depth) {
    char block[96] __attribute__((aligned(64)));
    memset(block, depth, sizeof block);
    if (depth == 0)
        leaf(64);
    else
        aligned_locals(depth - 1);
    __asm__ volatile("" : : "r"(block) : "memory");
}

__attribute__((force_align_arg_pointer)) static NOINLINE void realigned(int depth) {
    char block[32] __attribute__((aligned(32)));
    memset(block, depth, sizeof block);
    aligned_locals(depth % 4);
    __asm__ volatile("" : : "r"(block) : "memory");
}

static void aligned_phase(int rounds) {
    for (int i = 0; i < rounds; i++)
        realigned((int)(next_random() % 9));
}

/* ---- all of it ---------------------------------------------------------- */
static void all_phases(unsigned long long start) {
    seed = start;
    alloca_phase(1500);
    depth_phase(800);
    longjmp_phase(800);
    signal_phase(300);
    aligned_phase(500);
}

static void *thread_main(void *arg) {
    all_phases(0x9E3779B97F4A7C15ull + (unsigned long long)(unsigned long)arg);
    return NULL;
}

/* The timer's handler allocates wherever it interrupts; the main thread
 * computes in deep frames and never allocates meanwhile. */
static volatile unsigned long spin_sink;
static NOINLINE void compute(int depth, unsigned r) {
    char *area = alloca(16 + r % 200);
    for (int i = 0; i < 50; i++)
        spin_sink += (unsigned long)area[i % 16] + (unsigned long)i;
    if (depth > 0)
        compute(depth - 1, r * 31 + 7);
    KEEP_FRAME();
}

static void async_phase(void) {
    struct itimerval every = {{0, 200}, {0, 200}};
    signal(SIGPROF, on_signal);
    setitimer(ITIMER_PROF, &every, NULL);
    for (sig_atomic_t start = handled; handled - start < 500;)
        compute((int)(next_random() % 20), next_random());
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_PROF, &off, NULL);
}

int main(int argc, char **argv) {
    static char alternate[64 * 1024];
    stack_t alt = {.ss_sp = alternate, .ss_size = sizeof alternate};
    sigaltstack(&alt, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    all_phases(0x2545F4914F6CDD1Dull);
    enum { THREADS = 4 };
    pthread_t threads[THREADS];
    for (long i = 0; i < THREADS; i++)
        pthread_create(&threads[i], NULL, thread_main, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    if (argc > 1 && strcmp(argv[1], "async") == 0)
        async_phase();
    printf("%lu blocks\n", kept_count);
    if (errno_changed) {
        fprintf(stderr, "unwind_torture: malloc changed errno\n");
        return 1;
    }
    return 0;
}
