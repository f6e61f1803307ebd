/* json.h - a JSON writer over a bounded nd_buf, for request bodies of
 * receivers (webhook, chat platforms, SMS/e-mail APIs).
 *
 * Values are written straight into the buffer's memory, with one ceiling
 * check per piece. Commas are automatic: a small stack (ND_JSON_MAX_DEPTH
 * levels) remembers, per open object or array, whether it has a member
 * already and whether an object waits for the value of a key.
 *
 * Errors are sticky: once the buffer's limit is hit (ND_ETOOBIG) or the
 * calls do not form a document (ND_EINVAL: a value without a key in an
 * object, a key in an array, a close that does not match, depth over
 * ND_JSON_MAX_DEPTH), every further call does nothing. nd_json_finish()
 * reports the first error once and then leaves the buffer as it was before
 * nd_json_init(), like a failed nd_buf append.
 *
 * Strings are escaped as Go's encoding/json does (Notification Manager and
 * most platforms' SDKs are Go): '"' and '\\' with a backslash, \n \r \t as
 * such, other bytes below 0x20 as \u00XX (lowercase hex; \b and \f too,
 * as Go before 1.22 and nd_buf_add_json_escaped write them; Go 1.22 writes
 * \b and \f, which any JSON reader takes for the same characters),
 * U+2028 and U+2029 as \u2028 and \u2029, and, with ND_JSON_HTML, '<' '>'
 * '&' as \u003c \u003e \u0026 (Go's default, json.Marshal). Each byte of
 * invalid UTF-8 (a stray continuation byte, a truncated or overlong
 * sequence, a surrogate, above U+10FFFF) becomes \ufffd, as in Go. Valid
 * UTF-8 passes through unchanged. DEL (0x7f) is not escaped.
 *
 * ND_JSON_VALID_UTF8 skips the UTF-8 check for text already checked (yajl
 * validates every string of an ingested alert): bytes >= 0x80 are then
 * copied as they are (U+2028/U+2029 still escaped), which is faster on
 * non-ASCII text and gives exactly the bytes of nd_buf_add_json_escaped
 * (with ND_JSON_HTML) for any input.
 */
#ifndef NOTIFYD_JSON_H
#define NOTIFYD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "notifyd/buf.h"

#define ND_JSON_MAX_DEPTH 32

enum nd_json_flags {
    ND_JSON_HTML = 1,       /* escape '<', '>', '&' like Go's json.Marshal */
    ND_JSON_NEWLINE = 2,    /* nd_json_finish adds "\n" like Go's json.Encoder */
    ND_JSON_VALID_UTF8 = 4, /* input is known to be UTF-8: no check, no \ufffd */
};

struct nd_json {
    struct nd_buf *b;
    size_t len0;     /* b->len at init: restored on error */
    int err;         /* the first error, sticky */
    const char *why; /* what the first ND_EINVAL was about */
    unsigned flags;  /* enum nd_json_flags */
    unsigned depth;  /* open objects and arrays */
    bool after_key;  /* an object key was written, its value is due */
    uint32_t is_obj; /* bit d: level d + 1 is an object (else an array) */
    uint32_t has;    /* bit d: level d + 1 has a member already */
    bool top_done;   /* a top-level value was written */
};

void nd_json_init(struct nd_json *j, struct nd_buf *b, unsigned flags);

void nd_json_obj_open(struct nd_json *j);
void nd_json_obj_close(struct nd_json *j);
void nd_json_arr_open(struct nd_json *j);
void nd_json_arr_close(struct nd_json *j);

/* An object key (escaped like a string); the next call writes its value. */
void nd_json_key(struct nd_json *j, const char *k);
void nd_json_keyn(struct nd_json *j, const char *k, size_t n);
/* A key the caller knows needs no escaping (printable ASCII without '"',
 * '\\', '<', '>', '&'), copied without the escape scan: for the fixed keys
 * of a body on a hot path. ND_JSON_KEY_LIT takes a string literal. */
void nd_json_key_plain(struct nd_json *j, const char *k, size_t n);
#define ND_JSON_KEY_LIT(j, lit) nd_json_key_plain((j), "" lit, sizeof(lit) - 1)

/* A string value; s must not be NULL (ND_EINVAL). */
void nd_json_str(struct nd_json *j, const char *s);
void nd_json_strn(struct nd_json *j, const char *s, size_t n);
void nd_json_int(struct nd_json *j, int64_t v);
void nd_json_uint(struct nd_json *j, uint64_t v);
void nd_json_bool(struct nd_json *j, bool v);
void nd_json_null(struct nd_json *j);
/* n bytes written as they are, as one value (commas still automatic): the
 * caller guarantees they are one valid JSON value, such as a pre-quoted
 * string it formatted once for many uses. */
void nd_json_raw(struct nd_json *j, const char *p, size_t n);

/* A key and its value in one call, for flat platform bodies. */
void nd_json_kstr(struct nd_json *j, const char *k, const char *v);
void nd_json_kint(struct nd_json *j, const char *k, int64_t v);
void nd_json_kbool(struct nd_json *j, const char *k, bool v);

/* ND_OK when one complete value was written. Otherwise the first error
 * (ND_ETOOBIG, ND_EINVAL; also ND_EINVAL for an unclosed object or array
 * or a key without value), with detail in err (ND_ERRLEN bytes, may be
 * NULL), and the buffer is restored to its length at nd_json_init(). */
int nd_json_finish(struct nd_json *j, char *err);

#endif
