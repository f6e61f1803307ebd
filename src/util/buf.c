/* buf.c - bounded growable buffer. */
#include "notifyd/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/util.h"

void nd_buf_init(struct nd_buf *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit;
}

void nd_buf_deinit(struct nd_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void nd_buf_reset(struct nd_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* Makes room for n more bytes plus the NUL, or says the ceiling is hit (buf.h). */
int nd_buf_reserve(struct nd_buf *b, size_t n)
{
    if (n > b->limit || b->len > b->limit - n)
        return ND_ETOOBIG;
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return ND_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    b->data = nd_xrealloc(b->data, cap);
    b->cap = cap;
    return ND_OK;
}

int nd_buf_add(struct nd_buf *b, const void *p, size_t n)
{
    int rc = nd_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return ND_OK;
}

int nd_buf_adds(struct nd_buf *b, const char *s)
{
    return nd_buf_add(b, s, strlen(s));
}

int nd_buf_addc(struct nd_buf *b, char c)
{
    return nd_buf_add(b, &c, 1);
}

int nd_buf_vprintf(struct nd_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return ND_EINVAL;
    int rc = nd_buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return ND_OK;
}

int nd_buf_printf(struct nd_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = nd_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int nd_buf_add_json_escaped(struct nd_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *rep = NULL;
        char u[7];
        switch (c) {
        case '"':
            rep = "\\\"";
            break;
        case '\\':
            rep = "\\\\";
            break;
        case '\n':
            rep = "\\n";
            break;
        case '\r':
            rep = "\\r";
            break;
        case '\t':
            rep = "\\t";
            break;
        case 0xe2:
            /* U+2028 and U+2029 break JavaScript string literals: Go
             * escapes them, and so do we. */
            if (i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
                ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9)) {
                rep = (unsigned char)s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
                int rc = nd_buf_add(b, s + start, i - start);
                if (!rc)
                    rc = nd_buf_adds(b, rep);
                if (rc)
                    return rc;
                i += 2;
                start = i + 1;
            }
            continue;
        default:
            /* Go's encoder writes <, > and & as \u escapes so that JSON can
             * be embedded in HTML; receivers compare bytes, so we do too. */
            if (c < 0x20 || c == '<' || c == '>' || c == '&') {
                u[0] = '\\';
                u[1] = 'u';
                u[2] = '0';
                u[3] = '0';
                u[4] = hex[c >> 4];
                u[5] = hex[c & 15];
                u[6] = '\0';
                rep = u;
            }
        }
        if (!rep)
            continue;
        int rc = nd_buf_add(b, s + start, i - start);
        if (!rc)
            rc = nd_buf_adds(b, rep);
        if (rc)
            return rc;
        start = i + 1;
    }
    return nd_buf_add(b, s + start, n - start);
}

int nd_buf_add_json_string(struct nd_buf *b, const char *s)
{
    int rc = nd_buf_addc(b, '"');
    if (!rc)
        rc = nd_buf_add_json_escaped(b, s, strlen(s));
    if (!rc)
        rc = nd_buf_addc(b, '"');
    return rc;
}

char *nd_buf_take(struct nd_buf *b, size_t *len)
{
    char *p = b->data;
    if (!p) {
        p = nd_xmalloc(1);
        p[0] = '\0';
    }
    if (len)
        *len = b->len;
    nd_buf_init(b, b->limit);
    return p;
}
