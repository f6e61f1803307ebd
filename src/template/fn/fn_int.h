/* fn_int.h - the string and regex functions of the template language, as
 * plain C over byte strings (the engine in src/template wraps them into
 * template functions). Internal to the template layer.
 *
 * Each function reproduces the output of the Go function it stands for, byte
 * for byte, including Go's handling of invalid UTF-8 (see docs/templates.md
 * for the limits: case mapping covers Latin-1, Latin Extended-A, Greek and
 * Cyrillic only).
 *
 * Output goes to a struct nd_buf: the functions append, so the caller resets
 * the buffer when it wants a fresh result. They return ND_OK, or ND_ETOOBIG
 * when the buffer's ceiling is hit (the buffer then holds a prefix).
 */
#ifndef NOTIFYD_TMPL_FN_INT_H
#define NOTIFYD_TMPL_FN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "notifyd/buf.h"
#include "notifyd/tmpl_split.h"
#include "notifyd/unicode.h"
#include "notifyd/util.h"

/* strings.ToUpper / strings.ToLower / strings.Title. */
int nd_tmpl_to_upper(struct nd_buf *out, const char *s, size_t n);
int nd_tmpl_to_lower(struct nd_buf *out, const char *s, size_t n);
int nd_tmpl_title(struct nd_buf *out, const char *s, size_t n);
/* strings.TrimSpace: the result is s[*off, *off + *len) (no copy). */
void nd_tmpl_trim_space(const char *s, size_t n, size_t *off, size_t *len);
/* strings.Join(items, sep); template argument order is (sep, items). */
int nd_tmpl_join(struct nd_buf *out, const char *sep, size_t seplen, const char *const *items,
                 const size_t *lens, size_t nitems);

/* NM's `escape`: the JSON string encoding of s without the quotes, as Go's
 * encoder writes it (HTML-safe: < > & as \u003c \u003e \u0026, U+2028/2029
 * escaped, invalid UTF-8 as \ufffd). */
int nd_tmpl_escape(struct nd_buf *out, const char *s, size_t n);
/* text/template's HTMLEscapeString, JSEscapeString and url.QueryEscape. */
int nd_tmpl_html_escape(struct nd_buf *out, const char *s, size_t n);
int nd_tmpl_js_escape(struct nd_buf *out, const char *s, size_t n);
int nd_tmpl_urlquery_escape(struct nd_buf *out, const char *s, size_t n);
/* strconv.Quote (used in Go's error texts). */
int nd_tmpl_go_quote(struct nd_buf *out, const char *s, size_t n);

/* The regex functions, over the regex module (include/notifyd/regex.h) and
 * a cache of compiled patterns, because templates reuse the same few
 * patterns on every render. */
struct nd_re_cache;

/* regexp.MatchString(pattern, s): unanchored. *matched is 0 or 1.
 * A bad pattern gives ND_EINVAL with Go's error text in err. */
int nd_tmpl_match(struct nd_re_cache *c, const char *pat, size_t plen, const char *s, size_t n,
                  int *matched, char err[ND_ERRLEN]);
/* regexp.MustCompile(pattern).ReplaceAllString(text, repl), appended to out.
 * A bad pattern gives ND_EINVAL with the text of MustCompile's panic
 * ("regexp: Compile(`(`): error parsing regexp: ..."), which is what a Go
 * template reports. */
int nd_tmpl_re_replace_all(struct nd_re_cache *c, const char *pat, size_t plen, const char *repl,
                           size_t rlen, const char *text, size_t tlen, struct nd_buf *out,
                           char err[ND_ERRLEN]);

#endif
