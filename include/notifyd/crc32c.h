/* crc32c.h - CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the
 * checksum of the write-ahead log's records (wal.h). Table-driven, one byte
 * at a time: the log checksums what it writes once, at disk speed.
 * The check value of "123456789" is 0xE3069283.
 */
#ifndef NOTIFYD_CRC32C_H
#define NOTIFYD_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues a checksum: crc is 0 for a new one, or the result of an earlier
 * call over the preceding bytes. */
uint32_t nd_crc32c(uint32_t crc, const void *p, size_t n);

#endif
