/* Four worker threads serve requests; each appends an audit record to a
 * shared list under a mutex and never trims it. Per-request scratch memory
 * is freed. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "leakcheck.h"

struct audit { struct audit *next; int worker, request; char detail[200]; };
static struct audit *audit_log;
static pthread_mutex_t audit_lock = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg) {
    int id = (int)(long)arg;
    for (int request = 0; request < 500; request++) {
        char *scratch = malloc(4096); // @steady
        memset(scratch, request & 0xff, 4096);
        struct audit *entry = malloc(sizeof *entry); // @leak
        entry->worker = id;
        entry->request = request;
        memcpy(entry->detail, scratch, sizeof entry->detail);
        pthread_mutex_lock(&audit_lock);
        entry->next = audit_log;
        audit_log = entry;
        pthread_mutex_unlock(&audit_lock);
        free(scratch);
    }
    return NULL;
}

int main(void) {
    for (int phase = 0; phase < PHASES; phase++) {
        pthread_t threads[4];
        for (long i = 0; i < 4; i++)
            pthread_create(&threads[i], NULL, worker, (void *)i);
        for (int i = 0; i < 4; i++)
            pthread_join(threads[i], NULL);
        end_phase(phase);
    }
    return 0;
}
