/* Allocator edge cases under the recorder: results, alignment and errno must
 * be exactly the real allocator's. Exits non-zero naming the first failure;
 * leaves a known set of live blocks for the test to count. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "heapdiff.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "edge_cases: check failed at line %d: %s\n", __LINE__, #cond); \
            return 1;                                                          \
        }                                                                      \
    } while (0)

static int aligned(void *p, size_t a) { return ((uintptr_t)p % a) == 0; }

int main(void) {
    /* malloc(0) gives a unique freeable pointer in glibc, and it is traced. */
    void *zero = malloc(0); // @site zero
    CHECK(zero != NULL);

    errno = 4321;
    free(NULL);
    CHECK(errno == 4321);
    void *p = malloc(10);
    errno = 4321;
    free(p);
    CHECK(errno == 4321);            /* free keeps errno (glibc >= 2.33) */

    /* realloc(NULL, n) is malloc(n); the block belongs to the realloc line. */
    void *grown = realloc(NULL, 48); // @site realloc_null
    CHECK(grown != NULL);
    memset(grown, 1, 48);
    grown = realloc(grown, 4096); // @site realloc_grow
    CHECK(grown != NULL && ((unsigned char *)grown)[47] == 1);

    /* realloc(p, 0) frees p in glibc and returns NULL. */
    void *dropped = malloc(77);
    CHECK(realloc(dropped, 0) == NULL);

    /* A failing realloc leaves the block alive and still traced. */
    void *kept = malloc(33); // @site realloc_fail_kept
    errno = 0;
    CHECK(realloc(kept, SIZE_MAX - 4096) == NULL && errno == ENOMEM);

    /* calloc overflow: NULL, ENOMEM, nothing recorded. */
    errno = 0;
    CHECK(calloc(SIZE_MAX / 2, 3) == NULL && errno == ENOMEM);
    errno = 0;
    CHECK(reallocarray(NULL, SIZE_MAX / 2, 3) == NULL && errno == ENOMEM);
    void *arr = reallocarray(NULL, 5, 8); // @site reallocarray
    CHECK(arr != NULL);

    unsigned char *z = calloc(16, 16); // @site calloc
    for (int i = 0; i < 256; i++)
        CHECK(z[i] == 0);

    /* The aligned family keeps its alignment and its error codes. */
    void *pm = NULL;
    CHECK(posix_memalign(&pm, 256, 100) == 0 && aligned(pm, 256)); // @site posix_memalign
    void *bad = (void *)1;
    CHECK(posix_memalign(&bad, 3, 100) == EINVAL && bad == (void *)1);
    void *aa = aligned_alloc(64, 128); // @site aligned_alloc
    CHECK(aa != NULL && aligned(aa, 64));
    void *ma = memalign(4096, 10); // @site memalign
    CHECK(ma != NULL && aligned(ma, 4096));
    void *va = valloc(100); // @site valloc
    CHECK(va != NULL && aligned(va, 4096));
    void *pv = pvalloc(100); // @site pvalloc
    CHECK(pv != NULL && aligned(pv, 4096));

    /* A huge malloc fails with ENOMEM and is not recorded. */
    errno = 0;
    CHECK(malloc(SIZE_MAX - 100) == NULL && errno == ENOMEM);

    CHECK(heapdiff_snapshot_if_traced("edges") == 0);
    printf("edge cases ok\n");
    return 0;
}
