/* chunks.h - one notification's message cut into the pieces a platform
 * accepts, for the fan-out of receiver.h (nd_parts.chunks).
 *
 * nd_chunks_split runs nd_tmpl_split and turns its result into an ordered
 * list of texts: the chunks, and in their place among them every alert that
 * alone is over the limit, rendered alone and cut with ND_CHUNK_MARK at the
 * end (never dropped). An alert whose rendering fails fails the whole
 * notification (the template, not the alert, is wrong). A notification
 * without alerts is one message rendered with none.
 *
 * The result goes into nd_parts.ud; nd_chunks_free_parts is the matching
 * free_parts hook.
 */
#ifndef NOTIFYD_CHUNKS_H
#define NOTIFYD_CHUNKS_H

#include <stdbool.h>
#include <stddef.h>

#include "notifyd/alert.h"
#include "notifyd/buf.h"
#include "notifyd/tmpl_split.h"
#include "notifyd/util.h"

/* U+2026 and a word: visible in every client, plain text in every markup. */
#define ND_CHUNK_MARK "\xe2\x80\xa6[truncated]"

struct nd_chunk {
    char *text; /* NUL-terminated, heap */
    size_t len;
    char *title; /* NULL unless the spec asked for titles */
};

struct nd_chunks {
    struct nd_chunk *v;
    size_t n; /* >= 1 once split */
};

/* Renders alerts[0] alone and leaves in msg (and title, when not NULL) a
 * message that fits the limit, e.g. by nd_chunks_cut. */
typedef int (*nd_chunks_cut_fn)(void *ctx, struct nd_alert *const *alert, size_t limit,
                                struct nd_buf *msg, struct nd_buf *title, char err[ND_ERRLEN]);

struct nd_chunks_spec {
    size_t limit;        /* the JSON-escaped length of a message stays below it */
    bool with_title;     /* render a title per chunk (nd_tmpl_render_fn's title) */
    size_t render_limit; /* ceiling of one rendering; 0 = limit * 4 + 64 KiB */
    nd_tmpl_render_fn render;
    nd_chunks_cut_fn cut; /* NULL = render alone, then nd_chunks_cut */
    void *ctx;            /* for render and cut */
};

/* Splits n->alerts as above into a new *out. ND_OK; ND_EINVAL when a
 * rendering fails (err names the alert); ND_ETOOBIG when more than
 * ND_PARTS_CHUNKS_MAX chunks would be needed. */
int nd_chunks_split(struct nd_alert *const *alerts, size_t n, const struct nd_chunks_spec *spec,
                    struct nd_chunks **out, char err[ND_ERRLEN]);
void nd_chunks_free(struct nd_chunks *c);
/* free_parts hook for a type whose nd_parts.ud is a struct nd_chunks. */
void nd_chunks_free_parts(void *state, void *ud);

/* Cuts msg at a UTF-8 boundary so that, with ND_CHUNK_MARK appended, its
 * JSON-escaped length stays below limit; appends the mark. */
void nd_chunks_cut(struct nd_buf *msg, size_t limit);

#endif
