/* tmpl_split.h - splitting a group of alerts into messages that fit a
 * platform's size limit (NM's Split, without its quirks).
 *
 * Alerts are added one at a time to the current chunk and the chunk is
 * rendered after each addition; the size is counted as NM counts it, the
 * length of the message once JSON-escaped (nd_tmpl_json_len), and must be
 * strictly below max_size. When an addition overflows, the chunk without
 * that alert is emitted and the alert starts the next chunk. An alert that
 * does not fit on its own (or whose rendering fails on its own) is reported
 * in `rejected` with the reason: never dropped silently. Unlike NM, an alert
 * belongs to at most one chunk, and each chunk's title is the one rendered
 * for exactly that chunk.
 *
 * Chunks are contiguous runs of the input: chunk k covers
 * alerts[first, first + count), and rejected alerts lie between chunks.
 */
#ifndef NOTIFYD_TMPL_SPLIT_H
#define NOTIFYD_TMPL_SPLIT_H

#include <stddef.h>

#include "notifyd/alert.h"
#include "notifyd/buf.h"
#include "notifyd/util.h"

/* Renders the message for alerts[0..n) into `msg` (empty on entry) and, when
 * the caller asked for titles, the title into `title` (empty on entry; NULL
 * when no title is wanted). Returns ND_OK or an error with err set. */
typedef int (*nd_tmpl_render_fn)(void *ctx, struct nd_alert *const *alerts, size_t n,
                                 struct nd_buf *msg, struct nd_buf *title, char err[ND_ERRLEN]);

struct nd_tmpl_chunk {
    size_t first; /* index into the input alerts */
    size_t count;
    char *message; /* as rendered, NUL-terminated; owned by the result */
    size_t message_len;
    char *title; /* NULL when no title was asked for */
    size_t title_len;
};

enum nd_tmpl_reject_reason {
    ND_TMPL_REJECT_TOO_BIG = 1, /* alone, its message is max_size or more */
    ND_TMPL_REJECT_RENDER = 2,  /* rendering it alone failed */
};

struct nd_tmpl_rejected {
    size_t index; /* into the input alerts */
    enum nd_tmpl_reject_reason reason;
    size_t size; /* the escaped size (TOO_BIG) */
    char detail[ND_ERRLEN];
};

struct nd_tmpl_split_result {
    struct nd_tmpl_chunk *chunks;
    size_t nchunks;
    struct nd_tmpl_rejected *rejected;
    size_t nrejected;
};

/* NM's Len: the byte length of s once JSON-encoded as Go's encoder writes
 * it (HTML-safe, without the quotes), computed without building it. */
size_t nd_tmpl_json_len(const char *s, size_t n);

/* Splits alerts[0..n). `render_limit` bounds one rendering (the nd_buf
 * ceiling given to the callback): a rendering past it counts as too big.
 * Returns ND_OK (even when alerts were rejected) or ND_EINVAL for bad
 * arguments. The result is always initialised; free it with _deinit. */
int nd_tmpl_split(struct nd_alert *const *alerts, size_t n, size_t max_size, int with_title,
                  size_t render_limit, nd_tmpl_render_fn render, void *ctx,
                  struct nd_tmpl_split_result *out, char err[ND_ERRLEN]);
void nd_tmpl_split_result_deinit(struct nd_tmpl_split_result *r);

#endif
