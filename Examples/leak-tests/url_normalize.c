/* A small C "library" under test: normalizes URLs, and interns every host it
 * has seen in a table that is never cleared (the bug a leak test catches). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "url_normalize.h"

static char **hosts;
static size_t host_count;

static const char *intern_host(const char *host, size_t length) {
    for (size_t i = 0; i < host_count; i++)
        if (strlen(hosts[i]) == length && strncmp(hosts[i], host, length) == 0)
            return hosts[i];
    hosts = realloc(hosts, (host_count + 1) * sizeof *hosts);
    hosts[host_count] = strndup(host, length);   /* grows with every new host */
    return hosts[host_count++];
}

char *url_normalize(const char *url) {
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    size_t length = strcspn(host, "/");
    const char *interned = intern_host(host, length);
    size_t size = strlen(url) + 1;
    char *out = malloc(size);
    for (size_t i = 0; i < size; i++)
        out[i] = (char)tolower((unsigned char)url[i]);
    (void)interned;
    return out;
}
