/* A program whose thread sits in system calls with every vector register
 * (ymm0-ymm15) holding a pattern, for `heapdiff attach`: the attach stops
 * this thread (it never allocates, so it is taken as the idle one), runs
 * dlopen and the recorder's start in it, and must leave it as it was. The
 * pattern is loaded, the thread sleeps 20 ms (nanosleep) and asks whether
 * stdin has closed (poll), both as raw system calls so that no libc code
 * touches a vector register in between, and then compares: dlopen's string
 * functions use these registers and end with vzeroupper. It counts the
 * rounds whose registers changed and the system calls that returned an
 * error (a stop must restart them, never make them fail with EINTR), and
 * ends when stdin is closed. Exits 2 without AVX2. With AVX-512 each round
 * also holds a pattern in zmm16-zmm31 across a second nanosleep. */
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static unsigned char pattern[16 * 32] __attribute__((aligned(32)));

/* One round: the mask of bytes that kept their value (all ones: none
 * changed), and the two system calls' results. */
static unsigned round_trip(const struct timespec *pause, struct pollfd *input, long *slept, long *polled) {
    unsigned same;
    long sleep_result, poll_result;
    __asm__ volatile(
        "vmovdqu 0(%[pattern]), %%ymm0\n"
        "vmovdqu 32(%[pattern]), %%ymm1\n"
        "vmovdqu 64(%[pattern]), %%ymm2\n"
        "vmovdqu 96(%[pattern]), %%ymm3\n"
        "vmovdqu 128(%[pattern]), %%ymm4\n"
        "vmovdqu 160(%[pattern]), %%ymm5\n"
        "vmovdqu 192(%[pattern]), %%ymm6\n"
        "vmovdqu 224(%[pattern]), %%ymm7\n"
        "vmovdqu 256(%[pattern]), %%ymm8\n"
        "vmovdqu 288(%[pattern]), %%ymm9\n"
        "vmovdqu 320(%[pattern]), %%ymm10\n"
        "vmovdqu 352(%[pattern]), %%ymm11\n"
        "vmovdqu 384(%[pattern]), %%ymm12\n"
        "vmovdqu 416(%[pattern]), %%ymm13\n"
        "vmovdqu 448(%[pattern]), %%ymm14\n"
        "vmovdqu 480(%[pattern]), %%ymm15\n"
        "mov $35, %%eax\n"          /* nanosleep(pause, NULL) */
        "mov %[pause], %%rdi\n"
        "xor %%esi, %%esi\n"
        "syscall\n"
        "mov %%rax, %[slept]\n"
        "mov $7, %%eax\n"           /* poll(input, 1, 0) */
        "mov %[input], %%rdi\n"
        "mov $1, %%esi\n"
        "xor %%edx, %%edx\n"
        "syscall\n"
        "mov %%rax, %[polled]\n"
        "mov $-1, %%edx\n"
        "vpcmpeqb 0(%[pattern]), %%ymm0, %%ymm0\n"
        "vpmovmskb %%ymm0, %%ecx\n"
        "and %%ecx, %%edx\n"
        "vpcmpeqb 32(%[pattern]), %%ymm1, %%ymm1\n"
        "vpmovmskb %%ymm1, %%ecx\n"
        "and %%ecx, %%edx\n"
        "vpcmpeqb 64(%[pattern]), %%ymm2, %%ymm2\n"
        "vpmovmskb %%ymm2, %%ecx\n"
        "and %%ecx, %%edx\n"
        "vpcmpeqb 96(%[pattern]), %%ymm3, %%ymm3\n"
        "vpmovmskb %%ymm3, %%ecx\n"
        "and %%ecx, %%edx\n"
        "vpcmpeqb 128(%[pattern]), %%ymm4, %%ymm4\n"
        "vpmovmskb %%ymm4, %%ecx\n"
        "and %%ecx, %%edx\n"
        "vpcmpeqb 160(%[pattern]), %%ymm5, %%ymm5\n"
        "vpmovmskb %%ymm5, %%ecx\n"
        "and %%ecx, %%edx\n"
        "vpcmpeqb 192(%[pattern]), %%ymm6, %%ymm6\n"
        "vpmovmskb %%ymm6, %%ecx\n"
        "and %%ecx, %%edx\n"
        "vpcmpeqb 224(%[pattern]), %%ymm7, %%ymm7\n"
        "vpmovmskb %%ymm7, %%ecx\n"
        "and %%ecx, %%edx\n"
        "vpcmpeqb 256(%[pattern]), %%ymm8, %%ymm8\n"
        "vpmovmskb %%ymm8, %%ecx\n"
        "and %%ecx, %%edx\n"
        "vpcmpeqb 288(%[pattern]), %%ymm9, %%ymm9\n"
        "vpmovmskb %%ymm9, %%ecx\n"
        "and %%ecx, %%edx\n"
        "vpcmpeqb 320(%[pattern]), %%ymm10, %%ymm10\n"
        "vpmovmskb %%ymm10, %%ecx\n"
        "and %%ecx, %%edx\n"
        "vpcmpeqb 352(%[pattern]), %%ymm11, %%ymm11\n"
        "vpmovmskb %%ymm11, %%ecx\n"
        "and %%ecx, %%edx\n"
        "vpcmpeqb 384(%[pattern]), %%ymm12, %%ymm12\n"
        "vpmovmskb %%ymm12, %%ecx\n"
        "and %%ecx, %%edx\n"
        "vpcmpeqb 416(%[pattern]), %%ymm13, %%ymm13\n"
        "vpmovmskb %%ymm13, %%ecx\n"
        "and %%ecx, %%edx\n"
        "vpcmpeqb 448(%[pattern]), %%ymm14, %%ymm14\n"
        "vpmovmskb %%ymm14, %%ecx\n"
        "and %%ecx, %%edx\n"
        "vpcmpeqb 480(%[pattern]), %%ymm15, %%ymm15\n"
        "vpmovmskb %%ymm15, %%ecx\n"
        "and %%ecx, %%edx\n"
        "mov %%edx, %[same]\n"
        "vzeroupper\n"
        : [same] "=m"(same), [slept] "=m"(sleep_result), [polled] "=m"(poll_result)
        : [pattern] "r"(pattern), [pause] "r"(pause), [input] "r"(input)
        : "rax", "rcx", "rdx", "rdi", "rsi", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
    *slept = sleep_result;
    *polled = poll_result;
    return same;
}

/* The same for zmm16-zmm31, where the CPU has AVX-512: glibc's string
 * functions for it (the EVEX ones) use these instead of ymm0-ymm15, and an
 * attach that kept only the SSE or AVX state would lose them. */
static unsigned char wide[16 * 64] __attribute__((aligned(64)));

__attribute__((target("avx512f,avx512bw")))
static bool round_trip_wide(const struct timespec *pause, long *slept) {
    unsigned long same;
    long sleep_result;
    __asm__ volatile(
        "vmovdqu64 0(%[wide]), %%zmm16\n"
        "vmovdqu64 64(%[wide]), %%zmm17\n"
        "vmovdqu64 128(%[wide]), %%zmm18\n"
        "vmovdqu64 192(%[wide]), %%zmm19\n"
        "vmovdqu64 256(%[wide]), %%zmm20\n"
        "vmovdqu64 320(%[wide]), %%zmm21\n"
        "vmovdqu64 384(%[wide]), %%zmm22\n"
        "vmovdqu64 448(%[wide]), %%zmm23\n"
        "vmovdqu64 512(%[wide]), %%zmm24\n"
        "vmovdqu64 576(%[wide]), %%zmm25\n"
        "vmovdqu64 640(%[wide]), %%zmm26\n"
        "vmovdqu64 704(%[wide]), %%zmm27\n"
        "vmovdqu64 768(%[wide]), %%zmm28\n"
        "vmovdqu64 832(%[wide]), %%zmm29\n"
        "vmovdqu64 896(%[wide]), %%zmm30\n"
        "vmovdqu64 960(%[wide]), %%zmm31\n"
        "mov $35, %%eax\n"          /* nanosleep(pause, NULL) */
        "mov %[pause], %%rdi\n"
        "xor %%esi, %%esi\n"
        "syscall\n"
        "mov %%rax, %[slept]\n"
        "mov $-1, %%rdx\n"
        "vpcmpeqb 0(%[wide]), %%zmm16, %%k1\n"
        "kmovq %%k1, %%rcx\n"
        "and %%rcx, %%rdx\n"
        "vpcmpeqb 64(%[wide]), %%zmm17, %%k1\n"
        "kmovq %%k1, %%rcx\n"
        "and %%rcx, %%rdx\n"
        "vpcmpeqb 128(%[wide]), %%zmm18, %%k1\n"
        "kmovq %%k1, %%rcx\n"
        "and %%rcx, %%rdx\n"
        "vpcmpeqb 192(%[wide]), %%zmm19, %%k1\n"
        "kmovq %%k1, %%rcx\n"
        "and %%rcx, %%rdx\n"
        "vpcmpeqb 256(%[wide]), %%zmm20, %%k1\n"
        "kmovq %%k1, %%rcx\n"
        "and %%rcx, %%rdx\n"
        "vpcmpeqb 320(%[wide]), %%zmm21, %%k1\n"
        "kmovq %%k1, %%rcx\n"
        "and %%rcx, %%rdx\n"
        "vpcmpeqb 384(%[wide]), %%zmm22, %%k1\n"
        "kmovq %%k1, %%rcx\n"
        "and %%rcx, %%rdx\n"
        "vpcmpeqb 448(%[wide]), %%zmm23, %%k1\n"
        "kmovq %%k1, %%rcx\n"
        "and %%rcx, %%rdx\n"
        "vpcmpeqb 512(%[wide]), %%zmm24, %%k1\n"
        "kmovq %%k1, %%rcx\n"
        "and %%rcx, %%rdx\n"
        "vpcmpeqb 576(%[wide]), %%zmm25, %%k1\n"
        "kmovq %%k1, %%rcx\n"
        "and %%rcx, %%rdx\n"
        "vpcmpeqb 640(%[wide]), %%zmm26, %%k1\n"
        "kmovq %%k1, %%rcx\n"
        "and %%rcx, %%rdx\n"
        "vpcmpeqb 704(%[wide]), %%zmm27, %%k1\n"
        "kmovq %%k1, %%rcx\n"
        "and %%rcx, %%rdx\n"
        "vpcmpeqb 768(%[wide]), %%zmm28, %%k1\n"
        "kmovq %%k1, %%rcx\n"
        "and %%rcx, %%rdx\n"
        "vpcmpeqb 832(%[wide]), %%zmm29, %%k1\n"
        "kmovq %%k1, %%rcx\n"
        "and %%rcx, %%rdx\n"
        "vpcmpeqb 896(%[wide]), %%zmm30, %%k1\n"
        "kmovq %%k1, %%rcx\n"
        "and %%rcx, %%rdx\n"
        "vpcmpeqb 960(%[wide]), %%zmm31, %%k1\n"
        "kmovq %%k1, %%rcx\n"
        "and %%rcx, %%rdx\n"
        "mov %%rdx, %[same]\n"
        : [same] "=m"(same), [slept] "=m"(sleep_result)
        : [wide] "r"(wide), [pause] "r"(pause)
        : "rax", "rcx", "rdx", "rdi", "rsi", "r11", "k1", "memory", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");
    *slept = sleep_result;
    return same == ~0ul;
}

int main(void) {
    if (!__builtin_cpu_supports("avx2"))
        return 2;
    for (unsigned i = 0; i < sizeof pattern; i++)
        pattern[i] = (unsigned char)(i * 37 + 11);
    for (unsigned i = 0; i < sizeof wide; i++)
        wide[i] = (unsigned char)(i * 53 + 7);
    bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
    printf("ready\n");
    fflush(stdout);
    const struct timespec pause = {0, 20 * 1000 * 1000};
    long rounds = 0, changed = 0, failed = 0;
    for (;;) {
        struct pollfd input = {STDIN_FILENO, POLLIN, 0};
        long slept, polled;
        if (round_trip(&pause, &input, &slept, &polled) != 0xFFFFFFFFu)
            changed++;
        long slept_wide = 0;
        if (avx512 && !round_trip_wide(&pause, &slept_wide))
            changed++;
        if (slept != 0 || slept_wide != 0 || polled < 0)
            failed++;
        rounds++;
        char byte;
        if (polled > 0 && read(STDIN_FILENO, &byte, 1) <= 0)
            break;
    }
    printf("%s after %s rounds: %ld with vector registers changed, %ld system calls failed\n",
           changed || failed ? "broken" : "intact", rounds > 10 ? "many" : "few", changed, failed);
    return 0;
}
