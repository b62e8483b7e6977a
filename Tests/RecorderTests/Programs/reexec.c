/* A service that executes itself again in its own pid, as haproxy does on a
 * reload: the first image keeps 10 blocks of 300 B before each of its two
 * snapshots, then executes this program again with "again"; the new image
 * keeps 20 blocks of 700 B before each of its three. Both images run the
 * same program under the same name, so their snapshot file names meet.
 * With "as-nobody" (run as root), the first image switches to user nobody
 * before the exec, as a worker dropping privileges does: the new image
 * cannot list the output directory (1733) to find the files there. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "heapdiff.h"

static void *kept[100];
static int kept_count;

static void keep(int count, size_t size) {
    for (int i = 0; i < count; i++)
        kept[kept_count++] = malloc(size); // @site kept
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "again") == 0) {
        for (int round = 0; round < 3; round++) {
            keep(20, 700);
            if (heapdiff_snapshot_if_traced("second image") != 0)
                return 10;
        }
        return 0;
    }
    for (int round = 0; round < 2; round++) {
        keep(10, 300);
        if (heapdiff_snapshot_if_traced("first image") != 0)
            return 10;
    }
    if (argc > 1 && strcmp(argv[1], "as-nobody") == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
        return 11;
    execl("/proc/self/exe", argv[0], "again", (char *)NULL);
    return 127;
}
