/* A deterministic service for sampled-versus-exact comparisons: each of
 * 20,000 requests allocates and frees scratch blocks of varied sizes (the
 * churn sampling must see through) and leaks into three caches of
 * different block sizes, plus a large block every 500 requests (larger
 * than a 64 KiB rate: recorded whole). One snapshot at the end ("load").
 * Live at the end, exactly: small 20,000 x 48 B, medium 20,000 x 400 B,
 * rows 20,000 x (1,000 + 37·(i mod 41)) B, large 40 x 100,000 B. */
#include <stdlib.h>
#include <string.h>
#include "heapdiff.h"

enum { REQUESTS = 20000 };

struct node { struct node *next; char body[40]; };
static struct node *small_list;
static void *medium[REQUESTS], *rows[REQUESTS], *large[REQUESTS / 500];

static void handle(int i) {
    char *scratch = malloc(2048 + (size_t)(i % 97) * 16); // @site scratch
    memset(scratch, i, 64);
    char *parts[8];
    for (int k = 0; k < 8; k++)
        parts[k] = malloc(24 + (size_t)((i + k) % 13) * 8); // @site parts
    for (int k = 0; k < 8; k++)
        free(parts[k]);
    struct node *n = malloc(sizeof *n); // @site small
    n->next = small_list;
    small_list = n;
    medium[i] = malloc(400); // @site medium
    rows[i] = malloc(1000 + (size_t)(i % 41) * 37); // @site rows
    if (i % 500 == 0)
        large[i / 500] = malloc(100000); // @site large
    free(scratch);
}

int main(void) {
    for (int i = 0; i < REQUESTS; i++)
        handle(i);
    return heapdiff_snapshot_if_traced("load") == 0 ? 0 : 1;
}
