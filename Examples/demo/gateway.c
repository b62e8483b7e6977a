/* A toy API gateway with the two mundane leaks heapdiff exists for:
 * an unbounded response cache, and a registry of background tasks that is
 * added to and never drained. The request parser's scratch buffer and the
 * bounded ring of recent requests are steady and must not show up as growth.
 *
 * It takes a snapshot after warm-up and after each further batch through
 * heapdiff_snapshot_if_traced(), and runs fine without heapdiff too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "heapdiff.h"

struct response { char *url; char *body; size_t length; struct response *next; };
struct task { int request_id; char name[40]; struct task *next; };
enum { RECENT = 256, BATCH = 5000, BATCHES = 4 };

static struct response *response_cache;    /* never evicted: leak */
static struct task *background_tasks;      /* never drained: leak */
static char *recent[RECENT];               /* bounded: steady */

static char *parse_request(int id) {
    char *scratch = malloc(2048);          /* freed by the caller: steady */
    snprintf(scratch, 2048, "GET /items/%d?page=%d HTTP/1.1", id, id % 7);
    return scratch;
}

static void cache_response(const char *url, int id) {
    struct response *r = malloc(sizeof *r);
    r->url = strdup(url);
    r->length = 600 + (size_t)(id % 5) * 100;
    r->body = malloc(r->length);           /* the response body: the biggest leak */
    memset(r->body, 'x', r->length);
    r->next = response_cache;
    response_cache = r;
}

static void schedule_background_task(int id) {
    struct task *t = calloc(1, sizeof *t); /* registered, never removed */
    t->request_id = id;
    snprintf(t->name, sizeof t->name, "refresh-%d", id);
    t->next = background_tasks;
    background_tasks = t;
}

static void remember_recent(int id, const char *url) {
    free(recent[id % RECENT]);
    recent[id % RECENT] = strdup(url);
}

static void handle_request(int id) {
    char *request = parse_request(id);
    cache_response(request, id);
    if (id % 4 == 0)
        schedule_background_task(id);
    remember_recent(id, request);
    free(request);
}

int main(void) {
    int id = 0;
    for (; id < BATCH; id++)
        handle_request(id);
    heapdiff_snapshot_if_traced("warmed up");
    for (int batch = 1; batch <= BATCHES; batch++) {
        for (int end = id + BATCH; id < end; id++)
            handle_request(id);
        char label[32];
        snprintf(label, sizeof label, "after %d requests", id);
        heapdiff_snapshot_if_traced(label);
    }
    printf("gateway: served %d requests\n", id);
    return 0;
}
