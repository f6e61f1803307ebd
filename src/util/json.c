/* json.c - JSON writer over nd_buf (json.h). */
#include "notifyd/json.h"

#include <string.h>

#include "notifyd/util.h"

/* Byte classes for the escaper: C_ESC always escaped, C_HTML escaped with
 * ND_JSON_HTML, C_HIGH a byte of a multi-byte sequence, checked as UTF-8
 * unless ND_JSON_VALID_UTF8, C_E2 the first byte of U+2028/U+2029, looked
 * at in every mode. Everything else is copied in runs. */
enum { C_ESC = 1, C_HTML = 2, C_HIGH = 4, C_E2 = 8 };

#define E  C_ESC
#define T  C_HTML
#define H  C_HIGH
#define X  (C_HIGH | C_E2)
#define H8 H, H, H, H, H, H, H, H
/* clang-format off */
static const unsigned char cls[256] = {
    E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, /* 0x00 */
    E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, /* 0x10 */
    0, 0, E, 0, 0, 0, T, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* ' ' .. '/' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, T, 0, T, 0, /* '0' .. '?' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* '@' .. 'O' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, E, 0, 0, 0, /* 'P' .. '_' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* '`' .. 'o' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 'p' .. DEL */
    H8, H8, H8, H8, H8, H8, H8, H8,                 /* 0x80 .. 0xbf */
    H8, H8, H8, H8,                                 /* 0xc0 .. 0xdf */
    H, H, X, H, H, H, H, H, H, H, H, H, H, H, H, H, /* 0xe0 .. 0xef */
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, /* 0xf0 .. 0xff */
};
/* clang-format on */
#undef E
#undef T
#undef H
#undef X
#undef H8

/* The length of the valid UTF-8 sequence at s (n bytes left), or 0 when
 * s[0] does not start one: the ranges of RFC 3629 section 4, which are
 * those Go's utf8.DecodeRune accepts (no overlongs, no surrogates, nothing
 * above U+10FFFF). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t len;

    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
    else
        return 0;
    if (n < len)
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if (s[k] < 0x80 || s[k] > 0xbf)
            return 0;
    return len;
}

/* U+2028 LINE SEPARATOR or U+2029 PARAGRAPH SEPARATOR at s (n bytes left). */
static inline bool is_line_sep(const unsigned char *s, size_t n)
{
    return n >= 3 && s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9);
}

/* Escapes n bytes of s into o (no quotes) and returns the bytes written;
 * with o NULL, only counts them. At most 6 output bytes per input byte. */
static inline __attribute__((always_inline)) size_t escape(const unsigned char *s, size_t n,
                                                           unsigned mask, char *o)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0, w = 0;

    while (i < n) {
        size_t j = i, used = 1, k;
        char tmp[6], *d;
        unsigned char c;

        for (;;) {
            /* Four bytes a step through plain text, then one by one. */
            while (n - j >= 4 &&
                   !((cls[s[j]] | cls[s[j + 1]] | cls[s[j + 2]] | cls[s[j + 3]]) & mask))
                j += 4;
            while (j < n && !(cls[s[j]] & mask))
                j++;
            if (j < n && (cls[s[j]] & mask & C_HIGH)) {
                size_t len = utf8_seq(s + j, n - j);
                if (len && !is_line_sep(s + j, len)) {
                    j += len;
                    continue;
                }
            } else if (j < n && cls[s[j]] == (C_HIGH | C_E2) && !is_line_sep(s + j, n - j)) {
                j++; /* trusted UTF-8: only U+2028/U+2029 need a look */
                continue;
            }
            break;
        }
        if (o)
            memcpy(o + w, s + i, j - i);
        w += j - i;
        if (j == n)
            break;
        d = o ? o + w : tmp;
        c = s[j];
        k = 2;
        d[0] = '\\';
        switch (c) {
        case '"':
        case '\\':
            d[1] = (char)c;
            break;
        case '\n':
            d[1] = 'n';
            break;
        case '\r':
            d[1] = 'r';
            break;
        case '\t':
            d[1] = 't';
            break;
        default:
            k = 6;
            if (c >= 0x80) {
                /* Either U+2028/U+2029 or one byte of invalid UTF-8. */
                if (is_line_sep(s + j, n - j)) {
                    memcpy(d + 1, s[j + 2] == 0xa8 ? "u2028" : "u2029", 5);
                    used = 3;
                } else {
                    memcpy(d + 1, "ufffd", 5);
                }
            } else {
                d[1] = 'u';
                d[2] = '0';
                d[3] = '0';
                d[4] = hex[c >> 4];
                d[5] = hex[c & 15];
            }
        }
        w += k;
        i = j + used;
    }
    return w;
}

static void fail(struct nd_json *j, int err, const char *why)
{
    if (!j->err) {
        j->err = err;
        j->why = why;
    }
}

/* Room for n more bytes plus the NUL (nd_buf's growth and ceiling); NULL
 * after any error. */
static inline char *room(struct nd_json *j, size_t n)
{
    struct nd_buf *b = j->b;

    if (j->err)
        return NULL;
    if (n > b->limit || b->len > b->limit - n) {
        fail(j, ND_ETOOBIG, NULL);
        return NULL;
    }
    if (b->len + n + 1 > b->cap)
        nd_buf_reserve(b, n);
    return b->data + b->len;
}

/* pre (0 or one character, such as the comma), then n bytes of p. */
static void put(struct nd_json *j, char pre, const char *p, size_t n)
{
    size_t k = pre ? 1 : 0;
    char *d = room(j, n + k);

    if (!d)
        return;
    d[0] = pre;
    memcpy(d + k, p, n);
    j->b->len += n + k;
    d[n + k] = '\0';
}

/* The escaping loop specialised for each combination of flags: a constant
 * mask lets the compiler unroll it (measured: twice as fast on long plain
 * text). Kept out of line so that put_string stays small. */
#define ESCAPER(name, mask)                                                                        \
    static __attribute__((noinline)) size_t name(const unsigned char *s, size_t n, char *d)        \
    {                                                                                              \
        return escape(s, n, (mask), d);                                                            \
    }
ESCAPER(escape_check, C_ESC | C_HIGH)
ESCAPER(escape_check_html, C_ESC | C_HIGH | C_HTML)
ESCAPER(escape_valid, C_ESC | C_E2)
ESCAPER(escape_valid_html, C_ESC | C_E2 | C_HTML)
#undef ESCAPER

static inline size_t escape_to(unsigned flags, const unsigned char *s, size_t n, char *d)
{
    switch (flags & (ND_JSON_VALID_UTF8 | ND_JSON_HTML)) {
    case 0:
        return escape_check(s, n, d);
    case ND_JSON_HTML:
        return escape_check_html(s, n, d);
    case ND_JSON_VALID_UTF8:
        return escape_valid(s, n, d);
    default:
        return escape_valid_html(s, n, d);
    }
}

/* The exact escaped size, only needed near the limit. */
static __attribute__((noinline)) size_t escaped_len(unsigned flags, const char *s, size_t n)
{
    unsigned mask = C_ESC | ((flags & ND_JSON_VALID_UTF8) ? C_E2 : C_HIGH) |
                    ((flags & ND_JSON_HTML) ? C_HTML : 0);

    return escape((const unsigned char *)s, n, mask, NULL);
}

/* pre (0 or a character), the quoted escaped string, post (0 or one). */
static void put_string(struct nd_json *j, char pre, const char *s, size_t n, char post)
{
    struct nd_buf *b = j->b;
    size_t need = n * 6 + 4, w = 0;
    char *d;

    if (j->err)
        return;
    /* Room for the worst case (every byte as \u00XX, quotes, pre and
     * post) in one check; near the limit (or for a length whose worst
     * case overflows) the exact size decides, so that what fits is never
     * refused. */
    if (n > SIZE_MAX / 8 || b->len > b->limit || need > b->limit - b->len)
        need = escaped_len(j->flags, s, n) + 2 + (pre ? 1 : 0) + (post ? 1 : 0);
    d = room(j, need);
    if (!d)
        return;
    if (pre)
        d[w++] = pre;
    d[w++] = '"';
    w += escape_to(j->flags, (const unsigned char *)s, n, d + w);
    d[w++] = '"';
    if (post)
        d[w++] = post;
    d[w] = '\0';
    b->len += w;
}

/* Checks that a value may come now and returns what goes before it: ','
 * after an earlier member of an array, else 0; -1 after an error. */
static inline int value_prefix(struct nd_json *j)
{
    uint32_t bit;

    if (j->err)
        return -1;
    if (j->depth == 0) {
        if (j->top_done) {
            fail(j, ND_EINVAL, "a second value at the top level");
            return -1;
        }
        j->top_done = true;
        return 0;
    }
    bit = UINT32_C(1) << (j->depth - 1);
    if (j->is_obj & bit) {
        if (!j->after_key) {
            fail(j, ND_EINVAL, "a value in an object without a key");
            return -1;
        }
        j->after_key = false;
        return 0;
    }
    if (j->has & bit)
        return ',';
    j->has |= bit;
    return 0;
}

void nd_json_init(struct nd_json *j, struct nd_buf *b, unsigned flags)
{
    memset(j, 0, sizeof(*j));
    j->b = b;
    j->len0 = b->len;
    j->flags = flags;
}

static void open_level(struct nd_json *j, bool obj)
{
    int pre = value_prefix(j);
    uint32_t bit;

    if (pre < 0)
        return;
    if (j->depth == ND_JSON_MAX_DEPTH) {
        fail(j, ND_EINVAL, "nesting deeper than ND_JSON_MAX_DEPTH");
        return;
    }
    put(j, (char)pre, obj ? "{" : "[", 1);
    bit = UINT32_C(1) << j->depth;
    j->depth++;
    j->has &= ~bit;
    if (obj)
        j->is_obj |= bit;
    else
        j->is_obj &= ~bit;
}

static void close_level(struct nd_json *j, bool obj)
{
    if (j->err)
        return;
    if (j->depth == 0 || !(j->is_obj >> (j->depth - 1) & 1) != !obj) {
        fail(j, ND_EINVAL, "a close that does not match the open object or array");
        return;
    }
    if (j->after_key) {
        fail(j, ND_EINVAL, "an object closed after a key without value");
        return;
    }
    put(j, 0, obj ? "}" : "]", 1);
    j->depth--;
}

void nd_json_obj_open(struct nd_json *j)
{
    open_level(j, true);
}

void nd_json_obj_close(struct nd_json *j)
{
    close_level(j, true);
}

void nd_json_arr_open(struct nd_json *j)
{
    open_level(j, false);
}

void nd_json_arr_close(struct nd_json *j)
{
    close_level(j, false);
}

/* Checks that a key may come now and returns what goes before it (',' after
 * an earlier member, else 0), or -1 after an error. */
static inline int key_prefix(struct nd_json *j, const char *k)
{
    uint32_t bit;

    if (j->err)
        return -1;
    if (!k) {
        fail(j, ND_EINVAL, "a NULL key");
        return -1;
    }
    bit = j->depth ? UINT32_C(1) << (j->depth - 1) : 0;
    if (!(j->is_obj & bit) || j->after_key) {
        fail(j, ND_EINVAL, "a key outside an object or after a key");
        return -1;
    }
    j->after_key = true;
    if (j->has & bit)
        return ',';
    j->has |= bit;
    return 0;
}

void nd_json_keyn(struct nd_json *j, const char *k, size_t n)
{
    int pre = key_prefix(j, k);

    if (pre >= 0)
        put_string(j, (char)pre, k, n, ':');
}

void nd_json_key(struct nd_json *j, const char *k)
{
    int pre = key_prefix(j, k);

    if (pre >= 0)
        put_string(j, (char)pre, k, strlen(k), ':');
}

void nd_json_key_plain(struct nd_json *j, const char *k, size_t n)
{
    int pre = key_prefix(j, k);
    size_t w = 0;
    char *d;

    if (pre < 0 || !(d = room(j, n + 4)))
        return;
    if (pre)
        d[w++] = (char)pre;
    d[w++] = '"';
    memcpy(d + w, k, n);
    w += n;
    d[w++] = '"';
    d[w++] = ':';
    d[w] = '\0';
    j->b->len += w;
}

void nd_json_strn(struct nd_json *j, const char *s, size_t n)
{
    int pre;

    if (!s) {
        fail(j, ND_EINVAL, "a NULL string");
        return;
    }
    pre = value_prefix(j);
    if (pre >= 0)
        put_string(j, (char)pre, s, n, 0);
}

void nd_json_str(struct nd_json *j, const char *s)
{
    int pre;

    if (!s) {
        fail(j, ND_EINVAL, "a NULL string");
        return;
    }
    pre = value_prefix(j);
    if (pre >= 0)
        put_string(j, (char)pre, s, strlen(s), 0);
}

/* Decimal digits of v at the end of tmp[20]; returns where they start. */
static char *u64_digits(uint64_t v, char tmp[20])
{
    char *p = tmp + 20;

    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

void nd_json_uint(struct nd_json *j, uint64_t v)
{
    char tmp[20], *p = u64_digits(v, tmp);
    int pre = value_prefix(j);

    if (pre >= 0)
        put(j, (char)pre, p, (size_t)(tmp + 20 - p));
}

void nd_json_int(struct nd_json *j, int64_t v)
{
    char tmp[21];
    /* The magnitude as unsigned, so that INT64_MIN has one. */
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char *p = u64_digits(m, tmp + 1);
    int pre = value_prefix(j);

    if (v < 0)
        *--p = '-';
    if (pre >= 0)
        put(j, (char)pre, p, (size_t)(tmp + 21 - p));
}

void nd_json_bool(struct nd_json *j, bool v)
{
    int pre = value_prefix(j);

    if (pre >= 0)
        put(j, (char)pre, v ? "true" : "false", v ? 4 : 5);
}

void nd_json_null(struct nd_json *j)
{
    int pre = value_prefix(j);

    if (pre >= 0)
        put(j, (char)pre, "null", 4);
}

void nd_json_raw(struct nd_json *j, const char *p, size_t n)
{
    int pre = value_prefix(j);

    if (pre >= 0)
        put(j, (char)pre, p, n);
}

void nd_json_kstr(struct nd_json *j, const char *k, const char *v)
{
    nd_json_key(j, k);
    nd_json_str(j, v);
}

void nd_json_kint(struct nd_json *j, const char *k, int64_t v)
{
    nd_json_key(j, k);
    nd_json_int(j, v);
}

void nd_json_kbool(struct nd_json *j, const char *k, bool v)
{
    nd_json_key(j, k);
    nd_json_bool(j, v);
}

int nd_json_finish(struct nd_json *j, char *err)
{
    struct nd_buf *b = j->b;

    if (!j->err && (j->depth > 0 || !j->top_done))
        fail(j, ND_EINVAL, j->depth > 0 ? "an object or array left open" : "no value written");
    if (!j->err && (j->flags & ND_JSON_NEWLINE))
        put(j, 0, "\n", 1);
    if (!j->err)
        return ND_OK;
    b->len = j->len0;
    if (b->data)
        b->data[b->len] = '\0';
    if (j->err == ND_ETOOBIG)
        return nd_seterr(err, ND_ETOOBIG, "JSON body over the limit of %zu bytes", b->limit);
    return nd_seterr(err, j->err, "JSON writer misuse: %s", j->why);
}
