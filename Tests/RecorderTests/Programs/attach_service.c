/* A service that runs without heapdiff until `heapdiff attach` joins it:
 * three threads serve REQUESTS requests each (argument 1, default 4000), one
 * every 2 ms. Each request keeps an entry in a table that is never drained
 * (the leak: entry and body), indexes it in an array grown with realloc,
 * uses a scratch buffer it frees, and remembers its name in a bounded ring.
 * It counts the bodies whose malloc_usable_size shows far more room than
 * asked for (none from glibc; a sampled block's home would, were it shown).
 * "ready" goes to stdout once the threads run, then a summary that depends
 * only on the work done, so a run with an attach in the middle must
 * print exactly what a run without one prints. */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { THREADS = 3, RING = 64 };

struct entry { unsigned id, request; size_t size; char *body; char tag[40]; };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry **table;
static size_t table_count, table_capacity;
static char *ring[RING];
static unsigned ring_next;
static unsigned requests = 4000;
static unsigned roomy;

static void serve(unsigned id, unsigned request) {
    char *scratch = malloc(1024); // @site scratch
    snprintf(scratch, 1024, "/item/%u/%05u", id, request);
    struct entry *e = calloc(1, sizeof *e); // @site entry
    e->id = id;
    e->request = request;
    e->size = 512 + request % 64;
    e->body = malloc(e->size); // @site body
    memset(e->body, 'a' + request % 26, e->size);
    if (malloc_usable_size(e->body) >= e->size + 256)
        __atomic_add_fetch(&roomy, 1, __ATOMIC_RELAXED);
    memcpy(e->tag, scratch, 16);
    pthread_mutex_lock(&lock);
    if (table_count == table_capacity) {
        table_capacity = table_capacity ? table_capacity * 2 : 256;
        table = realloc(table, table_capacity * sizeof *table); // @site index
    }
    table[table_count++] = e;
    unsigned slot = ring_next++ % RING;
    free(ring[slot]);
    ring[slot] = malloc(32); // @site ring
    memcpy(ring[slot], scratch, 16);
    pthread_mutex_unlock(&lock);
    free(scratch);
}

static void *worker(void *arg) {
    unsigned id = (unsigned)(size_t)arg;
    struct timespec pause = {0, 2000000};
    for (unsigned n = 0; n < requests; n++) {
        serve(id, n);
        nanosleep(&pause, NULL);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 1)
        requests = (unsigned)strtoul(argv[1], NULL, 10);
    pthread_t threads[THREADS];
    for (unsigned i = 0; i < THREADS; i++)
        pthread_create(&threads[i], NULL, worker, (void *)(size_t)i);
    printf("ready\n");
    fflush(stdout);
    for (unsigned i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    unsigned long bytes = 0, checksum = 0;   /* the threads' order in the table varies: a sum does not */
    for (size_t i = 0; i < table_count; i++) {
        bytes += table[i]->size;
        checksum += ((unsigned long)table[i]->body[0] * 2654435761u) ^ (table[i]->id * 40503u + table[i]->request);
    }
    printf("served %zu requests: %lu bytes kept, %u roomy, checksum %lu\n", table_count, bytes, roomy, checksum);
    return 0;
}
