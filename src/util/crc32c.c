/* crc32c.c - CRC-32C with a 256-entry table built on first use. */
#include "notifyd/crc32c.h"

static uint32_t table[256];
static int table_ready;

static void build_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ UINT32_C(0x82F63B78) : c >> 1;
        table[i] = c;
    }
    table_ready = 1;
}

uint32_t nd_crc32c(uint32_t crc, const void *p, size_t n)
{
    if (!table_ready)
        build_table();
    const unsigned char *s = p;
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = table[(crc ^ s[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}
