/* jsonr.h - a small JSON reader for platforms' answers: parse a response
 * body once (yajl's tree API) and look values up by path, such as
 * DingTalk's/WeCom's "errcode", Slack's "ok", Telegram's
 * "parameters.retry_after" or Tencent's "Response.SendStatusSet[0].Code".
 *
 * Paths: segments separated by '.'; on an object a segment is a member
 * name, on an array a decimal index; "[N]" is an index too ("a[0].b" is
 * "a.0.b"). Names containing '.' or '[' cannot be looked up. With
 * duplicate names the first member counts. The empty path is the root.
 *
 * Limits: bodies over ND_JSONR_MAX_BODY bytes (the delivery engine keeps
 * at most that many of a response) and nesting deeper than
 * ND_JSONR_MAX_DEPTH are refused before yajl sees them, so that a hostile
 * platform or stand-in cannot make the tree (and its recursive free) deep.
 * A NUL byte and JSON comments are refused as well.
 *
 * Look-ups return ND_OK, ND_JSONR_EABSENT (no such member or index, or
 * the path runs through a non-container), ND_JSONR_ETYPE (present with
 * another type; null is a type of its own) or, for nd_jsonr_int,
 * ND_JSONR_ERANGE (an integer outside int64). They never change *v unless
 * they return ND_OK.
 */
#ifndef NOTIFYD_JSONR_H
#define NOTIFYD_JSONR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ND_JSONR_MAX_BODY  (64u * 1024)
#define ND_JSONR_MAX_DEPTH 64

enum {
    ND_JSONR_EABSENT = -20,
    ND_JSONR_ETYPE = -21,
    ND_JSONR_ERANGE = -22,
};

enum nd_jsonr_type {
    ND_JSONR_NONE, /* absent */
    ND_JSONR_NULL,
    ND_JSONR_BOOL,
    ND_JSONR_NUMBER,
    ND_JSONR_STRING,
    ND_JSONR_ARRAY,
    ND_JSONR_OBJECT,
};

struct nd_jsonr;

/* Parses len bytes of body (need not be NUL-terminated). ND_EINVAL with
 * detail in err (ND_ERRLEN bytes) for malformed JSON, ND_ETOOBIG over the
 * size or depth limit. The caller frees *doc with nd_jsonr_free. */
int nd_jsonr_parse(const char *body, size_t len, struct nd_jsonr **doc, char *err);
void nd_jsonr_free(struct nd_jsonr *doc);
/* The check nd_jsonr_parse makes before yajl's tree parser sees a text, for
 * other users of that parser: ND_OK, or ND_ETOOBIG (nesting deeper than
 * max_depth) or ND_EINVAL (a NUL byte, or '/' outside a string, which yajl
 * would take for a comment), with err set. */
int nd_jsonr_prescan(const char *s, size_t n, size_t max_depth, char *err);

enum nd_jsonr_type nd_jsonr_type(const struct nd_jsonr *doc, const char *path);
/* A number written as an integer (no fraction or exponent) that fits. */
int nd_jsonr_int(const struct nd_jsonr *doc, const char *path, int64_t *v);
/* Any number, as yajl's strtod reads it (may be +-HUGE_VAL when huge). */
int nd_jsonr_double(const struct nd_jsonr *doc, const char *path, double *v);
int nd_jsonr_bool(const struct nd_jsonr *doc, const char *path, bool *v);
/* The string (UTF-8, NUL-terminated) lives as long as doc. */
int nd_jsonr_str(const struct nd_jsonr *doc, const char *path, const char **v);
/* Number of elements of an array or members of an object. */
int nd_jsonr_len(const struct nd_jsonr *doc, const char *path, size_t *n);

#endif
