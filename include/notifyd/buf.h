/* buf.h - a growable byte buffer with a ceiling (after curl's dynbuf).
 *
 * Every buffer that grows with input is created with the largest size it
 * may reach. An append past it leaves the buffer as it was and returns
 * ND_ETOOBIG; the content is always NUL-terminated (the NUL is not counted
 * in len and not counted against the limit).
 */
#ifndef NOTIFYD_BUF_H
#define NOTIFYD_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct nd_buf {
    char *data;   /* NUL-terminated when len > 0; NULL before the first append */
    size_t len;   /* bytes used, without the NUL */
    size_t cap;   /* bytes allocated */
    size_t limit; /* the ceiling for len */
};

void nd_buf_init(struct nd_buf *b, size_t limit);
void nd_buf_deinit(struct nd_buf *b); /* frees the data; the buffer may be reused after init */
void nd_buf_reset(struct nd_buf *b);  /* len = 0, keeps the memory */
/* Makes room for n more bytes plus the NUL after len (for writing in place
 * at data + len), or ND_ETOOBIG when len + n would pass the limit. */
int nd_buf_reserve(struct nd_buf *b, size_t n);
int nd_buf_add(struct nd_buf *b, const void *p, size_t n);
int nd_buf_adds(struct nd_buf *b, const char *s);
int nd_buf_addc(struct nd_buf *b, char c);
int nd_buf_printf(struct nd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int nd_buf_vprintf(struct nd_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Appends s as the inside of a JSON string (no quotes): escapes ", \, control
 * characters as \u00XX, and <, >, & as \u003c \u003e \u0026 like Go's encoder. */
int nd_buf_add_json_escaped(struct nd_buf *b, const char *s, size_t n);
/* Appends "s" (quoted and escaped). */
int nd_buf_add_json_string(struct nd_buf *b, const char *s);
/* Gives the data to the caller (who frees it) and re-inits the buffer. Never NULL. */
char *nd_buf_take(struct nd_buf *b, size_t *len);
static inline const char *nd_buf_cstr(const struct nd_buf *b)
{
    return b->data ? b->data : "";
}

#endif
