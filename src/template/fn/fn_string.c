/* fn_string.c - string functions and escapers with Go's exact outputs. */
#include <string.h>

#include "fn_int.h"

static const char hex_lower[] = "0123456789abcdef";
static const char hex_upper[] = "0123456789ABCDEF";

static int add_rune(struct nd_buf *out, uint32_t cp)
{
    char tmp[4];
    size_t n = nd_unicode_encode_utf8(cp, tmp);
    return nd_buf_add(out, tmp, n);
}

/* strings.Map with a per-rune function: invalid bytes come out as U+FFFD, as
 * in Go (Map decodes them as utf8.RuneError and writes that). */
static int map_runes(struct nd_buf *out, const char *s, size_t n, uint32_t (*fn)(uint32_t))
{
    size_t i = 0, w;
    int rc;

    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            rc = nd_buf_addc(out, (char)fn(c));
            i++;
        } else {
            uint32_t cp = nd_unicode_decode_utf8(s + i, n - i, &w);
            rc = add_rune(out, fn(cp));
            i += w;
        }
        if (rc)
            return rc;
    }
    /* An empty result must still be a valid (empty) C string for callers that
     * read data directly. */
    return nd_buf_add(out, "", 0);
}

int nd_tmpl_to_upper(struct nd_buf *out, const char *s, size_t n)
{
    return map_runes(out, s, n, nd_unicode_to_upper);
}

int nd_tmpl_to_lower(struct nd_buf *out, const char *s, size_t n)
{
    return map_runes(out, s, n, nd_unicode_to_lower);
}

/* Go's strings.isSeparator (used by strings.Title). */
static int is_separator(uint32_t r)
{
    if (r <= 0x7F) {
        if ((r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r == '_')
            return 0;
        return 1;
    }
    if (nd_unicode_is_letter(r) || nd_unicode_is_digit(r))
        return 0;
    return nd_unicode_is_space(r);
}

int nd_tmpl_title(struct nd_buf *out, const char *s, size_t n)
{
    uint32_t prev = ' ';
    size_t i = 0, w;
    int rc;

    while (i < n) {
        uint32_t cp = nd_unicode_decode_utf8(s + i, n - i, &w);
        uint32_t m = is_separator(prev) ? nd_unicode_to_title(cp) : cp;
        prev = cp;
        if ((rc = add_rune(out, m)) != 0)
            return rc;
        i += w;
    }
    return nd_buf_add(out, "", 0);
}

/* The width of the valid rune ending at s[n-1], or 0. */
static size_t last_rune(const char *s, size_t n, uint32_t *cp)
{
    size_t k, w;

    for (k = 1; k <= 4 && k <= n; k++) {
        unsigned char c = (unsigned char)s[n - k];
        if ((c & 0xC0) == 0x80)
            continue;
        *cp = nd_unicode_decode_utf8(s + n - k, k, &w);
        return w == k && (k > 1 || c < 0x80) ? k : 0;
    }
    return 0;
}

void nd_tmpl_trim_space(const char *s, size_t n, size_t *off, size_t *len)
{
    size_t start = 0, stop = n, w;
    uint32_t cp;

    while (start < stop) {
        cp = nd_unicode_decode_utf8(s + start, stop - start, &w);
        if (cp == 0xFFFD && w == 1)
            break;
        if (!nd_unicode_is_space(cp))
            break;
        start += w;
    }
    while (stop > start) {
        w = last_rune(s + start, stop - start, &cp);
        if (w == 0 || !nd_unicode_is_space(cp))
            break;
        stop -= w;
    }
    *off = start;
    *len = stop - start;
}

int nd_tmpl_join(struct nd_buf *out, const char *sep, size_t seplen, const char *const *items,
                 const size_t *lens, size_t nitems)
{
    size_t i;
    int rc;

    for (i = 0; i < nitems; i++) {
        if (i > 0 && (rc = nd_buf_add(out, sep, seplen)) != 0)
            return rc;
        if ((rc = nd_buf_add(out, items[i], lens[i])) != 0)
            return rc;
    }
    return nd_buf_add(out, "", 0);
}

/* Go's encoding/json string encoder with HTML escaping: writes to `out`
 * when given, and returns the length either way. */
static size_t json_escape(struct nd_buf *out, const char *s, size_t n, int *rc)
{
    size_t i = 0, total = 0, w;
    char tmp[6];

    *rc = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        const char *piece = NULL;
        size_t plen = 0;

        if (c < 0x80) {
            if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
                size_t j = i + 1;
                while (j < n) {
                    unsigned char d = (unsigned char)s[j];
                    if (d < 0x20 || d >= 0x80 || d == '"' || d == '\\' || d == '<' || d == '>' ||
                        d == '&')
                        break;
                    j++;
                }
                piece = s + i;
                plen = j - i;
                i = j;
            } else {
                tmp[0] = '\\';
                piece = tmp;
                plen = 2;
                if (c == '"' || c == '\\')
                    tmp[1] = (char)c;
                else if (c == '\n')
                    tmp[1] = 'n';
                else if (c == '\r')
                    tmp[1] = 'r';
                else if (c == '\t')
                    tmp[1] = 't';
                else {
                    memcpy(tmp, "\\u00", 4);
                    tmp[4] = hex_lower[c >> 4];
                    tmp[5] = hex_lower[c & 0xF];
                    plen = 6;
                }
                i++;
            }
        } else {
            uint32_t cp = nd_unicode_decode_utf8(s + i, n - i, &w);
            if (cp == 0xFFFD && w == 1) {
                piece = "\\ufffd";
                plen = 6;
            } else if (cp == 0x2028 || cp == 0x2029) {
                piece = cp == 0x2028 ? "\\u2028" : "\\u2029";
                plen = 6;
            } else {
                piece = s + i;
                plen = w;
            }
            i += w;
        }
        total += plen;
        if (out && !*rc)
            *rc = nd_buf_add(out, piece, plen);
    }
    return total;
}

int nd_tmpl_escape(struct nd_buf *out, const char *s, size_t n)
{
    int rc;
    json_escape(out, s, n, &rc);
    return rc ? rc : nd_buf_add(out, "", 0);
}

size_t nd_tmpl_json_len(const char *s, size_t n)
{
    int rc;
    return json_escape(NULL, s, n, &rc);
}

int nd_tmpl_html_escape(struct nd_buf *out, const char *s, size_t n)
{
    size_t i, last = 0;
    int rc;

    for (i = 0; i < n; i++) {
        const char *rep;
        switch (s[i]) {
        case '\0':
            rep = "\xEF\xBF\xBD";
            break;
        case '"':
            rep = "&#34;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        default:
            continue;
        }
        if ((rc = nd_buf_add(out, s + last, i - last)) != 0 || (rc = nd_buf_adds(out, rep)) != 0)
            return rc;
        last = i + 1;
    }
    return nd_buf_add(out, s + last, n - last);
}

int nd_tmpl_js_escape(struct nd_buf *out, const char *s, size_t n)
{
    size_t i = 0, w;
    int rc = 0;
    char tmp[8];

    while (i < n && !rc) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            uint32_t cp = nd_unicode_decode_utf8(s + i, n - i, &w);
            /* An invalid byte decodes to U+FFFD, which is printable: Go then
             * copies the raw byte through. */
            if (nd_unicode_is_print(cp)) {
                rc = nd_buf_add(out, s + i, w);
            } else {
                rc = nd_buf_printf(out, "\\u%04X", (unsigned)cp);
            }
            i += w;
            continue;
        }
        switch (c) {
        case '\\':
            rc = nd_buf_add(out, "\\\\", 2);
            break;
        case '\'':
            rc = nd_buf_add(out, "\\'", 2);
            break;
        case '"':
            rc = nd_buf_add(out, "\\\"", 2);
            break;
        case '<':
            rc = nd_buf_adds(out, "\\u003C");
            break;
        case '>':
            rc = nd_buf_adds(out, "\\u003E");
            break;
        case '&':
            rc = nd_buf_adds(out, "\\u0026");
            break;
        case '=':
            rc = nd_buf_adds(out, "\\u003D");
            break;
        default:
            if (c < 0x20) {
                memcpy(tmp, "\\u00", 4);
                tmp[4] = hex_upper[c >> 4];
                tmp[5] = hex_upper[c & 0xF];
                rc = nd_buf_add(out, tmp, 6);
            } else {
                rc = nd_buf_addc(out, (char)c);
            }
        }
        i++;
    }
    return rc ? rc : nd_buf_add(out, "", 0);
}

int nd_tmpl_urlquery_escape(struct nd_buf *out, const char *s, size_t n)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < n && !rc; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            rc = nd_buf_addc(out, (char)c);
        } else if (c == ' ') {
            rc = nd_buf_addc(out, '+');
        } else {
            char tmp[3] = {'%', hex_upper[c >> 4], hex_upper[c & 0xF]};
            rc = nd_buf_add(out, tmp, 3);
        }
    }
    return rc ? rc : nd_buf_add(out, "", 0);
}

int nd_tmpl_go_quote(struct nd_buf *out, const char *s, size_t n)
{
    size_t i = 0, w;
    int rc = nd_buf_addc(out, '"');

    while (i < n && !rc) {
        uint32_t cp = nd_unicode_decode_utf8(s + i, n - i, &w);
        unsigned char c = (unsigned char)s[i];
        if (cp == 0xFFFD && w == 1) {
            rc = nd_buf_printf(out, "\\x%02x", c);
        } else if (cp == '"' || cp == '\\') {
            char tmp[2] = {'\\', (char)cp};
            rc = nd_buf_add(out, tmp, 2);
        } else if (cp < 0x80 ? (cp >= 0x20 && cp < 0x7F) : nd_unicode_is_print(cp)) {
            rc = nd_buf_add(out, s + i, w);
        } else {
            const char *esc = NULL;
            switch (cp) {
            case '\a':
                esc = "\\a";
                break;
            case '\b':
                esc = "\\b";
                break;
            case '\f':
                esc = "\\f";
                break;
            case '\n':
                esc = "\\n";
                break;
            case '\r':
                esc = "\\r";
                break;
            case '\t':
                esc = "\\t";
                break;
            case '\v':
                esc = "\\v";
                break;
            default:
                break;
            }
            if (esc)
                rc = nd_buf_adds(out, esc);
            else if (cp < 0x20 || cp == 0x7F)
                rc = nd_buf_printf(out, "\\x%02x", (unsigned)cp);
            else if (cp < 0x10000)
                rc = nd_buf_printf(out, "\\u%04x", (unsigned)cp);
            else
                rc = nd_buf_printf(out, "\\U%08x", (unsigned)cp);
        }
        i += w;
    }
    return rc ? rc : nd_buf_addc(out, '"');
}
