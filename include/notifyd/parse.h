/* parse.h - the value syntaxes of the config file.
 *
 * Durations are Go's: a sequence of decimal numbers with an optional
 * fraction and a unit, "300ms", "1.5h", "1m30s", "2h45m"; units ns us µs ms
 * s m h. "0" alone is allowed. Sizes are integers with an optional unit
 * B, KiB, MiB, GiB, TiB (powers of 1024) or KB, MB, GB (powers of 1000).
 * All return ND_OK or ND_EINVAL and never accept trailing junk or overflow.
 */
#ifndef NOTIFYD_PARSE_H
#define NOTIFYD_PARSE_H

#include <stdbool.h>
#include <stdint.h>

int nd_parse_duration(const char *s, int64_t *ns_out);
int nd_parse_size(const char *s, uint64_t *bytes_out);
int nd_parse_bool(const char *s, bool *out);                   /* true/false/yes/no/on/off/1/0 */
int nd_parse_uint(const char *s, uint64_t max, uint64_t *out); /* decimal, <= max */
int nd_parse_double(const char *s, double *out);               /* locale-free */
/* Formats ns as Go's time.Duration.String() does ("1m30s", "500ms"). */
void nd_format_duration(int64_t ns, char out[32]);

#define ND_NS_PER_MS INT64_C(1000000)
#define ND_NS_PER_S  INT64_C(1000000000)

#endif
