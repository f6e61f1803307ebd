/* split.c - size-limited splitting of a group of alerts (see tmpl_split.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fn_int.h"
#include "notifyd/tmpl_split.h"

static void push_chunk(struct nd_tmpl_split_result *r, size_t *cap, size_t first, size_t count,
                       struct nd_buf *msg, struct nd_buf *title)
{
    struct nd_tmpl_chunk *c;

    if (r->nchunks == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        r->chunks = nd_xrealloc(r->chunks, *cap * sizeof(*r->chunks));
    }
    c = &r->chunks[r->nchunks++];
    c->first = first;
    c->count = count;
    c->message = nd_buf_take(msg, &c->message_len);
    c->title = NULL;
    c->title_len = 0;
    if (title)
        c->title = nd_buf_take(title, &c->title_len);
}

static void push_reject(struct nd_tmpl_split_result *r, size_t *cap, size_t index,
                        enum nd_tmpl_reject_reason reason, size_t size, const char *detail)
{
    struct nd_tmpl_rejected *j;

    if (r->nrejected == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        r->rejected = nd_xrealloc(r->rejected, *cap * sizeof(*r->rejected));
    }
    j = &r->rejected[r->nrejected++];
    j->index = index;
    j->reason = reason;
    j->size = size;
    snprintf(j->detail, sizeof(j->detail), "%s", detail);
}

static void swap_buf(struct nd_buf *a, struct nd_buf *b)
{
    struct nd_buf t = *a;
    *a = *b;
    *b = t;
}

int nd_tmpl_split(struct nd_alert *const *alerts, size_t n, size_t max_size, int with_title,
                  size_t render_limit, nd_tmpl_render_fn render, void *ctx,
                  struct nd_tmpl_split_result *out, char err[ND_ERRLEN])
{
    struct nd_buf msg, title, last_msg, last_title;
    size_t start = 0, i = 0, ccap = 0, rcap = 0;
    char rerr[ND_ERRLEN];

    memset(out, 0, sizeof(*out));
    if (!render || max_size == 0 || (n > 0 && !alerts))
        return nd_seterr(err, ND_EINVAL, "split: bad arguments");
    nd_buf_init(&msg, render_limit);
    nd_buf_init(&title, render_limit);
    nd_buf_init(&last_msg, render_limit);
    nd_buf_init(&last_title, render_limit);

    while (i < n) {
        size_t count = i - start + 1, size = 0;
        int rc;

        nd_buf_reset(&msg);
        nd_buf_reset(&title);
        rerr[0] = '\0';
        rc = render(ctx, alerts + start, count, &msg, with_title ? &title : NULL, rerr);
        if (rc == ND_OK) {
            size = nd_tmpl_json_len(nd_buf_cstr(&msg), msg.len);
            if (size < max_size) {
                swap_buf(&msg, &last_msg);
                swap_buf(&title, &last_title);
                i++;
                continue;
            }
        }
        if (count == 1) {
            if (rc == ND_OK)
                push_reject(out, &rcap, i, ND_TMPL_REJECT_TOO_BIG, size,
                            "alert is too large for one message");
            else if (rc == ND_ETOOBIG)
                push_reject(out, &rcap, i, ND_TMPL_REJECT_TOO_BIG, render_limit,
                            "alert's message exceeds the rendering limit");
            else
                push_reject(out, &rcap, i, ND_TMPL_REJECT_RENDER, 0,
                            rerr[0] ? rerr : "rendering failed");
            i++;
            start = i;
            continue;
        }
        /* The chunk without alert i fitted: emit it, and let alert i start
         * the next one (it is rendered again, alone). */
        push_chunk(out, &ccap, start, i - start, &last_msg, with_title ? &last_title : NULL);
        start = i;
    }
    if (i > start)
        push_chunk(out, &ccap, start, i - start, &last_msg, with_title ? &last_title : NULL);

    nd_buf_deinit(&msg);
    nd_buf_deinit(&title);
    nd_buf_deinit(&last_msg);
    nd_buf_deinit(&last_title);
    return ND_OK;
}

void nd_tmpl_split_result_deinit(struct nd_tmpl_split_result *r)
{
    size_t i;

    for (i = 0; i < r->nchunks; i++) {
        free(r->chunks[i].message);
        free(r->chunks[i].title);
    }
    free(r->chunks);
    free(r->rejected);
    memset(r, 0, sizeof(*r));
}
