/* fn_regex.c - the template functions `match` and `reReplaceAll` over the
 * regex module (src/regex), with the error texts a Go template gives. */
#include <string.h>

#include "notifyd/regex.h"
#include "fn_int.h"
#include "notifyd/unicode.h"

int nd_tmpl_match(struct nd_re_cache *c, const char *pat, size_t plen, const char *s, size_t n,
                  int *matched, char err[ND_ERRLEN])
{
    struct nd_re *re = nd_re_cache_get(c, pat, plen, err);

    *matched = 0;
    if (!re)
        return ND_EINVAL;
    return nd_re_match(re, s, n, matched, err);
}

/* What regexp.MustCompile panics with, hence what a Go template reports:
 * "regexp: Compile(" + quote(pattern) + "): " + the parse error, where the
 * pattern is back-quoted unless it holds a character that a raw string
 * cannot (Go's regexp.quote). */
static void must_compile_error(const char *pat, size_t plen, const char *perr, char err[ND_ERRLEN])
{
    struct nd_buf b;
    int back = 1;
    size_t i = 0, w;

    while (i < plen) {
        uint32_t cp = nd_unicode_decode_utf8(pat + i, plen - i, &w);
        if ((cp == 0xFFFD && w == 1) || cp == 0xFEFF || (cp < ' ' && cp != '\t') || cp == '`' ||
            cp == 0x7F) {
            back = 0;
            break;
        }
        i += w;
    }
    nd_buf_init(&b, ND_ERRLEN * 4);
    (void)nd_buf_adds(&b, "regexp: Compile(");
    if (back) {
        (void)nd_buf_addc(&b, '`');
        (void)nd_buf_add(&b, pat, plen);
        (void)nd_buf_addc(&b, '`');
    } else {
        (void)nd_tmpl_go_quote(&b, pat, plen);
    }
    (void)nd_buf_printf(&b, "): %s", perr);
    nd_seterr(err, ND_EINVAL, "%s", nd_buf_cstr(&b));
    nd_buf_deinit(&b);
}

int nd_tmpl_re_replace_all(struct nd_re_cache *c, const char *pat, size_t plen, const char *repl,
                           size_t rlen, const char *text, size_t tlen, struct nd_buf *out,
                           char err[ND_ERRLEN])
{
    char perr[ND_ERRLEN];
    struct nd_re *re = nd_re_cache_get(c, pat, plen, perr);

    if (!re) {
        must_compile_error(pat, plen, perr, err);
        return ND_EINVAL;
    }
    return nd_re_replace_all(re, repl, rlen, text, tlen, out, err);
}
