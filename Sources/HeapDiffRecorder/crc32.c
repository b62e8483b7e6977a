/* CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), the checksum in a
 * snapshot's END record. Written here rather than taken from zlib because the
 * preload library may depend on libc and libunwind only; the Swift reader
 * links this same file so writer and reader cannot disagree. */
#include "heapdiff_format.h"

static uint32_t crc_table[256];
static int crc_table_ready;

static void crc_table_init(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
    __atomic_store_n(&crc_table_ready, 1, __ATOMIC_RELEASE);
}

uint32_t hd_crc32_update(uint32_t crc, const void *data, size_t length) {
    /* Racing initialisations compute the same table: harmless. */
    if (!__atomic_load_n(&crc_table_ready, __ATOMIC_ACQUIRE))
        crc_table_init();
    const unsigned char *p = data;
    crc = ~crc;
    while (length--)
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}
