/* json.c - the alert payload parser on yajl's callback API.
 *
 * The parser is a small state machine driven by yajl's events: it never
 * builds a tree, so memory is the alerts being built plus yajl's own stack,
 * and that stack is bounded because start_map/start_array cancel the parse
 * past max_depth. A value nobody wants (unknown keys, "fingerprint") is
 * skipped by counting its nesting, whatever its type.
 *
 * The callbacks run once per token (about 60 per alert), so they avoid
 * copies: a label name is used where yajl hands it over and copied only when
 * it would not outlive the value (see cb_map_key and parse_feed).
 */
#include "notifyd/ingest.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <yajl/yajl_parse.h>

#include "notifyd/alert.h"
#include "notifyd/buf.h"
#include "notifyd/util.h"

#define DEFAULT_MAX_ALERT_BYTES (1u << 20)

enum state {
    S_TOP,       /* expecting the body's value */
    S_ROOT_KEY,  /* in the webhook object: a key or its end */
    S_ROOT_VAL,  /* expecting the value of "alerts" */
    S_ALERTS,    /* in the alerts array: an alert or its end */
    S_ALERT_KEY, /* in an alert: a key or its end */
    S_ALERT_VAL, /* expecting the value of field `field` */
    S_KV_KEY,    /* in labels/annotations: a name or the end */
    S_KV_VAL,    /* expecting the value for the name in kname/klen */
    S_SKIP,      /* skipping one value, then back to `ret` */
    S_DONE,
};

enum field { F_STATUS, F_LABELS, F_ANNOTATIONS, F_STARTS, F_ENDS, F_GENURL };

static const char *const field_names[] = {"status",   "labels", "annotations",
                                          "startsAt", "endsAt", "generatorURL"};

enum vtype { V_NULL, V_BOOL, V_NUMBER, V_STRING, V_MAP, V_ARRAY };

/* The last time string parsed for one field, and its value: the alerts of
 * one request usually share endsAt (Go's zero time while firing) and often
 * startsAt, and a compare costs less than the parse. */
struct time_memo {
    size_t len; /* SIZE_MAX while empty */
    char s[ND_TIME_MAXLEN];
    struct nd_time t;
};

struct ictx {
    const char *cluster;
    uint32_t max_depth;
    int64_t now_ns;
    uint32_t depth; /* current nesting, skipped values included */
    uint32_t skip;  /* nesting inside the value being skipped */
    enum state state, ret;
    enum field field;
    bool root_is_object, saw_alerts, saw_value;
    size_t index; /* of the alert being built */
    /* The label/annotation name waiting for its value: in the chunk being
     * parsed, or in `key` when yajl handed over its own buffer, which the
     * next token may overwrite. */
    const char *kname;
    size_t klen;
    struct nd_buf key;
    struct nd_buf fixed; /* a string with invalid UTF-8 as Go decodes it (go_utf8) */
    bool suspect;        /* a byte fed so far may start invalid UTF-8 (has_suspect) */
    const char *chunk;   /* the bytes of the current yajl_parse call */
    size_t chunk_len;
    struct time_memo memo[2]; /* startsAt, endsAt */
    struct nd_alert_builder b;
    struct nd_alert **alerts;
    size_t n, cap;
    /* first error wins; later callbacks never run because we cancel */
    bool failed, too_deep;
    int rc;
    enum nd_reject_reason reason;
    char *err;
    size_t base; /* bytes fed in earlier chunks */
};

static void *y_malloc(void *ctx, size_t n)
{
    ND_UNUSED(ctx);
    return nd_xmalloc(n ? n : 1);
}

static void *y_realloc(void *ctx, void *p, size_t n)
{
    ND_UNUSED(ctx);
    return nd_xrealloc(p, n ? n : 1);
}

static void y_free(void *ctx, void *p)
{
    ND_UNUSED(ctx);
    free(p);
}

__attribute__((format(printf, 4, 5))) static int fail(struct ictx *c, enum nd_reject_reason r,
                                                      int rc, const char *fmt, ...)
{
    if (!c->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err, ND_ERRLEN, fmt, ap);
        va_end(ap);
        c->failed = true;
        c->reason = r;
        c->rc = rc;
    }
    return 0;
}

/* Makes untrusted bytes safe to quote in a message: control characters are
 * written as \u00XX (a NUL would otherwise cut the message), long text is cut. */
static const char *quote(char *dst, size_t cap, const char *s, size_t len)
{
    size_t o = 0, max = cap - 8;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (o + 7 > max) {
            /* cut at a character boundary: the message ends up in JSON */
            size_t keep = o;
            while (keep > 0 && ((unsigned char)dst[keep - 1] & 0xc0) == 0x80)
                keep--;
            if (keep > 0 && (unsigned char)dst[keep - 1] >= 0xc0)
                o = keep - 1;
            memcpy(dst + o, "...", 3);
            o += 3;
            break;
        }
        if (ch < 0x20 || ch == 0x7f)
            o += (size_t)snprintf(dst + o, cap - o, "\\u%04x", ch);
        else
            dst[o++] = (char)ch;
    }
    dst[o] = '\0';
    return dst;
}

/* k[0..n) equals `name` (letters only) ignoring ASCII case: `| 0x20`
 * lowers a letter and maps no other byte onto a lower-case letter. */
static bool fold_eq(const unsigned char *k, const char *name, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((k[i] | 0x20) != ((unsigned char)name[i] | 0x20))
            return false;
    return true;
}

/* `f` when k[0..n) is its name. n is a constant at every call, so that the
 * memcmp is a load or two and no call. */
static inline int field_if(const unsigned char *k, enum field f, size_t n)
{
    return memcmp(k, field_names[f], n) == 0 || fold_eq(k, field_names[f], n) ? (int)f : -1;
}

/* Go's encoding/json matches field names case-insensitively (ASCII here, as
 * strncasecmp did). Senders write them exactly, so the length, the first
 * letter and one compare settle nearly every key; -1 for any other key. */
static int alert_field(const unsigned char *k, size_t len)
{
    switch (len) {
    case 6:
        switch (k[0] | 0x20) {
        case 's':
            return field_if(k, F_STATUS, 6);
        case 'l':
            return field_if(k, F_LABELS, 6);
        case 'e':
            return field_if(k, F_ENDS, 6);
        default:
            return -1;
        }
    case 8:
        return field_if(k, F_STARTS, 8);
    case 11:
        return field_if(k, F_ANNOTATIONS, 11);
    case 12:
        return field_if(k, F_GENURL, 12);
    default:
        return -1;
    }
}

static bool in_chunk(const struct ictx *c, const void *p, size_t len)
{
    uintptr_t a = (uintptr_t)p, lo = (uintptr_t)c->chunk;
    return a >= lo && a - lo <= c->chunk_len && len <= c->chunk_len - (a - lo);
}

/* Moves the pending name into `key`. It fits: map_key refused names longer
 * than the alert limit, which is the buffer's limit. */
static void keep_key(struct ictx *c)
{
    if (c->kname == c->key.data)
        return;
    nd_buf_reset(&c->key);
    nd_buf_add(&c->key, c->kname, c->klen);
    c->kname = nd_buf_cstr(&c->key);
}

static int too_large(struct ictx *c)
{
    return fail(c, ND_REJECT_TOO_LARGE, ND_ETOOBIG, "alerts[%zu]: alert larger than %zu bytes",
                c->index, c->key.limit);
}

/* The alert format counts labels and annotations in 16 bits: a limit of its
 * own, named as such (not as the byte limit). */
static int too_many(struct ictx *c, const char *what)
{
    return fail(c, ND_REJECT_TOO_LARGE, ND_ETOOBIG, "alerts[%zu].%s: more than %u %s", c->index,
                what, ND_ALERT_MAX_PAIRS, what);
}

static int builder_fail(struct ictx *c, int rc, const char *what)
{
    char q[80];
    if (rc == ND_ETOOBIG)
        return too_large(c);
    return fail(c, ND_REJECT_BAD_SHAPE, ND_EINVAL, "alerts[%zu].%s%s%s: contains a NUL byte",
                c->index, what, c->state == S_KV_VAL ? "." : "",
                c->state == S_KV_VAL ? quote(q, sizeof q, c->kname, c->klen) : "");
}

static void skip_value(struct ictx *c, enum state ret)
{
    c->state = S_SKIP;
    c->ret = ret;
    c->skip = 0;
}

static int finish_alert(struct ictx *c)
{
    char e[ND_ERRLEN];
    size_t nl = nd_alert_builder_nlabels(&c->b);
    if (nl == 0)
        return fail(c, ND_REJECT_BAD_SHAPE, ND_EINVAL,
                    "alerts[%zu].labels: at least one label required", c->index);
    struct nd_alert *a = nd_alert_builder_finish(&c->b, c->cluster, c->now_ns, e);
    if (!a && nl >= ND_ALERT_MAX_PAIRS) /* the added cluster label is one too many */
        return fail(c, ND_REJECT_TOO_LARGE, ND_ETOOBIG,
                    "alerts[%zu].labels: more than %u labels with the cluster label", c->index,
                    ND_ALERT_MAX_PAIRS);
    if (!a)
        return fail(c, ND_REJECT_BAD_SHAPE, ND_EINVAL, "alerts[%zu]: %s", c->index, e);
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        c->alerts = nd_xrealloc(c->alerts, c->cap * sizeof *c->alerts);
    }
    c->alerts[c->n++] = a;
    c->index++;
    return 1;
}

static int time_value(struct ictx *c, const char *s, size_t len)
{
    struct time_memo *m = &c->memo[c->field == F_STARTS ? 0 : 1];
    struct nd_time t;
    char q[80];
    if (len == m->len && memcmp(s, m->s, len) == 0) {
        t = m->t;
    } else if (nd_time_parse_rfc3339(s, len, &t) != ND_OK) {
        return fail(c, ND_REJECT_BAD_SHAPE, ND_EINVAL,
                    "alerts[%zu].%s: invalid RFC 3339 time \"%s\"", c->index, field_names[c->field],
                    quote(q, sizeof q, s, len));
    } else if (len <= sizeof m->s) {
        memcpy(m->s, s, len);
        m->len = len;
        m->t = t;
    }
    if (c->field == F_STARTS)
        nd_alert_builder_set_times(&c->b, &t, NULL);
    else
        nd_alert_builder_set_times(&c->b, NULL, &t);
    return 1;
}

static int field_value(struct ictx *c, enum vtype t, const char *s, size_t len)
{
    c->state = S_ALERT_KEY;
    if (t == V_NULL)
        return 1; /* null means absent; null labels end up as "no label" */
    switch (c->field) {
    case F_LABELS:
    case F_ANNOTATIONS:
        if (t != V_MAP)
            return fail(c, ND_REJECT_BAD_SHAPE, ND_EINVAL, "alerts[%zu].%s: expected object",
                        c->index, field_names[c->field]);
        c->state = S_KV_KEY;
        return 1;
    default:
        break;
    }
    if (t != V_STRING)
        return fail(c, ND_REJECT_BAD_SHAPE, ND_EINVAL, "alerts[%zu].%s: expected string", c->index,
                    field_names[c->field]);
    switch (c->field) {
    case F_STATUS:
        if (len == 6 && memcmp(s, "firing", 6) == 0)
            nd_alert_builder_set_status(&c->b, ND_ALERT_FIRING);
        else if (len == 8 && memcmp(s, "resolved", 8) == 0)
            nd_alert_builder_set_status(&c->b, ND_ALERT_RESOLVED);
        else
            return fail(c, ND_REJECT_BAD_SHAPE, ND_EINVAL,
                        "alerts[%zu].status: expected \"firing\" or \"resolved\"", c->index);
        return 1;
    case F_STARTS:
    case F_ENDS:
        return time_value(c, s, len);
    case F_GENURL: {
        int rc = nd_alert_builder_set_generator_url(&c->b, s, len);
        return rc == ND_OK ? 1 : builder_fail(c, rc, "generatorURL");
    }
    default:
        return 1;
    }
}

/* A label or annotation: most of the strings of a body. */
static int kv_add(struct ictx *c, const char *s, size_t len)
{
    bool labels = c->field == F_LABELS;
    const struct nd_buf *index = labels ? &c->b.lab : &c->b.ann;
    if (index->len >= ND_ALERT_MAX_PAIRS * sizeof(struct nd_alert_pair))
        return too_many(c, field_names[c->field]);
    int rc = labels ? nd_alert_builder_add_label(&c->b, c->kname, c->klen, s, len)
                    : nd_alert_builder_add_annotation(&c->b, c->kname, c->klen, s, len);
    if (rc != ND_OK)
        return builder_fail(c, rc, field_names[c->field]);
    c->state = S_KV_KEY;
    return 1;
}

static int kv_value(struct ictx *c, enum vtype t, const char *s, size_t len)
{
    char q[80];
    if (t == V_NULL) /* Go stores the zero value for a null map element: "" (a dropped label). */
        return kv_add(c, "", 0);
    if (t != V_STRING)
        return fail(c, ND_REJECT_BAD_SHAPE, ND_EINVAL, "alerts[%zu].%s.%s: expected string",
                    c->index, field_names[c->field], quote(q, sizeof q, c->kname, c->klen));
    return kv_add(c, s, len);
}

/* Every value event: scalars and the opening of containers. */
static int on_value(struct ictx *c, enum vtype t, const char *s, size_t len)
{
    switch (c->state) {
    case S_TOP:
        c->saw_value = true;
        if (t == V_MAP) {
            c->root_is_object = true;
            c->state = S_ROOT_KEY;
        } else if (t == V_ARRAY) {
            c->state = S_ALERTS;
        } else {
            return fail(c, ND_REJECT_BAD_SHAPE, ND_EINVAL, "body: expected object or array");
        }
        return 1;
    case S_ROOT_VAL:
        if (t != V_ARRAY)
            return fail(c, ND_REJECT_BAD_SHAPE, ND_EINVAL, "alerts: expected array");
        c->state = S_ALERTS;
        return 1;
    case S_ALERTS:
        if (t != V_MAP)
            return fail(c, ND_REJECT_BAD_SHAPE, ND_EINVAL, "alerts[%zu]: expected object",
                        c->index);
        c->state = S_ALERT_KEY;
        return 1;
    case S_ALERT_VAL:
        return field_value(c, t, s, len);
    case S_KV_VAL:
        return kv_value(c, t, s, len);
    default:
        /* yajl only gives values where the grammar allows them. */
        return fail(c, ND_REJECT_INVALID_JSON, ND_EINVAL, "internal: value in state %d",
                    (int)c->state);
    }
}

static int scalar(void *ctx, enum vtype t, const char *s, size_t len)
{
    struct ictx *c = ctx;
    if (c->state == S_SKIP) {
        if (c->skip == 0)
            c->state = c->ret;
        return 1;
    }
    return on_value(c, t, s, len);
}

static int cb_null(void *ctx)
{
    return scalar(ctx, V_NULL, NULL, 0);
}

static int cb_boolean(void *ctx, int v)
{
    ND_UNUSED(v);
    return scalar(ctx, V_BOOL, NULL, 0);
}

static int cb_number(void *ctx, const char *s, size_t len)
{
    return scalar(ctx, V_NUMBER, s, len);
}

/* yajl has checked the shape of UTF-8 (a lead byte, then the continuation
 * bytes it announces): only a sequence that starts with one of these lead
 * bytes can be invalid. */
static const bool suspect[256] = {[0xc0] = 1, [0xc1] = 1, [0xe0] = 1, [0xed] = 1, [0xf0] = 1,
                                  [0xf4] = 1, [0xf5] = 1, [0xf6] = 1, [0xf7] = 1};

/* Whether s[0..n) holds a suspect lead byte: one pass over each piece of
 * the body, 8 bytes at a time (only bytes >= 0xc0 are looked up), so that
 * the strings of a body without one are not looked at again. */
static bool has_suspect(const unsigned char *s, size_t n)
{
    size_t i = 0;
    for (uint64_t w; i + 8 <= n; i += 8) {
        memcpy(&w, s + i, 8);
        if (!(w & w << 1 & UINT64_C(0x8080808080808080)))
            continue;
        for (size_t k = 0; k < 8; k++)
            if (suspect[s[i + k]])
                return true;
    }
    for (; i < n; i++)
        if (suspect[s[i]])
            return true;
    return false;
}

/* The length of the UTF-8 sequence at s[0..n) if it is valid by Go's
 * utf8.DecodeRune (shortest form, no UTF-16 surrogate, at most U+10FFFF),
 * else 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char b = s[0];
    if (b < 0x80)
        return 1;
    if (b < 0xc2)
        return 0;
    if (b < 0xe0)
        return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (b < 0xf0) {
        unsigned char lo = b == 0xe0 ? 0xa0 : 0x80, hi = b == 0xed ? 0x9f : 0xbf;
        return n >= 3 && s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
    }
    if (b < 0xf5) {
        unsigned char lo = b == 0xf0 ? 0x90 : 0x80, hi = b == 0xf4 ? 0x8f : 0xbf;
        return n >= 4 && s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80
                   ? 4
                   : 0;
    }
    return 0;
}

/* A string as Go's encoding/json decodes it: every byte that does not start
 * a valid UTF-8 sequence becomes U+FFFD. yajl 2.1 checks only the shape of
 * a sequence and lets overlong forms, encoded UTF-16 surrogates and code
 * points above U+10FFFF through; Alertmanager would see U+FFFD in their
 * place, in the labels and so in the fingerprint. Returns `s` itself when
 * it is valid, else the decoded
 * copy in c->fixed with *len updated, or NULL past that buffer's limit. */
static const char *go_utf8(struct ictx *c, const char *s, size_t *len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = *len, i = 0;
    for (uint64_t w; i + 8 <= n; i += 8) {
        memcpy(&w, u + i, 8);
        if (w & UINT64_C(0x8080808080808080))
            break;
    }
    while (i < n && !suspect[u[i]])
        i++;
    if (i == n)
        return s;
    /* from the first suspect lead byte on, sequence by sequence */
    for (size_t k; i < n && (k = utf8_seq(u + i, n - i)) != 0;)
        i += k;
    if (i == n)
        return s;
    struct nd_buf *f = &c->fixed;
    nd_buf_reset(f);
    int rc = nd_buf_add(f, s, i);
    while (rc == ND_OK && i < n) {
        size_t k = utf8_seq(u + i, n - i);
        rc = k ? nd_buf_add(f, u + i, k) : nd_buf_add(f, "\xef\xbf\xbd", 3);
        i += k ? k : 1;
    }
    if (rc != ND_OK)
        return NULL;
    *len = f->len;
    return nd_buf_cstr(f);
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
    struct ictx *c = ctx;
    if (c->state == S_SKIP)
        return scalar(ctx, V_STRING, NULL, 0);
    /* in a body without a suspect byte every string is valid */
    const char *v = c->suspect ? go_utf8(c, (const char *)s, &len) : (const char *)s;
    if (!v)
        return too_large(c);
    if (c->state == S_KV_VAL) /* the common case, without the dispatch */
        return kv_add(c, v, len);
    return scalar(ctx, V_STRING, v, len);
}

static int open_container(void *ctx, enum vtype t)
{
    struct ictx *c = ctx;
    if (++c->depth > c->max_depth) {
        c->too_deep = true;
        return 0;
    }
    if (c->state == S_SKIP) {
        c->skip++;
        return 1;
    }
    return on_value(c, t, NULL, 0);
}

static int cb_start_map(void *ctx)
{
    return open_container(ctx, V_MAP);
}

static int cb_start_array(void *ctx)
{
    return open_container(ctx, V_ARRAY);
}

static int cb_map_key(void *ctx, const unsigned char *k, size_t len)
{
    struct ictx *c = ctx;
    switch (c->state) {
    case S_KV_KEY:
        /* A name in the chunk stays valid while yajl_parse runs; one in
         * yajl's buffers (escapes, a token split between chunks) may not
         * survive the next token, nor one decoded into c->fixed, which the
         * value may reuse. */
        c->kname = c->suspect ? go_utf8(c, (const char *)k, &len) : (const char *)k;
        c->klen = len;
        if (!c->kname || len > c->key.limit)
            return too_large(c);
        if (c->kname != (const char *)k || !in_chunk(c, k, len))
            keep_key(c);
        c->state = S_KV_VAL;
        return 1;
    case S_SKIP:
        return 1;
    case S_ROOT_KEY:
        if (len == 6 && (memcmp(k, "alerts", 6) == 0 || fold_eq(k, "alerts", 6))) {
            if (c->saw_alerts)
                return fail(c, ND_REJECT_BAD_SHAPE, ND_EINVAL, "alerts: duplicate key");
            c->saw_alerts = true;
            c->state = S_ROOT_VAL;
        } else {
            skip_value(c, S_ROOT_KEY);
        }
        return 1;
    case S_ALERT_KEY: {
        int f = alert_field(k, len);
        if (f < 0) {
            skip_value(c, S_ALERT_KEY);
            return 1;
        }
        c->field = (enum field)f;
        c->state = S_ALERT_VAL;
        return 1;
    }
    default:
        return fail(c, ND_REJECT_INVALID_JSON, ND_EINVAL, "internal: key in state %d",
                    (int)c->state);
    }
}

static int close_container(struct ictx *c)
{
    c->depth--;
    if (c->state == S_SKIP) {
        if (--c->skip == 0)
            c->state = c->ret;
        return 1;
    }
    switch (c->state) {
    case S_ROOT_KEY:
        c->state = S_DONE;
        if (!c->saw_alerts)
            return fail(c, ND_REJECT_BAD_SHAPE, ND_EINVAL, "body: missing \"alerts\"");
        return 1;
    case S_ALERT_KEY:
        c->state = S_ALERTS;
        return finish_alert(c);
    case S_KV_KEY:
        c->state = S_ALERT_KEY;
        return 1;
    case S_ALERTS:
        c->state = c->root_is_object ? S_ROOT_KEY : S_DONE;
        return 1;
    default:
        return fail(c, ND_REJECT_INVALID_JSON, ND_EINVAL, "internal: end in state %d",
                    (int)c->state);
    }
}

static int cb_end_map(void *ctx)
{
    return close_container(ctx);
}

static int cb_end_array(void *ctx)
{
    return close_container(ctx);
}

static const yajl_callbacks callbacks = {
    .yajl_null = cb_null,
    .yajl_boolean = cb_boolean,
    /* yajl_number instead of integer/double: big numbers in skipped values
     * must not fail the parse with "integer overflow". */
    .yajl_number = cb_number,
    .yajl_string = cb_string,
    .yajl_start_map = cb_start_map,
    .yajl_map_key = cb_map_key,
    .yajl_end_map = cb_end_map,
    .yajl_start_array = cb_start_array,
    .yajl_end_array = cb_end_array,
};

static yajl_alloc_funcs alloc_funcs = {y_malloc, y_realloc, y_free, NULL};

/* The longest escape sequence whose meaning depends on what follows it: a
 * surrogate pair, \uD83D\uDE00. */
#define ESC_MAX 12

struct parse {
    struct ictx c;
    yajl_handle h;
    /* The end of the last piece, from an escape whose meaning the next
     * bytes decide (see parse_feed); room for one more ESC_MAX. */
    unsigned char held[2 * ESC_MAX];
    size_t nheld;
};

static void parse_init(struct parse *p, const struct nd_ingest_opts *o, char *err)
{
    memset(p, 0, sizeof *p);
    struct ictx *c = &p->c;
    c->cluster = o ? o->cluster : NULL;
    c->max_depth = o && o->max_depth ? o->max_depth : ND_INGEST_DEFAULT_MAX_DEPTH;
    c->now_ns = o && o->now_ns ? o->now_ns : nd_now_wall_ns();
    size_t limit = o && o->max_alert_bytes ? o->max_alert_bytes : DEFAULT_MAX_ALERT_BYTES;
    c->state = S_TOP;
    c->err = err;
    c->memo[0].len = c->memo[1].len = SIZE_MAX;
    nd_buf_init(&c->key, limit);
    /* each invalid byte becomes 3 */
    nd_buf_init(&c->fixed, limit > SIZE_MAX / 8 ? SIZE_MAX / 2 : limit * 3 + 3);
    nd_alert_builder_init(&c->b, limit);
    p->h = yajl_alloc(&callbacks, &alloc_funcs, c);
}

/* Turns a non-ok yajl status into the error of the request. */
static int parse_error(struct parse *p, yajl_status st, size_t byte)
{
    struct ictx *c = &p->c;
    if (st == yajl_status_client_canceled) {
        if (c->too_deep)
            fail(c, ND_REJECT_TOO_DEEP, ND_EINVAL, "nesting deeper than %u at byte %zu",
                 c->max_depth, byte);
        else
            fail(c, ND_REJECT_INVALID_JSON, ND_EINVAL, "parse cancelled at byte %zu", byte);
        return c->rc;
    }
    unsigned char *msg = yajl_get_error(p->h, 0, NULL, 0);
    size_t n = msg ? strlen((char *)msg) : 0;
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        n--;
    fail(c, ND_REJECT_INVALID_JSON, ND_EINVAL, "invalid JSON at byte %zu: %.*s", byte, (int)n,
         msg ? (char *)msg : "");
    if (msg)
        yajl_free_error(p->h, msg);
    return c->rc;
}

static int feed_raw(struct parse *p, const void *data, size_t len)
{
    struct ictx *c = &p->c;
    c->chunk = data;
    c->chunk_len = len;
    yajl_status st = yajl_parse(p->h, data, len);
    /* A name whose value is in the next chunk: the caller may reuse this one. */
    if (st == yajl_status_ok && c->state == S_KV_VAL)
        keep_key(c);
    c->chunk = NULL;
    c->chunk_len = 0;
    if (st != yajl_status_ok)
        return parse_error(p, st, c->base + yajl_get_bytes_consumed(p->h));
    c->base += len;
    return ND_OK;
}

/* The value of 4 hex digits, or -1. */
static int hex4(const unsigned char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int d = s[i] >= '0' && s[i] <= '9'   ? s[i] - '0'
                : s[i] >= 'a' && s[i] <= 'f' ? s[i] - 'a' + 10
                : s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 10
                                             : -1;
        if (d < 0)
            return -1;
        v = v << 4 | d;
    }
    return v;
}

/* The escape at s[0] (a backslash): the bytes it spans (2; 6 for \uXXXX;
 * 12 for a surrogate pair), with *fix set when its 6 bytes stand for a
 * surrogate that Go's encoding/json decodes as U+FFFD: a low surrogate
 * alone, or a high one not followed by an escaped low one (the escape after
 * it then counts on its own). 0 when the n bytes at hand do not tell yet;
 * at the end of the body (final) what is missing counts as absent. */
static size_t escape_len(const unsigned char *s, size_t n, bool final, bool *fix)
{
    *fix = false;
    if (n < 2)
        return final ? n : 0;
    if (s[1] != 'u')
        return 2;
    if (n < 6)
        return final ? n : 0;
    int u = hex4(s + 2);
    if (u < 0)
        return 2; /* yajl reports the bad escape */
    if (u < 0xd800 || u > 0xdfff)
        return 6;
    *fix = true;
    if (u >= 0xdc00 || (n > 6 && s[6] != '\\') || (n > 7 && s[7] != 'u'))
        return 6;
    if (n < 12)
        return final ? 6 : 0;
    int l = hex4(s + 8);
    if (l < 0xdc00 || l > 0xdfff)
        return 6;
    *fix = false;
    return 12;
}

/* Feeds s[0..n) to yajl with every lone surrogate escape replaced by
 * \uFFFD (same length, so byte offsets in errors stay true). yajl 2.1's own
 * decoder (yajl_string_decode) writes '?' for a high surrogate with no
 * escape after it, combines a high surrogate with whatever escape follows
 * it, and writes a lone low surrogate as invalid UTF-8; Alertmanager, with
 * Go's encoding/json, sees U+FFFD, and the fingerprints must agree. yajl
 * decodes valid pairs right. A backslash in valid JSON only occurs inside a
 * string, and stepping over each escape whole means the next backslash
 * found starts one, so no string state is needed; outside a string yajl
 * refuses it anyway. Returns the bytes fed: fewer than n when the last
 * escape needs bytes of the next piece (fewer than ESC_MAX are left). */
static size_t feed_fixed(struct parse *p, const unsigned char *s, size_t n, bool final, int *rc)
{
    size_t from = 0, i = 0;
    *rc = ND_OK;
    while (i < n) {
        const unsigned char *b = memchr(s + i, '\\', n - i);
        if (!b)
            break;
        i = (size_t)(b - s);
        bool fix;
        size_t len = escape_len(s + i, n - i, final, &fix);
        if (len == 0) {
            n = i;
            break;
        }
        if (fix) {
            if (i > from && (*rc = feed_raw(p, s + from, i - from)) != ND_OK)
                return i;
            if ((*rc = feed_raw(p, "\\uFFFD", 6)) != ND_OK)
                return i;
            from = i + 6;
        }
        i += len;
    }
    if (n > from)
        *rc = feed_raw(p, s + from, n - from);
    return n;
}

/* One piece of the body. An escape cut by the end of the piece waits in
 * `held` for the bytes that decide it. */
static int parse_feed(struct parse *p, const void *data, size_t len)
{
    const unsigned char *s = data;
    int rc;
    /* before the piece reaches yajl: a string it completes may have begun
     * in an earlier piece, never in a later one */
    if (!p->c.suspect)
        p->c.suspect = has_suspect(s, len);
    while (p->nheld && len) {
        size_t take = sizeof p->held - p->nheld;
        if (take > len)
            take = len;
        memcpy(p->held + p->nheld, s, take);
        p->nheld += take;
        s += take;
        len -= take;
        size_t used = feed_fixed(p, p->held, p->nheld, false, &rc);
        if (rc != ND_OK)
            return rc;
        if (used + take >= p->nheld) {
            /* what was held is fed: the rest goes on from the piece itself */
            size_t back = p->nheld - used;
            s -= back;
            len += back;
            p->nheld = 0;
        } else {
            memmove(p->held, p->held + used, p->nheld - used);
            p->nheld -= used;
        }
    }
    if (p->nheld) /* the piece was too short to decide the held escape */
        return ND_OK;
    size_t used = feed_fixed(p, s, len, false, &rc);
    if (rc != ND_OK)
        return rc;
    memcpy(p->held, s + used, len - used);
    p->nheld = len - used;
    return ND_OK;
}

static int parse_end(struct parse *p)
{
    struct ictx *c = &p->c;
    if (p->nheld) {
        int rc;
        feed_fixed(p, p->held, p->nheld, true, &rc);
        p->nheld = 0;
        if (rc != ND_OK)
            return rc;
    }
    if (c->base == 0) {
        fail(c, ND_REJECT_INVALID_JSON, ND_EINVAL, "invalid JSON at byte 0: empty body");
        return c->rc;
    }
    yajl_status st = yajl_complete_parse(p->h);
    if (st != yajl_status_ok)
        return parse_error(p, st, c->base);
    if (c->state != S_DONE) {
        fail(c, ND_REJECT_INVALID_JSON, ND_EINVAL, "invalid JSON at byte %zu: incomplete", c->base);
        return c->rc;
    }
    return ND_OK;
}

/* Hands the alerts over on success; on failure frees every one built. */
static int parse_deinit(struct parse *p, int rc, struct nd_alert ***out, size_t *nout,
                        enum nd_reject_reason *reason)
{
    struct ictx *c = &p->c;
    yajl_free(p->h);
    nd_alert_builder_deinit(&c->b);
    nd_buf_deinit(&c->key);
    nd_buf_deinit(&c->fixed);
    if (rc != ND_OK) {
        nd_ingest_alerts_free(c->alerts, c->n);
        *out = NULL;
        *nout = 0;
        if (reason)
            *reason = c->reason;
        return rc;
    }
    *out = c->alerts;
    *nout = c->n;
    return ND_OK;
}

int nd_ingest_parse(const struct nd_ingest_opts *o, const void *body, size_t len,
                    struct nd_alert ***out, size_t *nout, enum nd_reject_reason *reason, char *err)
{
    struct parse p;
    parse_init(&p, o, err);
    int rc = len ? parse_feed(&p, body, len) : ND_OK;
    if (rc == ND_OK)
        rc = parse_end(&p);
    return parse_deinit(&p, rc, out, nout, reason);
}

int nd_ingest_parse_evbuffer(const struct nd_ingest_opts *o, struct evbuffer *body,
                             struct nd_alert ***out, size_t *nout, enum nd_reject_reason *reason,
                             char *err)
{
    struct parse p;
    parse_init(&p, o, err);
    int rc = ND_OK;
    struct evbuffer_ptr pos;
    struct evbuffer_iovec v[16];
    /* Walk the chain 16 chunks at a time: no pullup, no copy. */
    evbuffer_ptr_set(body, &pos, 0, EVBUFFER_PTR_SET);
    size_t total = evbuffer_get_length(body), done = 0;
    while (rc == ND_OK && done < total) {
        int nv = evbuffer_peek(body, -1, &pos, v, (int)ND_ARRAY_LEN(v));
        if (nv <= 0)
            break;
        if (nv > (int)ND_ARRAY_LEN(v))
            nv = (int)ND_ARRAY_LEN(v);
        size_t step = 0;
        for (int i = 0; i < nv && rc == ND_OK; i++) {
            if (v[i].iov_len)
                rc = parse_feed(&p, v[i].iov_base, v[i].iov_len);
            step += v[i].iov_len;
        }
        done += step;
        if (rc == ND_OK && done < total &&
            evbuffer_ptr_set(body, &pos, step, EVBUFFER_PTR_ADD) != 0)
            break;
    }
    if (rc == ND_OK)
        rc = parse_end(&p);
    return parse_deinit(&p, rc, out, nout, reason);
}

struct nd_ingest_stream {
    struct parse p;
    int rc; /* ND_OK until the first error */
    char err[ND_ERRLEN];
};

struct nd_ingest_stream *nd_ingest_stream_new(const struct nd_ingest_opts *o)
{
    struct nd_ingest_stream *st = nd_xmalloc(sizeof *st);
    parse_init(&st->p, o, st->err);
    st->rc = ND_OK;
    st->err[0] = '\0';
    return st;
}

int nd_ingest_stream_feed(struct nd_ingest_stream *st, const void *data, size_t len)
{
    if (st->rc == ND_OK && len)
        st->rc = parse_feed(&st->p, data, len);
    return st->rc;
}

int nd_ingest_stream_end(struct nd_ingest_stream *st, struct nd_alert ***out, size_t *nout,
                         enum nd_reject_reason *reason, char *err)
{
    int rc = st->rc == ND_OK ? parse_end(&st->p) : st->rc;
    if (rc != ND_OK)
        memcpy(err, st->err, sizeof st->err);
    rc = parse_deinit(&st->p, rc, out, nout, reason);
    free(st);
    return rc;
}

void nd_ingest_stream_free(struct nd_ingest_stream *st)
{
    if (!st)
        return;
    struct nd_alert **out;
    size_t n;
    parse_deinit(&st->p, ND_EINVAL, &out, &n, NULL);
    free(st);
}

void nd_ingest_alerts_free(struct nd_alert **alerts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        nd_alert_unref(alerts[i]);
    free(alerts);
}
