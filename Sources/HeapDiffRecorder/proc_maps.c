/* /proc/self/maps read whole into the recorder's own pages, and the
 * protection of the mapping that holds an address (got_hooks.c makes a
 * read-only GOT page writable for one store, then puts it back). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "recorder.h"
#include "proc_maps.h"

bool hd_maps_load(struct hd_maps *m) {
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    m->length = 0;
    for (;;) {
        if (m->length + 4096 > m->capacity) {
            size_t capacity = m->capacity ? m->capacity * 2 : 1 << 20;
            char *bigger = hd_pages_alloc(capacity);
            if (!bigger) {
                close(fd);
                return false;
            }
            if (m->text)
                memcpy(bigger, m->text, m->length);
            hd_pages_free(m->text, m->capacity);
            m->text = bigger;
            m->capacity = capacity;
        }
        ssize_t n = read(fd, m->text + m->length, m->capacity - m->length - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        m->length += (size_t)n;
    }
    close(fd);
    m->text[m->length] = '\0';
    return m->length > 0;
}

static uintptr_t parse_hex(const char **p) {
    uintptr_t v = 0;
    for (;; (*p)++) {
        char c = **p;
        int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (digit < 0)
            return v;
        v = v * 16 + (uintptr_t)digit;
    }
}

/* PROT_* of the mapping that holds address, -1 when none does. */
int hd_maps_protection(const struct hd_maps *m, uintptr_t address) {
    for (const char *line = m->text; line && *line;) {
        const char *p = line;
        uintptr_t start = parse_hex(&p);
        if (*p++ != '-')
            return -1;
        uintptr_t end = parse_hex(&p);
        if (*p++ != ' ')
            return -1;
        if (address >= start && address < end)
            return (p[0] == 'r' ? PROT_READ : 0) | (p[1] == 'w' ? PROT_WRITE : 0) | (p[2] == 'x' ? PROT_EXEC : 0);
        line = strchr(p, '\n');
        if (line)
            line++;
    }
    return -1;
}
