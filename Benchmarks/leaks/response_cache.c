/* An API gateway caches every upstream response by URL and never evicts:
 * one entry and one body per distinct URL, forever. */
#include <stdlib.h>
#include <string.h>
#include "leakcheck.h"

struct response { char *url; char *body; struct response *next; };
static struct response *cache;

static const char *fetch_upstream(int id, size_t *length) {
    static char body[1500];
    memset(body, 'a' + id % 26, sizeof body);
    *length = 1000 + (size_t)(id % 5) * 100;
    return body;
}

static void serve(int id) {
    char url[64];
    snprintf(url, sizeof url, "/v1/items/%d", id);
    char *headers = malloc(512); // @steady
    snprintf(headers, 512, "GET %s", url);
    size_t length;
    const char *upstream = fetch_upstream(id, &length);
    struct response *r = malloc(sizeof *r); // @leak
    r->url = strdup(url); // @leak
    r->body = malloc(length); // @leak
    memcpy(r->body, upstream, length);
    r->next = cache;
    cache = r;
    free(headers);
}

int main(void) {
    int id = 0;
    for (int phase = 0; phase < PHASES; phase++) {
        for (int i = 0; i < 2000; i++)
            serve(id++);
        end_phase(phase);
    }
    return 0;
}
