/* regex.c - compiled Go (RE2) regexes on PCRE2: compile, match, full match,
 * ReplaceAllString, and a bounded cache of compiled patterns. syntax.c turns
 * Go's syntax into PCRE2's; this file compiles the result with the options
 * that give RE2's semantics and matches as Go does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "notifyd/regex.h"
#include "notifyd/unicode.h"

#include "regex_int.h"

struct nd_re {
    char *pattern;
    size_t plen;
    pcre2_code *code;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    uint32_t ncap; /* capture groups, without group 0 */
    char **names;  /* per group 1..ncap (index 0 unused): name or NULL */
};

static void oom(const char *what)
{
    fprintf(stderr, "notifyd: out of memory (%s)\n", what);
    abort();
}

int nd_re_compile(struct nd_re **out, const char *pat, size_t plen, char err[ND_ERRLEN])
{
    struct nd_re *re;
    struct nd_buf tr, names;
    pcre2_compile_context *cctx;
    pcre2_code *code;
    uint32_t ncap, i;
    size_t off;
    int ecode, rc;
    PCRE2_SIZE eoff;

    *out = NULL;
    /* \S in a class is the longest rewrite: 40 bytes for 2. */
    nd_buf_init(&tr, plen * 24 + 64);
    rc = nd_re_syntax_translate(pat, plen, &tr, err, &ncap, &names);
    if (rc) {
        nd_buf_deinit(&tr);
        return rc;
    }
    cctx = pcre2_compile_context_create(NULL);
    if (!cctx)
        oom("pcre2 compile context");
    pcre2_set_newline(cctx, PCRE2_NEWLINE_LF);
    code = pcre2_compile((PCRE2_SPTR)tr.data, tr.len,
                         PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY |
                             PCRE2_ALT_CIRCUMFLEX | PCRE2_NEVER_BACKSLASH_C,
                         &ecode, &eoff, cctx);
    pcre2_compile_context_free(cctx);
    nd_buf_deinit(&tr);
    if (!code) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ecode, msg, sizeof(msg));
        nd_buf_deinit(&names);
        return nd_re_syntax_error(err, (const char *)msg, pat, plen);
    }
    re = nd_xcalloc(1, sizeof(*re));
    re->pattern = nd_xmalloc(plen + 1);
    memcpy(re->pattern, pat, plen);
    re->pattern[plen] = '\0';
    re->plen = plen;
    re->code = code;
    re->md = pcre2_match_data_create_from_pattern(code, NULL);
    if (!re->md)
        oom("pcre2 match data");
    re->mctx = pcre2_match_context_create(NULL);
    if (!re->mctx)
        oom("pcre2 match context");
    pcre2_set_match_limit(re->mctx, ND_RE_MATCH_LIMIT);
    re->ncap = ncap;
    re->names = nd_xcalloc(ncap + 1, sizeof(char *));
    for (i = 1, off = 0; i <= ncap && names.data; i++) {
        size_t l = strlen(names.data + off);
        if (l)
            re->names[i] = nd_xstrndup(names.data + off, l);
        off += l + 1;
    }
    nd_buf_deinit(&names);
    *out = re;
    return ND_OK;
}

void nd_re_free(struct nd_re *re)
{
    uint32_t i;

    if (!re)
        return;
    free(re->pattern);
    pcre2_match_data_free(re->md);
    pcre2_match_context_free(re->mctx);
    pcre2_code_free(re->code);
    for (i = 0; i <= re->ncap; i++)
        free(re->names[i]);
    free(re->names);
    free(re);
}

const char *nd_re_pattern(const struct nd_re *re, size_t *len)
{
    if (len)
        *len = re->plen;
    return re->pattern;
}

/* One match at or after `from`: 1 matched, 0 none, <0 error (err set). */
static int re_exec(struct nd_re *e, const char *s, size_t n, size_t from, uint32_t opts, char *err)
{
    int rc = pcre2_match(e->code, (PCRE2_SPTR)s, n, from, opts, e->md, e->mctx);

    if (rc >= 0)
        return 1;
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc == PCRE2_ERROR_MATCHLIMIT)
        return nd_seterr(err, ND_ERR, "regexp: match limit exceeded (pattern too costly)");
    {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(rc, msg, sizeof(msg));
        return nd_seterr(err, ND_ERR, "regexp: %s", (const char *)msg);
    }
}

/* Go reads an invalid UTF-8 byte as U+FFFD and lets `.` (or \x{FFFD}) match
 * it; PCRE2 never matches invalid input. Such a subject is matched as a copy
 * with each bad byte replaced by U+FFFD, and offsets are mapped back. */
struct subject {
    const char *s; /* what PCRE2 sees */
    size_t n;
    char *copy;
    size_t *map; /* offset in s -> offset in the original, or NULL */
};

static void subject_init(struct subject *sj, const char *s, size_t n)
{
    size_t i = 0, j = 0, w, bad = 0;

    memset(sj, 0, sizeof(*sj));
    sj->s = s;
    sj->n = n;
    while (i < n) {
        if ((unsigned char)s[i] < 0x80) {
            i++;
            continue;
        }
        if (nd_unicode_decode_utf8(s + i, n - i, &w) == 0xFFFD && w == 1)
            bad++;
        i += w;
    }
    if (!bad)
        return;
    sj->copy = nd_xmalloc(n + 2 * bad + 1);
    sj->map = nd_xmalloc((n + 2 * bad + 1) * sizeof(size_t));
    for (i = 0; i < n; i += w) {
        size_t k;
        uint32_t cp = nd_unicode_decode_utf8(s + i, n - i, &w);
        if (cp == 0xFFFD && w == 1 && (unsigned char)s[i] >= 0x80) {
            memcpy(sj->copy + j, "\xEF\xBF\xBD", 3);
            for (k = 0; k < 3; k++)
                sj->map[j + k] = i;
            j += 3;
        } else {
            memcpy(sj->copy + j, s + i, w);
            for (k = 0; k < w; k++)
                sj->map[j + k] = i + k;
            j += w;
        }
    }
    sj->map[j] = n;
    sj->copy[j] = '\0';
    sj->s = sj->copy;
    sj->n = j;
}

static void subject_deinit(struct subject *sj)
{
    free(sj->copy);
    free(sj->map);
}

static size_t subject_orig(const struct subject *sj, size_t off)
{
    return sj->map ? sj->map[off] : off;
}

static int match_opts(struct nd_re *re, const char *s, size_t n, uint32_t opts, int *matched,
                      char *err)
{
    struct subject sj;
    int rc;

    *matched = 0;
    subject_init(&sj, s, n);
    rc = re_exec(re, sj.s, sj.n, 0, opts, err);
    subject_deinit(&sj);
    if (rc < 0)
        return rc;
    *matched = rc;
    return ND_OK;
}

int nd_re_match(struct nd_re *re, const char *s, size_t n, int *matched, char err[ND_ERRLEN])
{
    return match_opts(re, s, n, 0, matched, err);
}

/* PCRE2 checks the end anchor as part of the match and backtracks when it
 * fails, so "a|ab" still matches all of "ab", as ^(?:a|ab)$ does in Go. */
int nd_re_full_match(struct nd_re *re, const char *s, size_t n, int *matched, char err[ND_ERRLEN])
{
    return match_opts(re, s, n, PCRE2_ANCHORED | PCRE2_ENDANCHORED, matched, err);
}

/* Go's regexp.extract: the name after '$' at repl[*p] (just past the '$').
 * Returns 1 with the name span and the group number (-1 for a name), or 0
 * when there is no valid name. */
static int expand_name(const char *r, size_t n, size_t *p, size_t *name, size_t *nlen, long *num)
{
    size_t i = *p, w;
    int brace = 0;
    size_t k;

    if (i >= n)
        return 0;
    if (r[i] == '{') {
        brace = 1;
        i++;
    }
    *name = i;
    while (i < n) {
        uint32_t cp = nd_unicode_decode_utf8(r + i, n - i, &w);
        if (!(cp == '_' || nd_unicode_is_letter(cp) || nd_unicode_is_digit(cp)))
            break;
        i += w;
    }
    if (i == *name)
        return 0;
    *nlen = i - *name;
    if (brace) {
        if (i >= n || r[i] != '}')
            return 0;
        i++;
    }
    *num = 0;
    for (k = 0; k < *nlen; k++) {
        char ch = r[*name + k];
        if (ch < '0' || ch > '9' || *num >= 100000000) {
            *num = -1;
            break;
        }
        *num = *num * 10 + (ch - '0');
    }
    if (r[*name] == '0' && *nlen > 1)
        *num = -1;
    *p = i;
    return 1;
}

static int expand(const struct nd_re *e, const size_t *ov, const char *repl, size_t rlen,
                  const char *s, struct nd_buf *out)
{
    size_t p = 0;
    int rc;

    while (p < rlen) {
        const char *dollar = memchr(repl + p, '$', rlen - p);
        size_t d = dollar ? (size_t)(dollar - repl) : rlen, name, nlen;
        long num;
        if ((rc = nd_buf_add(out, repl + p, d - p)) != 0)
            return rc;
        if (!dollar)
            break;
        p = d + 1;
        if (p < rlen && repl[p] == '$') {
            if ((rc = nd_buf_addc(out, '$')) != 0)
                return rc;
            p++;
            continue;
        }
        if (!expand_name(repl, rlen, &p, &name, &nlen, &num)) {
            /* Malformed: the '$' is kept as text. */
            if ((rc = nd_buf_addc(out, '$')) != 0)
                return rc;
            continue;
        }
        if (num >= 0) {
            if ((uint32_t)num <= e->ncap && ov[2 * num] != SIZE_MAX) {
                if ((rc = nd_buf_add(out, s + ov[2 * num], ov[2 * num + 1] - ov[2 * num])) != 0)
                    return rc;
            }
        } else {
            uint32_t g;
            for (g = 1; g <= e->ncap; g++) {
                /* The first group of that name that took part in the match. */
                if (e->names[g] && strlen(e->names[g]) == nlen &&
                    memcmp(e->names[g], repl + name, nlen) == 0 && ov[2 * g] != SIZE_MAX) {
                    if ((rc = nd_buf_add(out, s + ov[2 * g], ov[2 * g + 1] - ov[2 * g])) != 0)
                        return rc;
                    break;
                }
            }
        }
    }
    return 0;
}

int nd_re_replace_all(struct nd_re *e, const char *repl, size_t rlen, const char *text, size_t tlen,
                      struct nd_buf *out, char err[ND_ERRLEN])
{
    size_t last_end = 0, search = 0, *ovm;
    struct subject sj;
    int rc;

    subject_init(&sj, text, tlen);
    ovm = nd_xmalloc(2 * (e->ncap + 1) * sizeof(size_t));
    rc = 0;
    while (search <= sj.n) {
        PCRE2_SIZE *ov;
        size_t w = 0, g;
        rc = re_exec(e, sj.s, sj.n, search, 0, err);
        if (rc <= 0)
            break;
        rc = 0;
        ov = pcre2_get_ovector_pointer(e->md);
        for (g = 0; g < 2 * (e->ncap + 1); g++)
            ovm[g] = ov[g] == PCRE2_UNSET ? SIZE_MAX : subject_orig(&sj, ov[g]);
        if ((rc = nd_buf_add(out, text + last_end, ovm[0] - last_end)) != 0)
            break;
        /* No replacement for an empty match right after another match. */
        if (ovm[1] > last_end || ovm[0] == 0) {
            if ((rc = expand(e, ovm, repl, rlen, text, out)) != 0)
                break;
        }
        last_end = ovm[1];
        if (search < sj.n)
            (void)nd_unicode_decode_utf8(sj.s + search, sj.n - search, &w);
        if (search + w > ov[1])
            search += w;
        else if (search + 1 > ov[1])
            search++;
        else
            search = ov[1];
    }
    free(ovm);
    subject_deinit(&sj);
    if (rc < 0)
        return rc;
    if ((rc = nd_buf_add(out, text + last_end, tlen - last_end)) != 0)
        return rc;
    return nd_buf_add(out, "", 0);
}

/* ------------------------------------------------------------------ cache */

struct cache_entry {
    struct nd_re *re;
    uint64_t used; /* LRU stamp */
};

struct nd_re_cache {
    struct cache_entry *e;
    size_t n, max;
    uint64_t clock;
};

struct nd_re_cache *nd_re_cache_new(size_t max)
{
    struct nd_re_cache *c = nd_xcalloc(1, sizeof(*c));

    c->max = max ? max : 1;
    c->e = nd_xcalloc(c->max, sizeof(*c->e));
    return c;
}

void nd_re_cache_free(struct nd_re_cache *c)
{
    size_t i;

    if (!c)
        return;
    for (i = 0; i < c->n; i++)
        nd_re_free(c->e[i].re);
    free(c->e);
    free(c);
}

size_t nd_re_cache_size(const struct nd_re_cache *c)
{
    return c->n;
}

struct nd_re *nd_re_cache_get(struct nd_re_cache *c, const char *pat, size_t plen,
                              char err[ND_ERRLEN])
{
    struct cache_entry *e;
    struct nd_re *re;
    size_t k;

    for (k = 0; k < c->n; k++) {
        re = c->e[k].re;
        if (re->plen == plen && memcmp(re->pattern, pat, plen) == 0) {
            c->e[k].used = ++c->clock;
            return re;
        }
    }
    if (nd_re_compile(&re, pat, plen, err) != ND_OK)
        return NULL;
    if (c->n < c->max) {
        e = &c->e[c->n++];
    } else {
        e = &c->e[0];
        for (k = 1; k < c->n; k++)
            if (c->e[k].used < e->used)
                e = &c->e[k];
        nd_re_free(e->re);
    }
    e->re = re;
    e->used = ++c->clock;
    return re;
}
