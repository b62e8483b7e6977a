/* Preloaded after the recorder: an allocator whose malloc is built on
 * another of its public entry points, memalign, called through the PLT
 * (and so through the recorder's memalign hook). The recorder must record
 * each block once, as the malloc it was asked for. */
#include <malloc.h>
#include <stdlib.h>

void *malloc(size_t size) {
    return memalign(16, size);
}
