/* unicode.c - UTF-8 decoding as Go does it, and Unicode case mapping and
 * properties from tables generated out of Go's unicode package (so that the
 * C functions agree with the Go version of the reference outputs). */
#include <stdint.h>
#include <string.h>

#include "notifyd/unicode.h"
#include "notifyd/util.h"

struct nd_case_run {
    uint32_t lo, hi;
    int32_t du, dl, dt;
    int alt;
};

#include "unicode_tables.h"

uint32_t nd_unicode_decode_utf8(const char *s, size_t n, size_t *width)
{
    const unsigned char *p = (const unsigned char *)s;
    uint32_t c = p[0], cp, min;
    size_t len, i;

    *width = 1;
    if (c < 0x80)
        return c;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return 0xFFFD;
    }
    if (n < len)
        return 0xFFFD;
    for (i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0xFFFD;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    /* Overlong forms, surrogates and values past U+10FFFF are invalid: Go
     * reports them one byte at a time, like any other bad byte. */
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0xFFFD;
    *width = len;
    return cp;
}

size_t nd_unicode_encode_utf8(uint32_t cp, char *out)
{
    unsigned char *o = (unsigned char *)out;

    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        cp = 0xFFFD;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

static const struct nd_case_run *case_find(uint32_t cp)
{
    size_t lo = 0, hi = ND_ARRAY_LEN(nd_case_runs);

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < nd_case_runs[mid].lo)
            hi = mid;
        else if (cp > nd_case_runs[mid].hi)
            lo = mid + 1;
        else
            return &nd_case_runs[mid];
    }
    return NULL;
}

enum { CASE_UPPER, CASE_LOWER, CASE_TITLE };

static uint32_t case_map(uint32_t cp, int which)
{
    const struct nd_case_run *r;
    int32_t d;

    if (cp < 0x80) {
        if (which == CASE_LOWER)
            return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
        return cp >= 'a' && cp <= 'z' ? cp - 32 : cp;
    }
    r = case_find(cp);
    if (!r)
        return cp;
    if (r->alt) {
        int is_upper = ((cp - r->lo) & 1) == 0;
        if (which == CASE_LOWER)
            return is_upper ? cp + 1 : cp;
        return is_upper ? cp : cp - 1;
    }
    d = which == CASE_UPPER ? r->du : which == CASE_LOWER ? r->dl : r->dt;
    return (uint32_t)((int32_t)cp + d);
}

uint32_t nd_unicode_to_upper(uint32_t cp)
{
    return case_map(cp, CASE_UPPER);
}

uint32_t nd_unicode_to_lower(uint32_t cp)
{
    return case_map(cp, CASE_LOWER);
}

uint32_t nd_unicode_to_title(uint32_t cp)
{
    return case_map(cp, CASE_TITLE);
}

static int in_ranges(const uint32_t (*r)[2], size_t n, uint32_t cp)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < r[mid][0])
            hi = mid;
        else if (cp > r[mid][1])
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

int nd_unicode_is_letter(uint32_t cp)
{
    return in_ranges(nd_letter_ranges, ND_ARRAY_LEN(nd_letter_ranges), cp);
}

int nd_unicode_is_digit(uint32_t cp)
{
    return in_ranges(nd_digit_ranges, ND_ARRAY_LEN(nd_digit_ranges), cp);
}

int nd_unicode_is_space(uint32_t cp)
{
    return in_ranges(nd_space_ranges, ND_ARRAY_LEN(nd_space_ranges), cp);
}

int nd_unicode_is_print(uint32_t cp)
{
    return in_ranges(nd_print_ranges, ND_ARRAY_LEN(nd_print_ranges), cp);
}

int nd_unicode_prop_known(const char *name, size_t n)
{
    size_t lo = 0, hi = ND_ARRAY_LEN(nd_uprop_names);

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *m = nd_uprop_names[mid];
        size_t mlen = strlen(m);
        int c = memcmp(name, m, n < mlen ? n : mlen);
        if (c == 0)
            c = n < mlen ? -1 : n > mlen ? 1 : 0;
        if (c == 0)
            return 1;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}
