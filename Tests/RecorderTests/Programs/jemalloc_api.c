/* jemalloc's own API, in every way a program uses it, built against Debian's
 * libjemalloc (no header needed: the prototypes are jemalloc's): the
 * recorder must count what is live through it exactly, and the program
 * must get what it asked for (alignment, zeroed memory). stdout: the bytes
 * the "resized" line keeps, which depend on whether jemalloc could grow
 * each block in place. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

void *mallocx(size_t size, int flags);
void *rallocx(void *ptr, size_t size, int flags);
size_t xallocx(void *ptr, size_t size, size_t extra, int flags);
void dallocx(void *ptr, int flags);
void sdallocx(void *ptr, size_t size, int flags);
#define ALIGN(a) (__builtin_ctz(a))   /* MALLOCX_ALIGN */
#define ZERO 0x40                     /* MALLOCX_ZERO */

static void *volatile keep;

int main(void) {
    for (int i = 0; i < 100; i++)
        keep = mallocx(1000, 0); // @site plain
    for (int i = 0; i < 50; i++) {
        unsigned char *p = mallocx(300, ZERO | ALIGN(64)); // @site aligned
        if ((uintptr_t)p % 64 != 0)
            return 2;
        for (int j = 0; j < 300; j++)
            if (p[j] != 0)
                return 3;
        keep = p;
    }
    void *sized[200];
    for (int i = 0; i < 200; i++)
        sized[i] = mallocx(64, 0); // @site sized
    for (int i = 0; i < 150; i++)
        sdallocx(sized[i], 64, 0);
    for (int i = 0; i < 40; i++) {
        char *p = mallocx(100, 0); // @site first
        p[99] = 'x';
        p = rallocx(p, 5000, 0); // @site grown
        if (!p || p[99] != 'x')
            return 4;
        keep = p;
    }
    unsigned long resized = 0;
    for (int i = 0; i < 30; i++) {
        void *p = mallocx(20000, 0); // @site resized
        resized += xallocx(p, 40000, 0, 0) >= 40000 ? 40000 : 20000;
        keep = p;
    }
    for (int i = 0; i < 25; i++)
        dallocx(mallocx(128, 0), 0); // @site gone
    for (int i = 0; i < 20; i++) {
        void *p = malloc(500); // @site malloced
        if (i % 2)
            dallocx(p, 0);
        else
            sdallocx(p, 500, 0);
    }
    printf("%lu\n", resized);
    return 0;
}
