/* parse.c - the value syntaxes of the config file (see parse.h).
 *
 * Every parser is strict: no leading or trailing blanks, no signs where a
 * value cannot be negative, no silent wrap-around. The config loader turns
 * ND_EINVAL into a "file:line: key: ..." message, so precision about *why*
 * is not needed here, only that junk never passes.
 */
#include "notifyd/parse.h"

#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "notifyd/util.h"

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Go's unit table; both spellings of micro (U+00B5 and U+03BC) as Go accepts. */
static const struct {
    const char *name;
    uint64_t ns;
} duration_units[] = {
    {"ns", 1},
    {"us", 1000},
    {"\xc2\xb5s", 1000},
    {"\xce\xbcs", 1000},
    {"ms", 1000000},
    {"s", UINT64_C(1000000000)},
    {"m", UINT64_C(60000000000)},
    {"h", UINT64_C(3600000000000)},
};

int nd_parse_duration(const char *s, int64_t *ns_out)
{
    const uint64_t max = (uint64_t)INT64_MAX;
    uint64_t total = 0;

    if (!s || !*s)
        return ND_EINVAL;
    /* A leading '+' is Go syntax; '-' is not: no duration here can be negative. */
    if (*s == '+')
        s++;
    if (strcmp(s, "0") == 0) {
        *ns_out = 0;
        return ND_OK;
    }
    if (!*s)
        return ND_EINVAL;

    while (*s) {
        uint64_t v = 0, f = 0;
        double scale = 1;
        int pre = 0, post = 0, overflow_frac = 0;

        for (; is_digit(*s); s++, pre = 1) {
            if (v > (max - (uint64_t)(*s - '0')) / 10)
                return ND_EINVAL;
            v = v * 10 + (uint64_t)(*s - '0');
        }
        if (*s == '.') {
            s++;
            /* Digits beyond what fits in f are ignored, as Go does: they are
             * far below a nanosecond anyway. */
            for (; is_digit(*s); s++, post = 1) {
                if (overflow_frac)
                    continue;
                if (f > (max - (uint64_t)(*s - '0')) / 10) {
                    overflow_frac = 1;
                    continue;
                }
                f = f * 10 + (uint64_t)(*s - '0');
                scale *= 10;
            }
        }
        if (!pre && !post)
            return ND_EINVAL;

        size_t ulen = 0;
        uint64_t unit = 0;
        while (s[ulen] && s[ulen] != '.' && !is_digit(s[ulen]))
            ulen++;
        for (size_t i = 0; i < ND_ARRAY_LEN(duration_units); i++) {
            if (strlen(duration_units[i].name) == ulen &&
                memcmp(duration_units[i].name, s, ulen) == 0) {
                unit = duration_units[i].ns;
                break;
            }
        }
        if (!unit)
            return ND_EINVAL; /* also catches a missing unit ("5") */
        s += ulen;

        if (v > max / unit)
            return ND_EINVAL;
        v *= unit;
        if (f > 0) {
            double extra = (double)f * ((double)unit / scale);
            if (extra >= (double)max)
                return ND_EINVAL;
            v += (uint64_t)extra;
            if (v > max)
                return ND_EINVAL;
        }
        if (v > max - total)
            return ND_EINVAL;
        total += v;
    }
    *ns_out = (int64_t)total;
    return ND_OK;
}

static const struct {
    const char *name;
    uint64_t mult;
} size_units[] = {
    {"", 1},
    {"B", 1},
    {"KiB", UINT64_C(1) << 10},
    {"MiB", UINT64_C(1) << 20},
    {"GiB", UINT64_C(1) << 30},
    {"TiB", UINT64_C(1) << 40},
    {"KB", UINT64_C(1000)},
    {"MB", UINT64_C(1000000)},
    {"GB", UINT64_C(1000000000)},
    {"TB", UINT64_C(1000000000000)},
};

int nd_parse_size(const char *s, uint64_t *bytes_out)
{
    uint64_t v = 0;

    if (!s || !is_digit(*s))
        return ND_EINVAL;
    for (; is_digit(*s); s++) {
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return ND_EINVAL;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    for (size_t i = 0; i < ND_ARRAY_LEN(size_units); i++) {
        if (strcmp(s, size_units[i].name) == 0) {
            if (v > UINT64_MAX / size_units[i].mult)
                return ND_EINVAL;
            *bytes_out = v * size_units[i].mult;
            return ND_OK;
        }
    }
    return ND_EINVAL;
}

int nd_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};

    if (!s)
        return ND_EINVAL;
    for (size_t i = 0; i < ND_ARRAY_LEN(yes); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return ND_OK;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return ND_OK;
        }
    }
    return ND_EINVAL;
}

int nd_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (!s || !is_digit(*s))
        return ND_EINVAL;
    for (; is_digit(*s); s++) {
        if (v > (max - (uint64_t)(*s - '0')) / 10 || (uint64_t)(*s - '0') > max)
            return ND_EINVAL;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (*s || v > max)
        return ND_EINVAL;
    *out = v;
    return ND_OK;
}

/* The syntax is checked by hand first so that strtod's extras (hex floats,
 * "inf", "nan", leading blanks) never get through; strtod_l in the "C"
 * locale then does the exact conversion whatever LC_NUMERIC the process has. */
int nd_parse_double(const char *s, double *out)
{
    const char *p = s;
    int digits = 0;

    if (!s)
        return ND_EINVAL;
    if (*p == '+' || *p == '-')
        p++;
    for (; is_digit(*p); p++)
        digits++;
    if (*p == '.') {
        p++;
        for (; is_digit(*p); p++)
            digits++;
    }
    if (!digits)
        return ND_EINVAL;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!is_digit(*p))
            return ND_EINVAL;
        while (is_digit(*p))
            p++;
    }
    if (*p)
        return ND_EINVAL;

    locale_t c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (c_locale == (locale_t)0)
        return ND_EINVAL;
    char *end = NULL;
    double v = strtod_l(s, &end, c_locale);
    freelocale(c_locale);
    /* Overflow gives HUGE_VAL; underflow towards 0 is accepted as 0-ish. */
    if (end != p || !isfinite(v))
        return ND_EINVAL;
    *out = v;
    return ND_OK;
}

/* Writes v / 10^prec with the fraction's trailing zeros (and a bare '.')
 * dropped, as Go's fmtFrac + fmtInt do. */
static int fmt_frac(char *out, size_t n, uint64_t v, int prec)
{
    uint64_t pow = 1;
    for (int i = 0; i < prec; i++)
        pow *= 10;
    uint64_t ip = v / pow, fp = v % pow;
    if (fp == 0)
        return snprintf(out, n, "%" PRIu64, ip);

    char frac[24];
    snprintf(frac, sizeof frac, "%0*" PRIu64, prec, fp);
    size_t len = strlen(frac);
    while (len > 0 && frac[len - 1] == '0')
        len--;
    return snprintf(out, n, "%" PRIu64 ".%.*s", ip, (int)len, frac);
}

void nd_format_duration(int64_t ns, char out[32])
{
    /* Via uint64 so that INT64_MIN has a magnitude too. */
    uint64_t u = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    const char *sign = ns < 0 ? "-" : "";
    char num[32];
    /* Built in a roomier buffer so the compiler can see no truncation; the
     * longest real output, INT64_MIN, is 25 bytes. */
    char tmp[96];

    if (u == 0) {
        snprintf(out, 32, "0s");
        return;
    }
    if (u < UINT64_C(1000000000)) {
        /* Below one second Go switches to the largest unit that keeps an
         * integer part: ns, µs, ms. */
        if (u < 1000) {
            snprintf(tmp, sizeof tmp, "%s%" PRIu64 "ns", sign, u);
        } else if (u < 1000000) {
            fmt_frac(num, sizeof num, u, 3);
            snprintf(tmp, sizeof tmp, "%s%s\xc2\xb5s", sign, num);
        } else {
            fmt_frac(num, sizeof num, u, 6);
            snprintf(tmp, sizeof tmp, "%s%sms", sign, num);
        }
        snprintf(out, 32, "%.31s", tmp);
        return;
    }

    uint64_t secs_ns = u % UINT64_C(60000000000);
    uint64_t mins = u / UINT64_C(60000000000);
    fmt_frac(num, sizeof num, secs_ns, 9);
    if (mins == 0) {
        snprintf(tmp, sizeof tmp, "%s%ss", sign, num);
    } else if (mins < 60) {
        snprintf(tmp, sizeof tmp, "%s%" PRIu64 "m%ss", sign, mins, num);
    } else {
        snprintf(tmp, sizeof tmp, "%s%" PRIu64 "h%" PRIu64 "m%ss", sign, mins / 60, mins % 60, num);
    }
    snprintf(out, 32, "%.31s", tmp);
}
