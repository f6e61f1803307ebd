/* Tests of crc32c.c: the standard check value and known vectors (RFC 3720
 * appendix B.4, iSCSI), and that a checksum can be continued. */
#include <string.h>

#include "notifyd/crc32c.h"
#include "tap.h"

int main(void)
{
    is_uint(nd_crc32c(0, "123456789", 9), 0xE3069283u, "check value of \"123456789\"");
    is_uint(nd_crc32c(0, "", 0), 0u, "empty input");
    unsigned char zeros[32], ones[32], inc[32];
    memset(zeros, 0, sizeof zeros);
    memset(ones, 0xff, sizeof ones);
    for (int i = 0; i < 32; i++)
        inc[i] = (unsigned char)i;
    is_uint(nd_crc32c(0, zeros, 32), 0x8A9136AAu, "32 zero bytes (RFC 3720)");
    is_uint(nd_crc32c(0, ones, 32), 0x62A8AB43u, "32 0xff bytes (RFC 3720)");
    is_uint(nd_crc32c(0, inc, 32), 0x46DD794Eu, "32 increasing bytes (RFC 3720)");
    uint32_t part = nd_crc32c(0, "1234", 4);
    is_uint(nd_crc32c(part, "56789", 5), 0xE3069283u, "continued over two calls");
    return done_testing();
}
