/* chunks.c - see include/notifyd/chunks.h. */
#include <stdlib.h>
#include <string.h>

#include "notifyd/chunks.h"
#include "notifyd/receiver.h"

static void chunk_push(struct nd_chunks *c, struct nd_buf *msg, struct nd_buf *title)
{
    struct nd_chunk *k;

    c->v = nd_xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
    k = &c->v[c->n++];
    k->text = nd_buf_take(msg, &k->len);
    if (!k->text) {
        k->text = nd_xstrdup("");
        k->len = 0;
    }
    k->title = NULL;
    if (title) {
        k->title = nd_buf_take(title, NULL);
        if (!k->title)
            k->title = nd_xstrdup("");
    }
}

void nd_chunks_free(struct nd_chunks *c)
{
    size_t i;

    if (!c)
        return;
    for (i = 0; i < c->n; i++) {
        free(c->v[i].text);
        free(c->v[i].title);
    }
    free(c->v);
    free(c);
}

void nd_chunks_free_parts(void *state, void *ud)
{
    ND_UNUSED(state);
    nd_chunks_free(ud);
}

void nd_chunks_cut(struct nd_buf *msg, size_t limit)
{
    size_t mark = nd_tmpl_json_len(ND_CHUNK_MARK, strlen(ND_CHUNK_MARK));
    size_t room = limit > mark + 1 ? limit - mark - 1 : 0;
    size_t cut = msg->len < room ? msg->len : room;

    /* Escaping only grows a text, so start at `room` bytes and shrink by
     * the excess until the escaped prefix fits. */
    for (;;) {
        size_t e;

        while (cut > 0 && cut < msg->len && ((unsigned char)msg->data[cut] & 0xc0) == 0x80)
            cut--;
        e = nd_tmpl_json_len(msg->data ? msg->data : "", cut);
        if (e <= room || cut == 0)
            break;
        cut -= e - room < cut ? e - room : cut;
    }
    msg->len = cut;
    if (msg->data)
        msg->data[cut] = '\0';
    nd_buf_adds(msg, ND_CHUNK_MARK);
}

/* Renders `n` alerts (one too big, or none) and cuts the result to fit. */
static int render_cut(const struct nd_chunks_spec *spec, size_t render_limit,
                      struct nd_alert *const *alerts, size_t n, struct nd_chunks *c, char *err)
{
    struct nd_buf msg, title;
    int rc;

    nd_buf_init(&msg, render_limit);
    nd_buf_init(&title, render_limit);
    if (n == 1 && spec->cut) {
        rc = spec->cut(spec->ctx, alerts, spec->limit, &msg, spec->with_title ? &title : NULL, err);
    } else {
        rc = spec->render(spec->ctx, alerts, n, &msg, spec->with_title ? &title : NULL, err);
        /* Past the ceiling the rendering stops where it is: it gets cut anyway. */
        if (rc == ND_ETOOBIG && n == 1)
            rc = ND_OK;
        if (rc == ND_OK && (n == 1 || nd_tmpl_json_len(nd_buf_cstr(&msg), msg.len) >= spec->limit))
            nd_chunks_cut(&msg, spec->limit);
    }
    if (rc == ND_OK)
        chunk_push(c, &msg, spec->with_title ? &title : NULL);
    nd_buf_deinit(&msg);
    nd_buf_deinit(&title);
    return rc;
}

int nd_chunks_split(struct nd_alert *const *alerts, size_t n, const struct nd_chunks_spec *spec,
                    struct nd_chunks **out, char err[ND_ERRLEN])
{
    size_t render_limit = spec->render_limit ? spec->render_limit : spec->limit * 4 + 65536;
    struct nd_chunks *c = nd_xcalloc(1, sizeof(*c));
    struct nd_tmpl_split_result r;
    size_t ci = 0, ri = 0;
    int rc;

    *out = NULL;
    rc = nd_tmpl_split(alerts, n, spec->limit, spec->with_title, render_limit, spec->render,
                       spec->ctx, &r, err);
    /* Chunks and rejected alerts, in the order of the alerts. */
    while (rc == ND_OK && (ci < r.nchunks || ri < r.nrejected)) {
        if (ri < r.nrejected && (ci == r.nchunks || r.rejected[ri].index < r.chunks[ci].first)) {
            const struct nd_tmpl_rejected *rj = &r.rejected[ri++];

            if (rj->reason == ND_TMPL_REJECT_RENDER)
                rc = nd_seterr(err, ND_EINVAL, "alert %zu: %s", rj->index, rj->detail);
            else
                rc = render_cut(spec, render_limit, &alerts[rj->index], 1, c, err);
        } else {
            struct nd_tmpl_chunk *k = &r.chunks[ci++];
            struct nd_chunk *d;

            c->v = nd_xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
            d = &c->v[c->n++];
            d->text = k->message ? k->message : nd_xstrdup("");
            d->len = k->message ? k->message_len : 0;
            d->title = spec->with_title ? (k->title ? k->title : nd_xstrdup("")) : NULL;
            if (!spec->with_title)
                free(k->title);
            k->message = NULL;
            k->title = NULL;
        }
        if (rc == ND_OK && c->n > ND_PARTS_CHUNKS_MAX)
            rc = nd_seterr(err, ND_ETOOBIG, "more than %u messages", ND_PARTS_CHUNKS_MAX);
    }
    nd_tmpl_split_result_deinit(&r);
    if (rc == ND_OK && c->n == 0)
        rc = render_cut(spec, render_limit, alerts, 0, c, err);
    if (rc != ND_OK) {
        nd_chunks_free(c);
        return rc;
    }
    *out = c;
    return ND_OK;
}
