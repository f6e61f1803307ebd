/* regex.h - regular expressions with Go's (RE2) syntax and semantics, on
 * PCRE2.
 *
 * A pattern is parsed as Go's regexp/syntax parses it (regexp.Compile's Perl
 * flags), so what Go refuses is refused with Go's error text ("error parsing
 * regexp: missing closing ): `(a`"), then compiled by PCRE2 as an equivalent
 * pattern: UTF-8 without UCP (ASCII \d \w \b, as RE2), `$` only at the end of
 * the text, (?m)^ also after a final newline, LF as the only newline. An
 * invalid UTF-8 byte in a subject reads as U+FFFD, as in Go.
 *
 * PCRE2 backtracks where RE2 does not: one match is bounded
 * (ND_RE_MATCH_LIMIT steps of PCRE2's matcher) and a pattern that needs more
 * fails with ND_ERR instead of stalling the event loop.
 *
 * A compiled pattern holds its own match scratch space: it serves one match
 * at a time (the daemon is single-threaded), and the functions that match
 * take it non-const for that reason.
 *
 * Used by the template functions (match, reReplaceAll) through a cache, and
 * by whatever compiles a pattern once at configuration time (label
 * selectors) with nd_re_compile.
 */
#ifndef NOTIFYD_REGEX_H
#define NOTIFYD_REGEX_H

#include <stddef.h>

#include "notifyd/buf.h"
#include "notifyd/util.h"

#define ND_RE_MATCH_LIMIT 1000000u

struct nd_re;

/* regexp.Compile(pattern): ND_OK with *out set, or ND_EINVAL with Go's error
 * text in err (*out is then NULL). */
int nd_re_compile(struct nd_re **out, const char *pat, size_t plen, char err[ND_ERRLEN]);
void nd_re_free(struct nd_re *re);
/* The pattern as given to nd_re_compile (NUL-terminated copy). */
const char *nd_re_pattern(const struct nd_re *re, size_t *len);

/* regexp.MatchString: whether s[0..n) contains a match (unanchored). *matched
 * is 0 or 1. ND_OK, or ND_ERR with err set when the match limit is hit. */
int nd_re_match(struct nd_re *re, const char *s, size_t n, int *matched, char err[ND_ERRLEN]);
/* Whether the whole of s[0..n) matches: what Go gives for
 * regexp.MustCompile("^(?:" + pattern + ")$").MatchString(s), the anchoring of
 * Alertmanager's =~ matchers. Same returns as nd_re_match. */
int nd_re_full_match(struct nd_re *re, const char *s, size_t n, int *matched, char err[ND_ERRLEN]);
/* ReplaceAllString(text, repl) appended to out, with Go's expansion of $1,
 * ${1}, $name, ${name} and $$ in repl. ND_OK, ND_ETOOBIG when out's ceiling
 * is hit (out then holds a prefix), or ND_ERR with err set when the match
 * limit is hit. */
int nd_re_replace_all(struct nd_re *re, const char *repl, size_t rlen, const char *text,
                      size_t tlen, struct nd_buf *out, char err[ND_ERRLEN]);

/* Translates a pattern into the PCRE2 pattern it is compiled as (appended to
 * out), or fails with Go's error. For tests and diagnostics. */
int nd_re_translate(const char *pat, size_t plen, struct nd_buf *out, char err[ND_ERRLEN]);

/* A bounded set of compiled patterns, for callers that see the same few
 * patterns again and again (templates rendering on every notification).
 * `max` patterns are kept (at least 1); the least recently used goes first.
 * A pattern that fails to compile is not kept. */
struct nd_re_cache;

struct nd_re_cache *nd_re_cache_new(size_t max);
void nd_re_cache_free(struct nd_re_cache *c);
size_t nd_re_cache_size(const struct nd_re_cache *c);
/* The compiled pattern, from the cache or compiled now; NULL with Go's error
 * in err when it does not compile. The pointer belongs to the cache and stays
 * valid until the next nd_re_cache_get() on the same cache (which may evict
 * it) or nd_re_cache_free(). */
struct nd_re *nd_re_cache_get(struct nd_re_cache *c, const char *pat, size_t plen,
                              char err[ND_ERRLEN]);

#endif
