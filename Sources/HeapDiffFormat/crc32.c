/* CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), the checksum in a
 * snapshot's END record. Written here rather than taken from zlib because the
 * preload library may depend on libc and libunwind only; the Swift reader
 * links this same file so writer and reader cannot disagree. Slicing-by-8:
 * eight table lookups per 8 bytes, so checksumming stays well below the cost
 * of writing the file. */
#include <string.h>
#include "heapdiff_format.h"

static uint32_t tables[8][256];
static int tables_ready;

static void tables_init(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        tables[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++)
        for (int t = 1; t < 8; t++)
            tables[t][n] = (tables[t - 1][n] >> 8) ^ tables[0][tables[t - 1][n] & 0xff];
    __atomic_store_n(&tables_ready, 1, __ATOMIC_RELEASE);
}

uint32_t hd_crc32_update(uint32_t crc, const void *data, size_t length) {
    /* Racing initialisations compute the same tables: harmless. */
    if (!__atomic_load_n(&tables_ready, __ATOMIC_ACQUIRE))
        tables_init();
    const unsigned char *p = data;
    crc = ~crc;
    while (length >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);     /* little-endian hosts, as the format */
        memcpy(&hi, p + 4, 4);
        lo ^= crc;
        crc = tables[7][lo & 0xff] ^ tables[6][(lo >> 8) & 0xff] ^ tables[5][(lo >> 16) & 0xff] ^
              tables[4][lo >> 24] ^ tables[3][hi & 0xff] ^ tables[2][(hi >> 8) & 0xff] ^
              tables[1][(hi >> 16) & 0xff] ^ tables[0][hi >> 24];
        p += 8;
        length -= 8;
    }
    while (length--)
        crc = tables[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}
