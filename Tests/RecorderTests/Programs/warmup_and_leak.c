/* For ~1.6 s, one request every 2 ms: a cache of 200 keys fills during the
 * first 0.4 s and then only hits (a plateau), while a request log leaks
 * 256 B per request for the whole run (steady growth). Snapshots come from
 * HEAPDIFF_INTERVAL. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct log_entry { struct log_entry *next; char text[240]; };
static struct log_entry *request_log;
static char *cache[200];

static void handle(int request) {
    int key = request % 200;
    if (!cache[key] && request < 200) {
        cache[key] = malloc(8192); // @site cache
        memset(cache[key], key, 8192);
    }
    struct log_entry *entry = malloc(sizeof *entry); // @site log
    memset(entry->text, 'x', sizeof entry->text);
    entry->next = request_log;
    request_log = entry;
}

int main(void) {
    struct timespec pause = {0, 2000000};
    for (int request = 0; request < 800; request++) {
        handle(request);
        nanosleep(&pause, NULL);
    }
    return 0;
}
