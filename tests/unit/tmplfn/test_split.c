/* Message splitting at the platform sizes, with multi-byte text. */
#include <stdlib.h>
#include <string.h>

#include "notifyd/alert.h"
#include "fn_int.h"
#include "notifyd/tmpl_split.h"
#include "tap.h"

#define NALERTS 80

/* A stand-in for nm.default.text: "[FIRING] <message>\n  name: value\n...\n". */
static int render_text(void *ctx, struct nd_alert *const *alerts, size_t n, struct nd_buf *msg,
                       struct nd_buf *title, char err[ND_ERRLEN])
{
    size_t i, k;
    int *calls = ctx;
    static struct nd_buf scratch = {NULL, 0, 0, SIZE_MAX / 2};

    if (calls)
        (*calls)++;
    for (i = 0; i < n; i++) {
        const struct nd_alert *a = alerts[i];
        const char *m = nd_alert_annotation(a, "message", &scratch);
        if (nd_alert_label(a, "bad"))
            return nd_seterr(err, ND_ERR, "template: x:1:2: executing \"x\": boom");
        if (nd_buf_printf(msg, "[%s] %s\n", a->status == ND_ALERT_FIRING ? "FIRING" : "RESOLVED",
                          m ? m : ""))
            return ND_ETOOBIG;
        for (k = 0; k < a->nlabels; k++) {
            struct nd_kv kv = nd_alert_label_at(a, k);
            if (nd_buf_printf(msg, "  %s: %s\n", kv.name, kv.value))
                return ND_ETOOBIG;
        }
        if (nd_buf_addc(msg, '\n'))
            return ND_ETOOBIG;
    }
    if (title && nd_buf_printf(title, "%zu alerts for %s", n,
                               n ? nd_alert_label(alerts[0], "alertname") : ""))
        return ND_ETOOBIG;
    return ND_OK;
}

static struct nd_alert *make_alert(const char *name, const char *message, int status,
                                   const char *extra)
{
    struct nd_alert_builder b;
    struct nd_alert *a;
    char err[ND_ERRLEN];

    nd_alert_builder_init(&b, 1 << 20);
    nd_alert_builder_add_label(&b, "alertname", 9, name, strlen(name));
    nd_alert_builder_add_label(&b, "namespace", 9, "项目-ns1", strlen("项目-ns1"));
    if (extra)
        nd_alert_builder_add_label(&b, extra, strlen(extra), "1", 1);
    nd_alert_builder_add_annotation(&b, "message", 7, message, strlen(message));
    nd_alert_builder_set_status(&b, status ? ND_ALERT_RESOLVED : ND_ALERT_FIRING);
    a = nd_alert_builder_finish(&b, "default", 0, err);
    nd_alert_builder_deinit(&b);
    return a;
}

/* A Chinese message of about `units` * 3 bytes, with characters that need
 * JSON escaping now and then. */
static char *chinese(size_t units, unsigned seed)
{
    static const char *const parts[] = {"容器", "重启", "次数", "过多", "<", "\"", "\n", "节点"};
    struct nd_buf b;
    size_t i;

    nd_buf_init(&b, units * 8 + 16);
    for (i = 0; i < units; i++)
        nd_buf_adds(&b, parts[(seed * 7 + i * 3) % ND_ARRAY_LEN(parts)]);
    return nd_buf_take(&b, NULL);
}

static size_t rendered_len(struct nd_alert *const *alerts, size_t n, struct nd_buf *tmp)
{
    char err[ND_ERRLEN];
    nd_buf_reset(tmp);
    if (render_text(NULL, alerts, n, tmp, NULL, err) != ND_OK)
        return (size_t)-1;
    return nd_tmpl_json_len(nd_buf_cstr(tmp), tmp->len);
}

/* The properties every split must have. */
static void check_split(struct nd_alert *const *alerts, size_t n, size_t max,
                        const struct nd_tmpl_split_result *r, const char *what)
{
    unsigned char *seen = calloc(n ? n : 1, 1);
    struct nd_buf tmp;
    size_t i, k, next = 0;
    int fits = 1, exact = 1, greedy = 1, order = 1, once = 1, covered = 1, big = 1;
    char err[ND_ERRLEN];

    nd_buf_init(&tmp, 1 << 22);
    for (i = 0; i < r->nchunks; i++) {
        const struct nd_tmpl_chunk *c = &r->chunks[i];
        if (c->first < next || c->count == 0)
            order = 0;
        for (k = c->first; k < c->first + c->count && k < n; k++) {
            if (seen[k])
                once = 0;
            seen[k] = 1;
        }
        next = c->first + c->count;
        if (nd_tmpl_json_len(c->message, c->message_len) >= max)
            fits = 0;
        nd_buf_reset(&tmp);
        render_text(NULL, alerts + c->first, c->count, &tmp, NULL, err);
        if (tmp.len != c->message_len || memcmp(nd_buf_cstr(&tmp), c->message, tmp.len) != 0)
            exact = 0;
        /* A chunk ends only because the next alert did not fit. */
        if (next < n && rendered_len(alerts + c->first, c->count + 1, &tmp) < max)
            greedy = 0;
    }
    for (i = 0; i < r->nrejected; i++) {
        const struct nd_tmpl_rejected *j = &r->rejected[i];
        if (seen[j->index])
            once = 0;
        seen[j->index] = 1;
        if (j->reason == ND_TMPL_REJECT_TOO_BIG &&
            (j->size < max || rendered_len(alerts + j->index, 1, &tmp) < max))
            big = 0;
    }
    for (i = 0; i < n; i++)
        if (!seen[i])
            covered = 0;
    ok(fits, "%s: every chunk is under the limit", what);
    ok(exact, "%s: each chunk's message is its alerts' rendering", what);
    ok(greedy, "%s: chunks are as full as possible", what);
    ok(order, "%s: chunks are in order and not empty", what);
    ok(once, "%s: no alert in two places", what);
    ok(covered, "%s: every alert is in a chunk or rejected", what);
    ok(big, "%s: rejected alerts are really too big", what);
    nd_buf_deinit(&tmp);
    free(seen);
}

static void test_platform_sizes(void)
{
    static const size_t sizes[] = {2048, 4096, 19960};
    struct nd_alert *alerts[NALERTS];
    size_t i, s;

    for (i = 0; i < NALERTS; i++) {
        /* Messages from a few bytes to ~3 KB; #13 is ~30 KB: too big everywhere. */
        char *m = chinese(i == 13 ? 10000 : (i * 37) % 1000 + 1, (unsigned)i);
        alerts[i] = make_alert("KubePodCrashLooping", m, (int)(i % 3 == 0), NULL);
        free(m);
    }
    for (s = 0; s < ND_ARRAY_LEN(sizes); s++) {
        struct nd_tmpl_split_result r;
        char err[ND_ERRLEN], what[64];
        int calls = 0;
        size_t nbig = 0;

        snprintf(what, sizeof(what), "max %zu", sizes[s]);
        is_int(nd_tmpl_split(alerts, NALERTS, sizes[s], 0, 1 << 22, render_text, &calls, &r, err),
               ND_OK, "%s: split ok", what);
        ok(r.nchunks > 1, "%s: several chunks (%zu)", what, r.nchunks);
        check_split(alerts, NALERTS, sizes[s], &r, what);
        for (i = 0; i < r.nrejected; i++)
            if (r.rejected[i].index == 13 && r.rejected[i].reason == ND_TMPL_REJECT_TOO_BIG)
                nbig++;
        is_uint(nbig, 1, "%s: the 30 KB alert is reported too big", what);
        ok(calls >= NALERTS, "%s: rendered per addition", what);
        nd_tmpl_split_result_deinit(&r);
    }
    for (i = 0; i < NALERTS; i++)
        nd_alert_unref(alerts[i]);
}

/* Exactly max escaped bytes does not fit; max - 1 does (NM's strict <). */
static void test_strict_limit(void)
{
    struct nd_alert *a[1];
    struct nd_buf tmp;
    struct nd_tmpl_split_result r;
    char err[ND_ERRLEN];
    size_t len;

    a[0] = make_alert("A", "消息<>&", 0, NULL);
    nd_buf_init(&tmp, 1 << 16);
    len = rendered_len(a, 1, &tmp);
    nd_buf_reset(&tmp);
    render_text(NULL, a, 1, &tmp, NULL, err);
    /* Escaped: each of < > & counts 6 and the newlines 2. */
    ok(len > tmp.len, "escaped length (%zu) exceeds raw length (%zu)", len, tmp.len);

    nd_tmpl_split(a, 1, len, 0, 1 << 16, render_text, NULL, &r, err);
    is_uint(r.nchunks, 0, "size == max: no chunk");
    is_uint(r.nrejected, 1, "size == max: rejected");
    if (r.nrejected)
        is_uint(r.rejected[0].size, len, "rejected with its escaped size");
    nd_tmpl_split_result_deinit(&r);

    nd_tmpl_split(a, 1, len + 1, 0, 1 << 16, render_text, NULL, &r, err);
    is_uint(r.nchunks, 1, "size == max - 1: one chunk");
    is_uint(r.nrejected, 0, "size == max - 1: nothing rejected");
    nd_tmpl_split_result_deinit(&r);

    /* Rendering past the callback's buffer ceiling counts as too big. */
    nd_tmpl_split(a, 1, 1 << 20, 0, 8, render_text, NULL, &r, err);
    is_uint(r.nrejected, 1, "render limit hit: rejected");
    if (r.nrejected)
        is_int(r.rejected[0].reason, ND_TMPL_REJECT_TOO_BIG, "render limit hit: too big");
    nd_tmpl_split_result_deinit(&r);

    nd_buf_deinit(&tmp);
    nd_alert_unref(a[0]);
}

static void test_render_error_and_titles(void)
{
    struct nd_alert *a[6];
    struct nd_tmpl_split_result r;
    char err[ND_ERRLEN];
    size_t i, total = 0;

    for (i = 0; i < 6; i++)
        a[i] = make_alert(i < 3 ? "First" : "Second", "告警消息内容", 0, i == 2 ? "bad" : NULL);
    is_int(nd_tmpl_split(a, 6, 4096, 1, 1 << 16, render_text, NULL, &r, err), ND_OK,
           "render error: split ok");
    is_uint(r.nrejected, 1, "render error: one alert rejected");
    if (r.nrejected) {
        is_uint(r.rejected[0].index, 2, "render error: the bad one");
        is_int(r.rejected[0].reason, ND_TMPL_REJECT_RENDER, "render error: reason");
        has_str(r.rejected[0].detail, "boom", "render error: the renderer's message");
    }
    is_uint(r.nchunks, 2, "render error: the alerts around it form two chunks");
    for (i = 0; i < r.nchunks; i++) {
        char want[64];
        total += r.chunks[i].count;
        snprintf(want, sizeof(want), "%zu alerts for %s", r.chunks[i].count,
                 r.chunks[i].first < 3 ? "First" : "Second");
        is_str(r.chunks[i].title, want, "chunk %zu has its own title", i);
    }
    is_uint(total, 5, "render error: the other five are delivered");
    check_split(a, 6, 4096, &r, "render error");
    nd_tmpl_split_result_deinit(&r);

    is_int(nd_tmpl_split(a, 0, 4096, 0, 1 << 16, render_text, NULL, &r, err), ND_OK,
           "no alerts: ok");
    is_uint(r.nchunks + r.nrejected, 0, "no alerts: nothing");
    is_int(nd_tmpl_split(a, 6, 0, 0, 1 << 16, render_text, NULL, &r, err), ND_EINVAL,
           "max 0: refused");
    for (i = 0; i < 6; i++)
        nd_alert_unref(a[i]);
}

int main(void)
{
    test_platform_sizes();
    test_strict_limit();
    test_render_error_and_titles();
    return done_testing();
}
