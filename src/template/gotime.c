/* gotime.c - Go's time.Time as templates see it: Format with Go's layout
 * language, String(), and the methods templates call (Unix, UTC, Local ...).
 *
 * A time value keeps the instant, its UTC offset and which zone it belongs
 * to: UTC, a fixed offset without a name (what time.Parse gives for an
 * offset that is not the local one: Go prints it as "+0800"), or Local
 * (the process's zone, named by localtime_r).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "notifyd/time.h"
#include "tmpl_int.h"

static const char *const long_month[] = {"January",   "February", "March",    "April",
                                         "May",       "June",     "July",     "August",
                                         "September", "October",  "November", "December"};
static const char *const long_day[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                       "Thursday", "Friday", "Saturday"};

struct civil {
    int64_t year;
    int month, day, hour, min, sec, yday, wday;
};

static void to_civil(int64_t sec, struct civil *c)
{
    int64_t days = sec / 86400, rem = sec % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    unsigned month, day;
    nd_civil_from_days(days, &c->year, &month, &day);
    c->month = (int)month;
    c->day = (int)day;
    c->hour = (int)(rem / 3600);
    c->min = (int)(rem / 60 % 60);
    c->sec = (int)(rem % 60);
    /* 1970-01-01 was a Thursday */
    int64_t w = (days + 4) % 7;
    c->wday = (int)(w < 0 ? w + 7 : w);
    static const int cum[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    c->yday = cum[c->month - 1] + c->day + (c->month > 2 && nd_is_leap_year(c->year) ? 1 : 0);
}

/* The zone's name and offset of a time value. */
static void zone_of(const struct tv *t, char *name, size_t n, int32_t *off)
{
    *off = t->u.tm.off;
    name[0] = '\0';
    if (t->zone == TZ_UTC) {
        snprintf(name, n, "UTC");
        *off = 0;
    } else if (t->zone == TZ_LOCAL) {
        time_t s = (time_t)t->u.tm.sec;
        struct tm tm;
        if (localtime_r(&s, &tm)) {
            snprintf(name, n, "%s", tm.tm_zone ? tm.tm_zone : "");
            *off = (int32_t)tm.tm_gmtoff;
        }
    }
}

static void pad_int(struct tout *o, int64_t v, int width)
{
    if (v < 0) {
        tout_addc(o, '-');
        v = -v;
    }
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    for (int i = n; i < width; i++)
        tout_addc(o, '0');
    tout_add(o, tmp, (size_t)n);
}

static bool starts(const char *s, size_t n, size_t i, const char *p)
{
    size_t pl = strlen(p);
    return n - i >= pl && memcmp(s + i, p, pl) == 0;
}

static bool is_digit_at(const char *s, size_t n, size_t i)
{
    return i < n && s[i] >= '0' && s[i] <= '9';
}

static void zone_num(struct tout *o, int32_t off, bool z, bool colon, bool secs, bool hours_only)
{
    if (z && off == 0) {
        tout_addc(o, 'Z');
        return;
    }
    int32_t zone = off / 60;
    int32_t absoff = off;
    if (zone < 0 || off < 0) {
        tout_addc(o, '-');
        zone = -zone;
        absoff = -absoff;
    } else {
        tout_addc(o, '+');
    }
    pad_int(o, zone / 60, 2);
    if (!hours_only) {
        if (colon)
            tout_addc(o, ':');
        pad_int(o, zone % 60, 2);
    }
    if (secs) {
        if (colon)
            tout_addc(o, ':');
        pad_int(o, absoff % 60, 2);
    }
}

static void time_format(struct tout *o, const struct tv *t, const char *l, size_t n)
{
    char zname[64];
    int32_t off;
    zone_of(t, zname, sizeof zname, &off);
    struct civil c;
    to_civil(t->u.tm.sec + off, &c);
    int32_t nsec = t->u.tm.nsec;
    size_t i = 0;
    while (i < n) {
        char ch = l[i];
        if (starts(l, n, i, "January")) {
            tout_adds(o, long_month[c.month - 1]);
            i += 7;
        } else if (starts(l, n, i, "Jan")) {
            tout_add(o, long_month[c.month - 1], 3);
            i += 3;
        } else if (starts(l, n, i, "Monday")) {
            tout_adds(o, long_day[c.wday]);
            i += 6;
        } else if (starts(l, n, i, "Mon")) {
            tout_add(o, long_day[c.wday], 3);
            i += 3;
        } else if (starts(l, n, i, "MST")) {
            if (zname[0])
                tout_adds(o, zname);
            else
                zone_num(o, off, false, false, false, false);
            i += 3;
        } else if (starts(l, n, i, "01")) {
            pad_int(o, c.month, 2);
            i += 2;
        } else if (starts(l, n, i, "02")) {
            pad_int(o, c.day, 2);
            i += 2;
        } else if (starts(l, n, i, "03")) {
            pad_int(o, c.hour % 12 == 0 ? 12 : c.hour % 12, 2);
            i += 2;
        } else if (starts(l, n, i, "04")) {
            pad_int(o, c.min, 2);
            i += 2;
        } else if (starts(l, n, i, "05")) {
            pad_int(o, c.sec, 2);
            i += 2;
        } else if (starts(l, n, i, "06")) {
            pad_int(o, c.year % 100 < 0 ? -(c.year % 100) : c.year % 100, 2);
            i += 2;
        } else if (starts(l, n, i, "002")) {
            pad_int(o, c.yday, 3);
            i += 3;
        } else if (starts(l, n, i, "15")) {
            pad_int(o, c.hour, 2);
            i += 2;
        } else if (ch == '1') {
            pad_int(o, c.month, 0);
            i += 1;
        } else if (starts(l, n, i, "2006")) {
            pad_int(o, c.year, 4);
            i += 4;
        } else if (ch == '2') {
            pad_int(o, c.day, 0);
            i += 1;
        } else if (starts(l, n, i, "__2")) {
            char tmp[8];
            snprintf(tmp, sizeof tmp, "%3d", c.yday);
            tout_adds(o, tmp);
            i += 3;
        } else if (starts(l, n, i, "_2") && !starts(l, n, i, "_2006")) {
            char tmp[8];
            snprintf(tmp, sizeof tmp, "%2d", c.day);
            tout_adds(o, tmp);
            i += 2;
        } else if (ch == '3') {
            pad_int(o, c.hour % 12 == 0 ? 12 : c.hour % 12, 0);
            i += 1;
        } else if (ch == '4') {
            pad_int(o, c.min, 0);
            i += 1;
        } else if (ch == '5') {
            pad_int(o, c.sec, 0);
            i += 1;
        } else if (starts(l, n, i, "PM")) {
            tout_adds(o, c.hour >= 12 ? "PM" : "AM");
            i += 2;
        } else if (starts(l, n, i, "pm")) {
            tout_adds(o, c.hour >= 12 ? "pm" : "am");
            i += 2;
        } else if (starts(l, n, i, "-07:00:00") || starts(l, n, i, "Z07:00:00")) {
            zone_num(o, off, ch == 'Z', true, true, false);
            i += 9;
        } else if (starts(l, n, i, "-070000") || starts(l, n, i, "Z070000")) {
            zone_num(o, off, ch == 'Z', false, true, false);
            i += 7;
        } else if (starts(l, n, i, "-07:00") || starts(l, n, i, "Z07:00")) {
            zone_num(o, off, ch == 'Z', true, false, false);
            i += 6;
        } else if (starts(l, n, i, "-0700") || starts(l, n, i, "Z0700")) {
            zone_num(o, off, ch == 'Z', false, false, false);
            i += 5;
        } else if (starts(l, n, i, "-07") || starts(l, n, i, "Z07")) {
            zone_num(o, off, ch == 'Z', false, false, true);
            i += 3;
        } else if ((ch == '.' || ch == ',') && i + 1 < n && (l[i + 1] == '0' || l[i + 1] == '9')) {
            char d = l[i + 1];
            size_t j = i + 1;
            while (j < n && l[j] == d)
                j++;
            if (is_digit_at(l, n, j)) {
                tout_add(o, l + i, j - i);
                i = j;
                continue;
            }
            size_t digits = j - i - 1;
            if (digits > 9)
                digits = 9;
            char fr[16];
            snprintf(fr, sizeof fr, "%09d", (int)nsec);
            if (d == '0') {
                tout_addc(o, ch);
                tout_add(o, fr, digits);
            } else {
                size_t k = digits;
                while (k > 0 && fr[k - 1] == '0')
                    k--;
                if (k > 0) {
                    tout_addc(o, ch);
                    tout_add(o, fr, k);
                }
            }
            i = j;
        } else {
            tout_addc(o, ch);
            i++;
        }
    }
}

int nd_tmpl__val_time_format(struct nd_buf *b, const struct tv *t, const char *layout, size_t n)
{
    struct tout o = {b, ND_OK};
    time_format(&o, t, layout, n);
    return o.rc;
}

int nd_tmpl__val_time_string(struct nd_buf *b, const struct tv *t)
{
    static const char layout[] = "2006-01-02 15:04:05.999999999 -0700 MST";
    return nd_tmpl__val_time_format(b, t, layout, sizeof layout - 1);
}

/* ---- methods ---- */

static int m_format(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                    struct tv *out, char *err)
{
    /* the result grows with the layout: the output's ceiling is its own */
    struct nd_buf b;
    nd_buf_init(&b, x->out->limit);
    if (nd_tmpl__val_time_format(&b, recv, a[0].u.s.p, a[0].u.s.n) != ND_OK) {
        nd_buf_deinit(&b);
        return nd_tmpl__exec_limit_fn_error(err, x->out->limit);
    }
    *out = nd_tmpl__exec_buf_value(x, &b);
    return 0;
}

static int m_string(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                    struct tv *out, char *err)
{
    struct nd_buf b;
    nd_buf_init(&b, x->out->limit);
    if (nd_tmpl__val_time_string(&b, recv) != ND_OK) {
        nd_buf_deinit(&b);
        return nd_tmpl__exec_limit_fn_error(err, x->out->limit);
    }
    *out = nd_tmpl__exec_buf_value(x, &b);
    return 0;
}

static int m_unix(struct texec *x, const struct tv *recv, const struct tv *a, int n, struct tv *out,
                  char *err)
{
    *out = nd_tmpl__val_int(recv->u.tm.sec);
    return 0;
}

static int m_unixnano(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                      struct tv *out, char *err)
{
    *out = nd_tmpl__val_int(recv->u.tm.sec * 1000000000 + recv->u.tm.nsec);
    return 0;
}

static int m_utc(struct texec *x, const struct tv *recv, const struct tv *a, int n, struct tv *out,
                 char *err)
{
    *out = *recv;
    out->zone = TZ_UTC;
    out->u.tm.off = 0;
    return 0;
}

static int m_local(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                   struct tv *out, char *err)
{
    *out = *recv;
    out->zone = TZ_LOCAL;
    char name[64];
    int32_t off;
    zone_of(out, name, sizeof name, &off);
    out->u.tm.off = off;
    return 0;
}

static int m_iszero(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                    struct tv *out, char *err)
{
    *out = nd_tmpl__val_bool(recv->u.tm.sec == INT64_C(-62135596800) && recv->u.tm.nsec == 0);
    return 0;
}

static int m_year(struct texec *x, const struct tv *recv, const struct tv *a, int n, struct tv *out,
                  char *err)
{
    char name[64];
    int32_t off;
    zone_of(recv, name, sizeof name, &off);
    struct civil c;
    to_civil(recv->u.tm.sec + off, &c);
    *out = nd_tmpl__val_int(c.year);
    return 0;
}

static const struct tfunc time_methods[] = {
    {"Format", m_format, 1, false, {&nd_tmpl__type_string}, false, false},
    {"IsZero", m_iszero, 0, false, {NULL}, false, false},
    {"Local", m_local, 0, false, {NULL}, false, false},
    {"String", m_string, 0, false, {NULL}, false, false},
    {"UTC", m_utc, 0, false, {NULL}, false, false},
    {"Unix", m_unix, 0, false, {NULL}, false, false},
    {"UnixNano", m_unixnano, 0, false, {NULL}, false, false},
    {"Year", m_year, 0, false, {NULL}, false, false},
};

const struct ttype nd_tmpl__type_time = {.name = "time.Time",
                                         .kind = TK_TIME,
                                         .methods = time_methods,
                                         .nmethods = ND_ARRAY_LEN(time_methods)};
