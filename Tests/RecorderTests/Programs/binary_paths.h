/* Distinct stacks by the thousand, for the tests that need many: next(0,
 * PATH) descends LEVELS levels, each through one of two functions chosen by
 * a bit of PATH, and calls leaf() at the bottom, so that each PATH is its
 * own stack. The including program defines LEVELS and leaf() first. */
__attribute__((noinline)) static void descend_a(int level, unsigned path);
__attribute__((noinline)) static void descend_b(int level, unsigned path);

static void next(int level, unsigned path) {
    if (level == LEVELS) {
        leaf();
        return;
    }
    if (path >> level & 1)
        descend_b(level + 1, path);
    else
        descend_a(level + 1, path);
}
__attribute__((noinline)) static void descend_a(int level, unsigned path) {
    next(level, path);
    __asm__ volatile("" ::: "memory");   /* not a tail call: each level keeps its frame */
}
__attribute__((noinline)) static void descend_b(int level, unsigned path) {
    next(level, path);
    __asm__ volatile("" ::: "memory");
}
