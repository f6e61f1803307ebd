/* jsonr.c - JSON reader for platforms' answers on yajl's tree (jsonr.h). */
#include "notifyd/jsonr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "notifyd/util.h"

struct nd_jsonr {
    yajl_val root;
};

/* Refuses what yajl's tree must not see: nesting deeper than the limit, a
 * NUL (yajl_tree_parse reads a C string) and '/' outside strings, which
 * yajl_tree_parse would take as a comment, so that this scan and yajl's
 * lexer agree on what is inside a string up to yajl's first error. */
int nd_jsonr_prescan(const char *s, size_t n, size_t max_depth, char *err)
{
    size_t depth = 0, i;
    bool in_str = false;

    for (i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\0')
            return nd_seterr(err, ND_EINVAL, "NUL byte at offset %zu", i);
        if (in_str) {
            if (c == '\\')
                i++; /* the escaped character cannot end the string */
            else if (c == '"')
                in_str = false;
            continue;
        }
        switch (c) {
        case '"':
            in_str = true;
            break;
        case '{':
        case '[':
            if (++depth > max_depth)
                return nd_seterr(err, ND_ETOOBIG, "nesting deeper than %zu at offset %zu",
                                 max_depth, i);
            break;
        case '}':
        case ']':
            if (depth > 0)
                depth--;
            break;
        case '/':
            return nd_seterr(err, ND_EINVAL, "unexpected '/' at offset %zu", i);
        default:
            break;
        }
    }
    return ND_OK;
}

int nd_jsonr_parse(const char *body, size_t len, struct nd_jsonr **doc, char *err)
{
    char yerr[ND_ERRLEN], *text, *nl;
    yajl_val root;
    int rc;

    *doc = NULL;
    if (len > ND_JSONR_MAX_BODY)
        return nd_seterr(err, ND_ETOOBIG, "body of %zu bytes over the limit of %u", len,
                         ND_JSONR_MAX_BODY);
    rc = nd_jsonr_prescan(body, len, ND_JSONR_MAX_DEPTH, err);
    if (rc)
        return rc;
    text = nd_xstrndup(body, len);
    yerr[0] = '\0';
    root = yajl_tree_parse(text, yerr, sizeof yerr);
    free(text);
    if (!root) {
        /* yajl's message is verbose: its first line, without the quoted
         * input and arrow that follow. */
        nl = strchr(yerr, '\n');
        if (nl)
            *nl = '\0';
        return nd_seterr(err, ND_EINVAL, "invalid JSON: %s", yerr[0] ? yerr : "parse error");
    }
    *doc = nd_xmalloc(sizeof(**doc));
    (*doc)->root = root;
    return ND_OK;
}

void nd_jsonr_free(struct nd_jsonr *doc)
{
    if (!doc)
        return;
    yajl_tree_free(doc->root);
    free(doc);
}

/* A decimal index of at most 9 digits (arrays of a 64 KiB body are
 * shorter); -1 if seg is not one. */
static long parse_index(const char *seg, size_t n)
{
    long v = 0;

    if (n == 0 || n > 9)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (seg[i] < '0' || seg[i] > '9')
            return -1;
        v = v * 10 + (seg[i] - '0');
    }
    return v;
}

/* The value at path, or NULL when absent. */
static yajl_val lookup(const struct nd_jsonr *doc, const char *path)
{
    yajl_val v = doc ? doc->root : NULL;
    const char *p = path;

    while (v && *p) {
        size_t n;
        bool bracket = false;

        if (*p == '.')
            p++;
        if (*p == '[') {
            bracket = true;
            p++;
            n = strcspn(p, "]");
            if (p[n] != ']')
                return NULL;
        } else {
            n = strcspn(p, ".[");
        }
        if (v->type == yajl_t_object && !bracket) {
            yajl_val next = NULL;
            for (size_t i = 0; i < v->u.object.len; i++) {
                const char *k = v->u.object.keys[i];
                if (strncmp(k, p, n) == 0 && k[n] == '\0') {
                    next = v->u.object.values[i];
                    break;
                }
            }
            v = next;
        } else if (v->type == yajl_t_array) {
            long idx = parse_index(p, n);
            v = idx >= 0 && (size_t)idx < v->u.array.len ? v->u.array.values[idx] : NULL;
        } else {
            return NULL;
        }
        p += n + (bracket ? 1 : 0);
    }
    return v;
}

enum nd_jsonr_type nd_jsonr_type(const struct nd_jsonr *doc, const char *path)
{
    yajl_val v = lookup(doc, path);

    if (!v)
        return ND_JSONR_NONE;
    switch (v->type) {
    case yajl_t_null:
        return ND_JSONR_NULL;
    case yajl_t_true:
    case yajl_t_false:
        return ND_JSONR_BOOL;
    case yajl_t_number:
        return ND_JSONR_NUMBER;
    case yajl_t_string:
        return ND_JSONR_STRING;
    case yajl_t_array:
        return ND_JSONR_ARRAY;
    case yajl_t_object:
        return ND_JSONR_OBJECT;
    default:
        return ND_JSONR_NONE;
    }
}

/* The value at path if it has the type, else the status to return. */
static int get(const struct nd_jsonr *doc, const char *path, yajl_type t, yajl_val *out)
{
    yajl_val v = lookup(doc, path);

    if (!v)
        return ND_JSONR_EABSENT;
    if (v->type != t && !(t == yajl_t_true && v->type == yajl_t_false))
        return ND_JSONR_ETYPE;
    *out = v;
    return ND_OK;
}

int nd_jsonr_int(const struct nd_jsonr *doc, const char *path, int64_t *v)
{
    yajl_val x;
    int rc = get(doc, path, yajl_t_number, &x);
    const char *r;
    char *end;
    long long n;

    if (rc)
        return rc;
    /* The number's own text, not yajl's integer flag, decides: yajl does
     * not tell a fraction from an overflow. */
    r = x->u.number.r;
    if (strpbrk(r, ".eE"))
        return ND_JSONR_ETYPE;
    errno = 0;
    n = strtoll(r, &end, 10);
    if (errno == ERANGE)
        return ND_JSONR_ERANGE;
    if (*end != '\0' || end == r)
        return ND_JSONR_ETYPE;
    *v = n;
    return ND_OK;
}

int nd_jsonr_double(const struct nd_jsonr *doc, const char *path, double *v)
{
    yajl_val x;
    int rc = get(doc, path, yajl_t_number, &x);

    if (rc)
        return rc;
    *v = strtod(x->u.number.r, NULL);
    return ND_OK;
}

int nd_jsonr_bool(const struct nd_jsonr *doc, const char *path, bool *v)
{
    yajl_val x;
    int rc = get(doc, path, yajl_t_true, &x);

    if (rc)
        return rc;
    *v = x->type == yajl_t_true;
    return ND_OK;
}

int nd_jsonr_str(const struct nd_jsonr *doc, const char *path, const char **v)
{
    yajl_val x;
    int rc = get(doc, path, yajl_t_string, &x);

    if (rc)
        return rc;
    *v = x->u.string;
    return ND_OK;
}

int nd_jsonr_len(const struct nd_jsonr *doc, const char *path, size_t *n)
{
    yajl_val v = lookup(doc, path);

    if (!v)
        return ND_JSONR_EABSENT;
    if (v->type == yajl_t_array)
        *n = v->u.array.len;
    else if (v->type == yajl_t_object)
        *n = v->u.object.len;
    else
        return ND_JSONR_ETYPE;
    return ND_OK;
}
