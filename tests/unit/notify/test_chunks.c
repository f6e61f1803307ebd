/* Tests of chunks.c: order, limits, cut alerts with the mark, titles,
 * rendering errors, the chunk ceiling. The render function writes one
 * line per alert ("<id>:<text>\n"), so every chunk's alerts can be read
 * back from its text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "notifyd/chunks.h"
#include "notifyd/receiver.h"
#include "tap.h"

struct ctx {
    const char *fail_id; /* rendering an alert with this id fails */
    int cut_calls;
};

static int render(void *p, struct nd_alert *const *alerts, size_t n, struct nd_buf *msg,
                  struct nd_buf *title, char err[ND_ERRLEN])
{
    struct ctx *c = p;
    size_t i;

    for (i = 0; i < n; i++) {
        const char *id = nd_alert_label(alerts[i], "id");
        const char *text = nd_alert_label(alerts[i], "text");
        int rc;

        if (c->fail_id && strcmp(id, c->fail_id) == 0)
            return nd_seterr(err, ND_EINVAL, "cannot render %s", id);
        nd_buf_adds(msg, id);
        nd_buf_adds(msg, ":");
        nd_buf_adds(msg, text);
        rc = nd_buf_adds(msg, "\n");
        if (rc != ND_OK)
            return rc;
    }
    if (title)
        nd_buf_printf(title, "%zu alerts", n);
    return ND_OK;
}

static int cut_custom(void *p, struct nd_alert *const *alert, size_t limit, struct nd_buf *msg,
                      struct nd_buf *title, char err[ND_ERRLEN])
{
    struct ctx *c = p;

    ND_UNUSED(limit);
    ND_UNUSED(title);
    ND_UNUSED(err);
    c->cut_calls++;
    nd_buf_printf(msg, "cut %s", nd_alert_label(alert[0], "id"));
    return ND_OK;
}

static struct nd_alert **mk_alerts(size_t n, size_t text_len, size_t big_at, size_t big_len)
{
    struct nd_alert **a = nd_xcalloc(n, sizeof(*a));
    size_t i;

    for (i = 0; i < n; i++) {
        size_t len = i == big_at ? big_len : text_len;
        char *text = nd_xmalloc(len + 1);
        char id[16];

        /* '<' escapes to 6 bytes in JSON: the limit counts escaped bytes. */
        memset(text, i % 2 ? 'x' : '<', len);
        text[len] = '\0';
        snprintf(id, sizeof(id), "a%zu", i);
        a[i] =
            mk_alert((const char *const[]){"id", id, "text", text, NULL}, NULL, NULL, NULL, NULL);
        free(text);
    }
    return a;
}

static void free_alerts(struct nd_alert **a, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        nd_alert_unref(a[i]);
    free(a);
}

static void test_order_and_limit(void)
{
    struct ctx c = {0};
    struct nd_alert **a = mk_alerts(60, 40, 17, 5000);
    struct nd_chunks_spec spec = {.limit = 600, .render = render, .ctx = &c};
    struct nd_chunks *ch = NULL;
    char err[ND_ERRLEN];
    size_t i, next = 0, fits = 0, seen_cut = 0;
    int bad_order = 0;

    is_int(nd_chunks_split(a, 60, &spec, &ch, err), ND_OK, "split 60 alerts");
    ok(ch && ch->n > 5, "several chunks (%zu)", ch ? ch->n : 0);
    for (i = 0; ch && i < ch->n; i++) {
        const char *p = ch->v[i].text;

        if (nd_tmpl_json_len(p, ch->v[i].len) < spec.limit)
            fits++;
        ok(ch->v[i].title == NULL, "no title unless asked (chunk %zu)", i);
        /* Every alert exactly once, in order. */
        while (*p) {
            unsigned id;
            if (sscanf(p, "a%u:", &id) != 1 || id != next)
                bad_order++;
            next++;
            p = strchr(p, '\n');
            if (!p) {
                /* The cut alert ends in the mark, without a newline. */
                seen_cut++;
                has_str(ch->v[i].text, ND_CHUNK_MARK, "the cut alert ends with the mark");
                break;
            }
            p++;
        }
    }
    is_uint(fits, ch ? ch->n : 1, "every chunk's escaped size below the limit");
    is_int(bad_order, 0, "alerts in order, each once");
    is_uint(next, 60, "all 60 alerts present");
    is_uint(seen_cut, 1, "exactly one alert cut");
    nd_chunks_free(ch);
    free_alerts(a, 60);
}

static void test_titles_and_custom_cut(void)
{
    struct ctx c = {0};
    struct nd_alert **a = mk_alerts(3, 10, 1, 3000);
    struct nd_chunks_spec spec = {
        .limit = 200, .with_title = true, .render = render, .cut = cut_custom, .ctx = &c};
    struct nd_chunks *ch = NULL;
    char err[ND_ERRLEN];

    is_int(nd_chunks_split(a, 3, &spec, &ch, err), ND_OK, "split with titles");
    is_uint(ch ? ch->n : 0, 3, "chunk, cut alert, chunk");
    if (ch && ch->n == 3) {
        is_str(ch->v[0].title, "1 alerts", "title rendered for the first chunk alone");
        is_str(ch->v[1].text, "cut a1", "custom cut used for the big alert");
        ok(ch->v[1].title != NULL, "the cut chunk has a title too");
        is_str(ch->v[2].text, "a2:<<<<<<<<<<\n", "last chunk");
    }
    is_int(c.cut_calls, 1, "cut called once");
    nd_chunks_free(ch);
    free_alerts(a, 3);
}

static void test_errors_and_empty(void)
{
    struct ctx c = {.fail_id = "a2"};
    struct nd_alert **a = mk_alerts(300, 4, 1000, 0);
    struct nd_chunks_spec spec = {.limit = 100, .render = render, .ctx = &c};
    struct nd_chunks *ch = NULL;
    char err[ND_ERRLEN] = "";

    is_int(nd_chunks_split(a, 5, &spec, &ch, err), ND_EINVAL, "a failing alert fails the split");
    has_str(err, "alert 2", "the error names the alert");
    ok(ch == NULL, "nothing returned");

    c.fail_id = NULL;
    spec.limit = 12; /* one alert per chunk: 300 > ND_PARTS_CHUNKS_MAX */
    is_int(nd_chunks_split(a, 300, &spec, &ch, err), ND_ETOOBIG, "too many chunks");
    has_str(err, "256", "the error names the ceiling");

    spec.limit = 100;
    is_int(nd_chunks_split(a, 0, &spec, &ch, err), ND_OK, "no alerts");
    is_uint(ch ? ch->n : 0, 1, "one message");
    is_str(ch ? ch->v[0].text : NULL, "", "rendered with no alerts");
    nd_chunks_free(ch);
    free_alerts(a, 300);
}

static void test_cut(void)
{
    struct nd_buf b;
    size_t mark = nd_tmpl_json_len(ND_CHUNK_MARK, strlen(ND_CHUNK_MARK));
    size_t limit;

    nd_buf_init(&b, 1 << 16);
    for (limit = mark + 2; limit < mark + 40; limit++) {
        nd_buf_reset(&b);
        /* 3-byte characters and '<' (6 escaped bytes) mixed. */
        nd_buf_adds(&b, "\xe5\x91\x8a<\xe5\x91\x8a<\xe5\x91\x8a<\xe5\x91\x8a<\xe5\x91\x8a<"
                        "\xe5\x91\x8a<\xe5\x91\x8a<\xe5\x91\x8a<");
        nd_chunks_cut(&b, limit);
        if (nd_tmpl_json_len(b.data, b.len) >= limit)
            break;
        if (b.len < strlen(ND_CHUNK_MARK) ||
            strcmp(b.data + b.len - strlen(ND_CHUNK_MARK), ND_CHUNK_MARK) != 0)
            break;
    }
    is_uint(limit, mark + 40, "every limit: escaped size below it, mark at the end");
    /* Never inside a UTF-8 sequence: the text before the mark is valid. */
    nd_buf_reset(&b);
    nd_buf_adds(&b, "\xe5\x91\x8a\xe5\x91\x8a\xe5\x91\x8a");
    nd_chunks_cut(&b, mark + 1 + 5);
    is_str(nd_buf_cstr(&b), "\xe5\x91\x8a" ND_CHUNK_MARK, "cut on a character boundary");
    nd_buf_deinit(&b);
}

int main(void)
{
    test_order_and_limit();
    test_titles_and_custom_cut();
    test_errors_and_empty();
    test_cut();
    return done_testing();
}
