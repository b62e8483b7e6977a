/* Keeps 200 blocks of 1,000 bytes to its end: the real work of a launcher
 * (sh -c 'holds_at_exit; true', fakeroot) that runs it as a child. */
#include <stdlib.h>
#include <string.h>

void *kept[200];

int main(void) {
    for (int i = 0; i < 200; i++) {
        kept[i] = malloc(1000);   // @site held
        memset(kept[i], i, 1000);
    }
    return 0;
}
