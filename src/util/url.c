/* url.c - percent-encoding and query strings (url.h). */
#include "notifyd/url.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/util.h"

/* RFC 3986 section 2.3 unreserved characters. */
static bool unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/* The encoding into b; space as '+' when plus. Sized first so that a
 * refused append leaves b as it was. */
static int encode(struct nd_buf *b, const char *s, size_t n, bool plus)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t need = 0, i;
    char *o;
    int rc;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        need += unreserved(c) || (plus && c == ' ') ? 1 : 3;
    }
    rc = nd_buf_reserve(b, need);
    if (rc)
        return rc;
    o = b->data + b->len;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c)) {
            *o++ = (char)c;
        } else if (plus && c == ' ') {
            *o++ = '+';
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    b->len += need;
    return ND_OK;
}

int nd_url_encode(struct nd_buf *b, const char *s, size_t n)
{
    return encode(b, s, n, false);
}

int nd_url_query_escape(struct nd_buf *b, const char *s, size_t n)
{
    return encode(b, s, n, true);
}

struct sorted {
    const struct nd_url_param *p;
    size_t i; /* position in the caller's array: keeps the sort stable */
};

static int cmp_key(const void *a, const void *b)
{
    const struct sorted *x = a, *y = b;
    int c = strcmp(x->p->key, y->p->key);

    if (c)
        return c;
    return x->i < y->i ? -1 : x->i > y->i;
}

int nd_url_query_build(struct nd_buf *b, const struct nd_url_param *p, size_t n, unsigned flags)
{
    bool plus = !(flags & ND_URL_RFC3986);
    struct sorted *order = NULL;
    size_t len0 = b->len, i;
    int rc = ND_OK;

    if (flags & ND_URL_SORT && n > 1) {
        order = nd_xmalloc(n * sizeof(*order));
        for (i = 0; i < n; i++) {
            order[i].p = &p[i];
            order[i].i = i;
        }
        qsort(order, n, sizeof(*order), cmp_key);
    }
    for (i = 0; i < n && rc == ND_OK; i++) {
        const struct nd_url_param *q = order ? order[i].p : &p[i];
        const char *v = q->value ? q->value : "";
        if (i > 0)
            rc = nd_buf_addc(b, '&');
        if (rc == ND_OK)
            rc = encode(b, q->key, strlen(q->key), plus);
        if (rc == ND_OK)
            rc = nd_buf_addc(b, '=');
        if (rc == ND_OK)
            rc = encode(b, v, strlen(v), plus);
    }
    free(order);
    if (rc) {
        b->len = len0;
        if (b->data)
            b->data[len0] = '\0';
    }
    return rc;
}

int nd_url_append_query(struct nd_buf *b, const char *url, const char *query)
{
    const char *hash = strchr(url, '#');
    size_t base = hash ? (size_t)(hash - url) : strlen(url), len0 = b->len;
    const char *q = memchr(url, '?', base);
    int rc;

    if (!query[0])
        return nd_buf_adds(b, url);
    rc = nd_buf_add(b, url, base);
    if (rc == ND_OK && (!q || (url[base - 1] != '?' && url[base - 1] != '&')))
        rc = nd_buf_addc(b, q ? '&' : '?');
    if (rc == ND_OK)
        rc = nd_buf_adds(b, query);
    if (rc == ND_OK && hash)
        rc = nd_buf_adds(b, hash);
    if (rc) {
        b->len = len0;
        if (b->data)
            b->data[len0] = '\0';
    }
    return rc;
}
