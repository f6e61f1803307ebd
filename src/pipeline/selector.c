/* selector.c - see include/notifyd/selector.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/regex.h"
#include "notifyd/selector.h"

enum op {
    OP_EQ,
    OP_NE,
    OP_IN,
    OP_NOTIN,
    OP_EXISTS,
    OP_NOT_EXISTS,
    OP_RE,
    OP_NOT_RE,
};

struct req {
    enum op op;
    char *key;
    char **vals; /* EQ, NE: one; IN, NOTIN: nvals; RE: the pattern */
    size_t nvals;
    struct nd_re *re;
};

struct nd_selector {
    struct req *reqs;
    size_t n;
};

struct parser {
    const char *text, *p;
    size_t *col;
    char *err;
};

__attribute__((format(printf, 3, 4))) static int fail(struct parser *ps, const char *at,
                                                      const char *fmt, ...)
{
    va_list ap;

    *ps->col = (size_t)(at - ps->text) + 1;
    va_start(ap, fmt);
    vsnprintf(ps->err, ND_ERRLEN, fmt, ap);
    va_end(ap);
    return ND_EINVAL;
}

static void skip_blanks(struct parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t')
        ps->p++;
}

static bool key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-' || c == '/';
}

/* Characters that end an unquoted value. */
static bool value_end(char c)
{
    return c == '\0' || c == ',' || c == ' ' || c == '\t' || c == '(' || c == ')' || c == '"';
}

static int parse_key(struct parser *ps, char **out)
{
    const char *a = ps->p;

    while (key_char(*ps->p))
        ps->p++;
    if (ps->p == a) {
        if (*a == '\0')
            return fail(ps, a, "expected a label name at the end");
        return fail(ps, a, "expected a label name, found '%.1s'", a);
    }
    *out = nd_xstrndup(a, (size_t)(ps->p - a));
    return ND_OK;
}

static int parse_value(struct parser *ps, bool in_set, char **out)
{
    const char *a;

    skip_blanks(ps);
    a = ps->p;
    if (*a == '"') {
        struct nd_buf b;
        const char *q = a + 1;

        nd_buf_init(&b, ND_SELECTOR_MAX_LEN);
        for (; *q && *q != '"'; q++) {
            if (*q == '\\' && (q[1] == '"' || q[1] == '\\'))
                q++;
            nd_buf_add(&b, q, 1);
        }
        if (*q != '"') {
            nd_buf_deinit(&b);
            return fail(ps, a, "unterminated quote");
        }
        nd_buf_add(&b, "", 0);
        *out = nd_buf_take(&b, NULL);
        if (!*out)
            *out = nd_xstrdup("");
        nd_buf_deinit(&b);
        ps->p = q + 1;
        return ND_OK;
    }
    while (!value_end(*ps->p))
        ps->p++;
    if (*ps->p == '(' || (*ps->p == ')' && !in_set) || *ps->p == '"')
        return fail(ps, ps->p, "'%.1s' in a value: quote the value (\"...\")", ps->p);
    *out = nd_xstrndup(a, (size_t)(ps->p - a));
    return ND_OK;
}

static void add_value(struct req *r, char *v)
{
    r->vals = nd_xrealloc(r->vals, (r->nvals + 1) * sizeof(*r->vals));
    r->vals[r->nvals++] = v;
}

static int parse_set(struct parser *ps, struct req *r)
{
    skip_blanks(ps);
    if (*ps->p != '(')
        return fail(ps, ps->p, "expected '(' after in/notin");
    ps->p++;
    for (;;) {
        const char *at;
        char *v = NULL;
        int rc;

        skip_blanks(ps);
        at = ps->p;
        if (*at == ')' && r->nvals == 0)
            return fail(ps, at, "empty value set: in/notin need at least one value");
        rc = parse_value(ps, true, &v);
        if (rc != ND_OK)
            return rc;
        if (r->nvals == ND_SELECTOR_MAX_VALUES) {
            free(v);
            return fail(ps, at, "more than %u values in one set", ND_SELECTOR_MAX_VALUES);
        }
        add_value(r, v);
        skip_blanks(ps);
        if (*ps->p == ')') {
            ps->p++;
            return ND_OK;
        }
        if (*ps->p != ',')
            return *ps->p ? fail(ps, ps->p, "expected ',' or ')', found '%.1s'", ps->p)
                          : fail(ps, ps->p, "expected ')' at the end");
        ps->p++;
    }
}

static void req_deinit(struct req *r)
{
    size_t i;

    free(r->key);
    for (i = 0; i < r->nvals; i++)
        free(r->vals[i]);
    free(r->vals);
    nd_re_free(r->re);
}

/* One requirement at ps->p (blanks skipped). */
static int parse_req(struct parser *ps, struct req *r)
{
    const char *at;
    int rc;

    if (*ps->p == '!') {
        ps->p++;
        skip_blanks(ps);
        r->op = OP_NOT_EXISTS;
        return parse_key(ps, &r->key);
    }
    rc = parse_key(ps, &r->key);
    if (rc != ND_OK)
        return rc;
    skip_blanks(ps);
    at = ps->p;
    if (*at == '\0' || *at == ',') {
        r->op = OP_EXISTS;
        return ND_OK;
    }
    if (at[0] == '=' && at[1] == '~') {
        r->op = OP_RE;
        ps->p += 2;
    } else if (at[0] == '!' && at[1] == '~') {
        r->op = OP_NOT_RE;
        ps->p += 2;
    } else if (at[0] == '=' && at[1] == '=') {
        r->op = OP_EQ;
        ps->p += 2;
    } else if (at[0] == '=') {
        r->op = OP_EQ;
        ps->p += 1;
    } else if (at[0] == '!' && at[1] == '=') {
        r->op = OP_NE;
        ps->p += 2;
    } else if (strncmp(at, "notin", 5) == 0 && !key_char(at[5])) {
        r->op = OP_NOTIN;
        ps->p += 5;
        return parse_set(ps, r);
    } else if (strncmp(at, "in", 2) == 0 && !key_char(at[2])) {
        r->op = OP_IN;
        ps->p += 2;
        return parse_set(ps, r);
    } else {
        return fail(ps, at, "unexpected '%.1s': want =, ==, !=, =~, !~, in, notin, ',' or the end",
                    at);
    }
    at = ps->p;
    {
        char *v = NULL;
        rc = parse_value(ps, false, &v);
        if (rc != ND_OK)
            return rc;
        add_value(r, v);
    }
    if (r->op == OP_RE || r->op == OP_NOT_RE) {
        char rerr[ND_ERRLEN];
        size_t off;

        if (nd_re_compile(&r->re, r->vals[0], strlen(r->vals[0]), rerr) != ND_OK) {
            /* Point at the pattern, past the blanks before it. */
            for (off = 0; at[off] == ' ' || at[off] == '\t'; off++)
                ;
            return fail(ps, at + off, "%s", rerr);
        }
    }
    return ND_OK;
}

int nd_selector_parse(const char *text, struct nd_selector **out, size_t *col, char err[ND_ERRLEN])
{
    struct parser ps = {text, text, col, err};
    struct nd_selector *s = nd_xcalloc(1, sizeof(*s));
    int rc = ND_OK;

    *out = NULL;
    *col = 0;
    if (strlen(text) > ND_SELECTOR_MAX_LEN) {
        free(s);
        return fail(&ps, text, "longer than %u bytes", ND_SELECTOR_MAX_LEN);
    }
    skip_blanks(&ps);
    while (rc == ND_OK && *ps.p) {
        struct req r = {0};

        if (s->n == ND_SELECTOR_MAX_REQS) {
            rc = fail(&ps, ps.p, "more than %u requirements", ND_SELECTOR_MAX_REQS);
            break;
        }
        rc = parse_req(&ps, &r);
        if (rc != ND_OK) {
            req_deinit(&r);
            break;
        }
        s->reqs = nd_xrealloc(s->reqs, (s->n + 1) * sizeof(*s->reqs));
        s->reqs[s->n++] = r;
        skip_blanks(&ps);
        if (*ps.p == ',') {
            ps.p++;
            skip_blanks(&ps);
            if (*ps.p == '\0')
                rc = fail(&ps, ps.p, "expected a requirement after ','");
        } else if (*ps.p) {
            rc = fail(&ps, ps.p, "expected ',' between requirements, found '%.1s'", ps.p);
        }
    }
    if (rc != ND_OK) {
        nd_selector_free(s);
        return rc;
    }
    *out = s;
    return ND_OK;
}

void nd_selector_free(struct nd_selector *s)
{
    size_t i;

    if (!s)
        return;
    for (i = 0; i < s->n; i++)
        req_deinit(&s->reqs[i]);
    free(s->reqs);
    free(s);
}

size_t nd_selector_count(const struct nd_selector *s)
{
    return s->n;
}

static bool in_set(const struct req *r, const char *v)
{
    size_t i;

    for (i = 0; i < r->nvals; i++)
        if (strcmp(r->vals[i], v) == 0)
            return true;
    return false;
}

/* Whether the pattern matches v (absent = ""); false with *ok false when
 * the match limit is hit. */
static bool re_matches(struct req *r, const char *v, bool *ok)
{
    char err[ND_ERRLEN];
    int m = 0;

    if (!v)
        v = "";
    *ok = nd_re_match(r->re, v, strlen(v), &m, err) == ND_OK;
    return *ok && m != 0;
}

static bool req_matches(struct req *r, const char *v)
{
    bool ok, m;

    switch (r->op) {
    case OP_EQ:
        return v && strcmp(v, r->vals[0]) == 0;
    case OP_NE:
        return !v || strcmp(v, r->vals[0]) != 0;
    case OP_IN:
        return v && in_set(r, v);
    case OP_NOTIN:
        return !v || !in_set(r, v);
    case OP_EXISTS:
        return v != NULL;
    case OP_NOT_EXISTS:
        return v == NULL;
    case OP_RE:
        return re_matches(r, v, &ok);
    case OP_NOT_RE:
        /* A match-limit failure is "not met" for both forms. */
        m = re_matches(r, v, &ok);
        return ok && !m;
    }
    return false;
}

bool nd_selector_matches(struct nd_selector *s, nd_selector_lookup_fn *lookup, const void *labels)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        if (!req_matches(&s->reqs[i], lookup(labels, s->reqs[i].key)))
            return false;
    return true;
}

bool nd_selector_first_eq(const struct nd_selector *s, const char **key, const char **value)
{
    for (size_t i = 0; s && i < s->n; i++) {
        if (s->reqs[i].op == OP_EQ) {
            *key = s->reqs[i].key;
            *value = s->reqs[i].vals[0];
            return true;
        }
    }
    return false;
}

static const char *alert_lookup(const void *labels, const char *name)
{
    return nd_alert_label(labels, name);
}

bool nd_selector_matches_alert(struct nd_selector *s, const struct nd_alert *a)
{
    return nd_selector_matches(s, alert_lookup, a);
}

static int format_value(struct nd_buf *out, const char *v)
{
    const char *p;
    /* Unquoted, a value starting with '=' or '~' would read as part of the
     * operator before it ("k=" + "=x" is "k==x"). */
    bool quote = *v == '\0' || *v == '=' || *v == '~';

    for (p = v; *p && !quote; p++)
        quote = value_end(*p) || *p == '\\';
    if (!quote)
        return nd_buf_adds(out, v);
    nd_buf_adds(out, "\"");
    for (p = v; *p; p++) {
        if (*p == '"' || *p == '\\')
            nd_buf_adds(out, "\\");
        nd_buf_add(out, p, 1);
    }
    return nd_buf_adds(out, "\"");
}

int nd_selector_format(const struct nd_selector *s, struct nd_buf *out)
{
    static const char *const ops[] = {
        [OP_EQ] = "=",    [OP_NE] = "!=",        [OP_IN] = " in ", [OP_NOTIN] = " notin ",
        [OP_EXISTS] = "", [OP_NOT_EXISTS] = "!", [OP_RE] = "=~",   [OP_NOT_RE] = "!~",
    };
    size_t i, k;
    int rc = ND_OK;

    for (i = 0; i < s->n && rc == ND_OK; i++) {
        const struct req *r = &s->reqs[i];

        if (i > 0)
            nd_buf_adds(out, ",");
        if (r->op == OP_NOT_EXISTS) {
            nd_buf_adds(out, "!");
            rc = nd_buf_adds(out, r->key);
            continue;
        }
        nd_buf_adds(out, r->key);
        rc = nd_buf_adds(out, ops[r->op]);
        if (r->op == OP_IN || r->op == OP_NOTIN) {
            nd_buf_adds(out, "(");
            for (k = 0; k < r->nvals; k++) {
                if (k > 0)
                    nd_buf_adds(out, ",");
                format_value(out, r->vals[k]);
            }
            rc = nd_buf_adds(out, ")");
        } else if (r->op != OP_EXISTS) {
            rc = format_value(out, r->vals[0]);
        }
    }
    return rc;
}
