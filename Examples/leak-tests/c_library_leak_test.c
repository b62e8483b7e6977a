/* A leak test for a C library function: call it many times per phase,
 * free what the API says the caller owns, and let `heapdiff check` find
 * what keeps growing anyway.
 *
 *   cc -g -O2 -I../../Sources/HeapDiffRecorder/include c_library_leak_test.c url_normalize.c -ldl
 *   heapdiff check -- ./a.out          # fails: url_normalize.c interns every host forever
 */
#include <stdio.h>
#include <stdlib.h>
#include "heapdiff.h"
#include "url_normalize.h"

static void normalize_one(void *context) {
    int *request = context;
    char url[96];
    snprintf(url, sizeof url, "https://Host-%d.Example.com/Path?q=%d", *request, *request);
    free(url_normalize(url));   /* the caller's part is freed */
    ++*request;
}

int main(void) {
    int request = 0;
    heapdiff_run_phases(5, 2000, normalize_one, &request);
    return 0;
}
