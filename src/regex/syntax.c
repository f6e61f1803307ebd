/* syntax.c - Go's regexp/syntax parse of a pattern, written out as an
 * equivalent PCRE2 pattern.
 *
 * A pattern is parsed the way Go's regexp/syntax parses it (with the Perl
 * flags of regexp.Compile), which gives Go's errors for what RE2 does not
 * accept (backreferences, lookaround, possessive quantifiers, ...), and
 * rewritten into an equivalent PCRE2 pattern in which every construct whose
 * meaning differs between the two is spelled out: \s, \v, octal escapes,
 * literals, classes and named groups (kept by us, so that Go's names such as
 * "1a" work). regex.c compiles the result with the options that give RE2's
 * semantics.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/regex.h"
#include "notifyd/unicode.h"

#include "regex_int.h"

#define RE_MAX_REPEAT 1000

/* Go's flags that change how we translate. */
#define FL_I 1
#define FL_U 2

/* ---------------------------------------------------------------- parsing */

struct re_tr {
    const char *s; /* the whole pattern */
    size_t n;
    size_t i;
    struct nd_buf *out;
    char *err;
    int depth; /* open groups */
    uint32_t ncap;
    struct nd_buf names; /* "name\0" per capture group, "" when unnamed */
    int can_repeat;      /* Go: the stack top is a real operand */
    /* Flag groups such as "(?i)" waiting for the next operand: in Go a
     * repetition right after one applies to the operand before it
     * ("a(?i)*" is "a*"), which PCRE2 refuses unless the flags move. */
    char pending[64];
    size_t npending;
    /* Where the last operand starts in the output, for wrapping it when a
     * second quantifier applies to it ("a*(?i)*" is "(?:a*)*" in Go). */
    size_t atom_start;
    int prev_repeat;
    size_t *gstack; /* output offsets of the open groups */
    int *gflags;    /* the flags when each open group started */
    int flags;      /* Go's current flags (FL_*) */
    int flags_out;  /* the flags in force at the end of the output so far */
    size_t ngstack, capgstack;
    int rc;
};

int nd_re_syntax_error(char *err, const char *code, const char *expr, size_t elen)
{
    struct nd_buf b;
    size_t room;

    /* The offending text can be long: keep the message within ND_ERRLEN. */
    room = ND_ERRLEN - 64 - strlen(code);
    if (elen > room)
        elen = room;
    nd_buf_init(&b, ND_ERRLEN);
    (void)nd_buf_printf(&b, "error parsing regexp: %s: `", code);
    (void)nd_buf_add(&b, expr, elen);
    (void)nd_buf_addc(&b, '`');
    nd_seterr(err, ND_EINVAL, "%s", nd_buf_cstr(&b));
    nd_buf_deinit(&b);
    return ND_EINVAL;
}

static int tr_fail(struct re_tr *t, const char *code, const char *expr, size_t elen)
{
    t->rc = nd_re_syntax_error(t->err, code, expr, elen);
    return t->rc;
}

static void tr_out(struct re_tr *t, const char *s, size_t n)
{
    /* The output is bounded by the pattern's own length times a constant
     * (the largest rewrite is \S in a class), so it cannot hit its ceiling
     * unless the input was already refused by the caller's size check. */
    if (!t->rc && nd_buf_add(t->out, s, n) != 0)
        t->rc = nd_seterr(t->err, ND_ETOOBIG, "error parsing regexp: expression too large");
}

static void tr_outs(struct re_tr *t, const char *s)
{
    tr_out(t, s, strlen(s));
}

static void gpush(struct re_tr *t, size_t off, int flags)
{
    if (t->ngstack == t->capgstack) {
        t->capgstack = t->capgstack ? t->capgstack * 2 : 16;
        t->gstack = nd_xrealloc(t->gstack, t->capgstack * sizeof(size_t));
        t->gflags = nd_xrealloc(t->gflags, t->capgstack * sizeof(int));
    }
    t->gflags[t->ngstack] = flags;
    t->gstack[t->ngstack++] = off;
}

/* Makes the last operand (with its quantifier) a group: PCRE2 refuses a
 * quantifier on a quantifier. */
static void wrap_atom(struct re_tr *t)
{
    struct nd_buf *o = t->out;
    size_t at = t->atom_start;

    if (t->rc || at > o->len)
        return;
    tr_out(t, "(?:", 3);
    if (t->rc)
        return;
    memmove(o->data + at + 3, o->data + at, o->len - 3 - at);
    memcpy(o->data + at, "(?:", 3);
    tr_out(t, ")", 1);
}

static void tr_flush(struct re_tr *t)
{
    if (t->npending) {
        tr_out(t, t->pending, t->npending);
        t->npending = 0;
    }
    t->flags_out = t->flags;
}

static void tr_rune(struct re_tr *t, uint32_t cp)
{
    char tmp[16];
    int k;

    if (cp < 0x80 &&
        ((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'))) {
        tmp[0] = (char)cp;
        tr_out(t, tmp, 1);
        return;
    }
    k = snprintf(tmp, sizeof(tmp), "\\x{%X}", (unsigned)cp);
    tr_out(t, tmp, (size_t)k);
}

/* Go's nextRune: a rune of the pattern, or an "invalid UTF-8" error. */
static int next_rune(struct re_tr *t, size_t *pos, uint32_t *cp)
{
    size_t w;

    *cp = nd_unicode_decode_utf8(t->s + *pos, t->n - *pos, &w);
    if (*cp == 0xFFFD && w == 1 && (unsigned char)t->s[*pos] >= 0x80)
        return tr_fail(t, "invalid UTF-8", t->s + *pos, t->n - *pos);
    *pos += w;
    return 0;
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static uint32_t hexval(char c)
{
    if (c >= '0' && c <= '9')
        return (uint32_t)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (uint32_t)(c - 'a' + 10);
    return (uint32_t)(c - 'A' + 10);
}

/* Go's parseEscape: s[start] is the backslash. Gives the rune. */
static int parse_escape(struct re_tr *t, size_t start, size_t *end, uint32_t *cp)
{
    size_t p = start + 1;
    uint32_t c;

    if (p >= t->n)
        return tr_fail(t, "trailing backslash at end of expression", "", 0);
    if (next_rune(t, &p, &c))
        return t->rc;
    /* Escaped ASCII punctuation is always that character. */
    if (c < 0x80 && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
        *cp = c;
        *end = p;
        return 0;
    }
    switch (c) {
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
        /* A single non-zero digit is a backreference: not in RE2. */
        if (p >= t->n || t->s[p] < '0' || t->s[p] > '7')
            break;
        /* fallthrough */
    case '0': {
        uint32_t r = c - '0';
        int k;
        for (k = 1; k < 3 && p < t->n && t->s[p] >= '0' && t->s[p] <= '7'; k++)
            r = r * 8 + (uint32_t)(t->s[p++] - '0');
        *cp = r;
        *end = p;
        return 0;
    }
    case 'x': {
        uint32_t r = 0;
        int nhex = 0;
        if (p >= t->n)
            break;
        if (next_rune(t, &p, &c))
            return t->rc;
        if (c == '{') {
            for (;;) {
                if (p >= t->n)
                    goto bad;
                if (next_rune(t, &p, &c))
                    return t->rc;
                if (c == '}')
                    break;
                if (c > 0x7F || !is_hex((char)c))
                    goto bad;
                r = r * 16 + hexval((char)c);
                if (r > 0x10FFFF)
                    goto bad;
                nhex++;
            }
            if (nhex == 0)
                goto bad;
            *cp = r;
            *end = p;
            return 0;
        }
        {
            uint32_t y;
            if (p >= t->n) {
                /* Go decodes the missing rune as U+FFFD: not hex. */
                goto bad;
            }
            if (next_rune(t, &p, &y))
                return t->rc;
            if (c > 0x7F || y > 0x7F || !is_hex((char)c) || !is_hex((char)y))
                goto bad;
            *cp = hexval((char)c) * 16 + hexval((char)y);
            *end = p;
            return 0;
        }
    }
    case 'a':
        *cp = 7;
        *end = p;
        return 0;
    case 'f':
        *cp = '\f';
        *end = p;
        return 0;
    case 'n':
        *cp = '\n';
        *end = p;
        return 0;
    case 'r':
        *cp = '\r';
        *end = p;
        return 0;
    case 't':
        *cp = '\t';
        *end = p;
        return 0;
    case 'v':
        *cp = '\v';
        *end = p;
        return 0;
    default:
        break;
    }
bad:
    return tr_fail(t, "invalid escape sequence", t->s + start, p - start);
}

/* ASCII classes as explicit ranges (Go's perlGroup and posixGroup). PCRE2's
 * own \W, \D and POSIX classes are avoided inside classes: PCRE2 10.42
 * gets some combinations wrong for code points over 255 ("[^\W[:space:]]"
 * matches U+FFFD). */
struct agroup {
    const char *name;
    uint32_t r[5][2];
    int nr;
    int letters; /* holds ASCII letters: its case folding adds U+017F, U+212A */
};

static const struct agroup perl_groups[] = {
    {"d", {{0x30, 0x39}}, 1, 0},
    {"s", {{0x09, 0x0A}, {0x0C, 0x0D}, {0x20, 0x20}}, 3, 0},
    {"w", {{0x30, 0x39}, {0x41, 0x5A}, {0x5F, 0x5F}, {0x61, 0x7A}}, 4, 1},
};

static const struct agroup posix_groups[] = {
    {"alnum", {{0x30, 0x39}, {0x41, 0x5A}, {0x61, 0x7A}}, 3, 1},
    {"alpha", {{0x41, 0x5A}, {0x61, 0x7A}}, 2, 1},
    {"ascii", {{0x00, 0x7F}}, 1, 1},
    {"blank", {{0x09, 0x09}, {0x20, 0x20}}, 2, 0},
    {"cntrl", {{0x00, 0x1F}, {0x7F, 0x7F}}, 2, 0},
    {"digit", {{0x30, 0x39}}, 1, 0},
    {"graph", {{0x21, 0x7E}}, 1, 1},
    {"lower", {{0x61, 0x7A}}, 1, 1},
    {"print", {{0x20, 0x7E}}, 1, 1},
    {"punct", {{0x21, 0x2F}, {0x3A, 0x40}, {0x5B, 0x60}, {0x7B, 0x7E}}, 4, 0},
    {"space", {{0x09, 0x0D}, {0x20, 0x20}}, 2, 0},
    {"upper", {{0x41, 0x5A}}, 1, 1},
    {"word", {{0x30, 0x39}, {0x41, 0x5A}, {0x5F, 0x5F}, {0x61, 0x7A}}, 4, 1},
    {"xdigit", {{0x30, 0x39}, {0x41, 0x46}, {0x61, 0x66}}, 3, 0},
};

static void out_range(struct re_tr *t, uint32_t lo, uint32_t hi)
{
    char tmp[32];
    int k = lo == hi ? snprintf(tmp, sizeof(tmp), "\\x{%X}", (unsigned)lo)
                     : snprintf(tmp, sizeof(tmp), "\\x{%X}-\\x{%X}", (unsigned)lo, (unsigned)hi);
    tr_out(t, tmp, (size_t)k);
}

/* Emits a group as class members (in_class) or as a whole class. Go folds a
 * group before negating it, so under (?i) the negation of a group with
 * letters also leaves out U+017F and U+212A (whose folds are s and k); the
 * complement is spelled out because PCRE2 then folds its members. */
static void emit_group(struct re_tr *t, const struct agroup *g, int neg, int in_class)
{
    uint32_t r[8][2], next = 0;
    int n = 0, k;

    for (k = 0; k < g->nr; k++) {
        r[n][0] = g->r[k][0];
        r[n][1] = g->r[k][1];
        n++;
    }
    if (g->letters && (t->flags & FL_I)) {
        r[n][0] = r[n][1] = 0x17F;
        n++;
        r[n][0] = r[n][1] = 0x212A;
        n++;
    }
    if (!in_class)
        tr_outs(t, neg && !(t->flags & FL_I) ? "[^" : "[");
    if (!neg || (!in_class && !(t->flags & FL_I))) {
        for (k = 0; k < g->nr; k++)
            out_range(t, g->r[k][0], g->r[k][1]);
    } else {
        for (k = 0; k < n; k++) {
            if (r[k][0] > next)
                out_range(t, next, r[k][0] - 1);
            next = r[k][1] + 1;
        }
        out_range(t, next, 0x10FFFF);
    }
    if (!in_class)
        tr_outs(t, "]");
}

/* \d \D \s \S \w \W at t->i (already known to be a backslash). RE2's \s
 * has no \v, PCRE2's has. Returns 1 when consumed. */
static int perl_class(struct re_tr *t, int in_class)
{
    char c;
    size_t k;

    if (t->i + 1 >= t->n)
        return 0;
    c = t->s[t->i + 1];
    for (k = 0; k < ND_ARRAY_LEN(perl_groups); k++) {
        if (perl_groups[k].name[0] == (c | 0x20) &&
            (c == 'd' || c == 'D' || c == 's' || c == 'S' || c == 'w' || c == 'W')) {
            emit_group(t, &perl_groups[k], c >= 'A' && c <= 'Z', in_class);
            t->i += 2;
            return 1;
        }
    }
    return 0;
}

/* Go's parseUnicodeClass at t->i. Returns 1 when consumed, 0 when not a
 * \p / \P, -1 on error. */
static int unicode_class(struct re_tr *t)
{
    size_t p = t->i, name, nlen, end;
    int neg;
    uint32_t c;

    if (p + 1 >= t->n || t->s[p] != '\\' || (t->s[p + 1] != 'p' && t->s[p + 1] != 'P'))
        return 0;
    neg = t->s[p + 1] == 'P';
    p += 2;
    if (p < t->n && t->s[p] == '{') {
        const char *close = memchr(t->s + p, '}', t->n - p);
        if (!close) {
            size_t q = p;
            while (q < t->n)
                if (next_rune(t, &q, &c))
                    return -1;
            tr_fail(t, "invalid character class range", t->s + t->i, t->n - t->i);
            return -1;
        }
        name = p + 1;
        end = (size_t)(close - t->s) + 1;
        nlen = end - 1 - name;
        for (size_t q = name; q < name + nlen;)
            if (next_rune(t, &q, &c))
                return -1;
    } else {
        name = p;
        if (p < t->n && next_rune(t, &p, &c))
            return -1;
        end = p;
        nlen = end - name;
    }
    if (nlen > 0 && t->s[name] == '^') {
        neg = !neg;
        name++;
        nlen--;
    }
    if (!nd_unicode_prop_known(t->s + name, nlen)) {
        tr_fail(t, "invalid character class range", t->s + t->i, end - t->i);
        return -1;
    }
    tr_outs(t, neg ? "\\P{" : "\\p{");
    tr_out(t, t->s + name, nlen);
    tr_outs(t, "}");
    t->i = end;
    return 1;
}

/* Go's parseClass: t->i is at '['. */
static int parse_class(struct re_tr *t)
{
    size_t start = t->i;
    int first = 1;
    uint32_t lo, hi;

    t->i++;
    tr_outs(t, "[");
    if (t->i < t->n && t->s[t->i] == '^') {
        tr_outs(t, "^");
        t->i++;
    }
    while (t->i >= t->n || t->s[t->i] != ']' || first) {
        size_t rng = t->i, after;
        first = 0;
        if (t->n - t->i > 2 && t->s[t->i] == '[' && t->s[t->i + 1] == ':') {
            const char *close = memmem(t->s + t->i + 2, t->n - t->i - 2, ":]", 2);
            if (close) {
                size_t nlen = (size_t)(close - (t->s + t->i + 2)), k;
                const char *nm = t->s + t->i + 2;
                int neg = nlen > 0 && nm[0] == '^';
                for (k = 0; k < ND_ARRAY_LEN(posix_groups); k++) {
                    size_t pl = strlen(posix_groups[k].name);
                    if (nlen - (size_t)neg == pl && memcmp(nm + neg, posix_groups[k].name, pl) == 0)
                        break;
                }
                if (k == ND_ARRAY_LEN(posix_groups))
                    return tr_fail(t, "invalid character class range", t->s + t->i, nlen + 4);
                emit_group(t, &posix_groups[k], neg, 1);
                t->i += nlen + 4;
                continue;
            }
        }
        {
            int u = unicode_class(t);
            if (u < 0)
                return t->rc;
            if (u > 0)
                continue;
        }
        if (t->i < t->n && t->s[t->i] == '\\' && perl_class(t, 1))
            continue;
        if (t->i >= t->n)
            return tr_fail(t, "missing closing ]", t->s + start, t->n - start);
        if (t->s[t->i] == '\\') {
            if (parse_escape(t, t->i, &after, &lo))
                return t->rc;
            t->i = after;
        } else if (next_rune(t, &t->i, &lo)) {
            return t->rc;
        }
        hi = lo;
        if (t->n - t->i >= 2 && t->s[t->i] == '-' && t->s[t->i + 1] != ']') {
            t->i++;
            if (t->i >= t->n)
                return tr_fail(t, "missing closing ]", t->s + start, t->n - start);
            if (t->s[t->i] == '\\') {
                if (parse_escape(t, t->i, &after, &hi))
                    return t->rc;
                t->i = after;
            } else if (next_rune(t, &t->i, &hi)) {
                return t->rc;
            }
            if (hi < lo)
                return tr_fail(t, "invalid character class range", t->s + rng, t->i - rng);
        }
        {
            char tmp[32];
            int k = lo == hi
                        ? snprintf(tmp, sizeof(tmp), "\\x{%X}", (unsigned)lo)
                        : snprintf(tmp, sizeof(tmp), "\\x{%X}-\\x{%X}", (unsigned)lo, (unsigned)hi);
            tr_out(t, tmp, (size_t)k);
        }
    }
    t->i++;
    tr_outs(t, "]");
    return t->rc;
}

/* Go's parseRepeat: {n}, {n,}, {n,m}. Returns 0 when the text is not a
 * repeat (then '{' is a literal). max = -1 for "no upper bound". */
static int parse_repeat(const char *s, size_t n, long *min, long *max, size_t *len)
{
    size_t p = 1;
    long v;

    if (n < 2 || s[0] != '{')
        return 0;
    if (p >= n || s[p] < '0' || s[p] > '9')
        return 0;
    /* Go caps the numbers at 1e8 and then reports them as too big. */
    for (v = 0; p < n && s[p] >= '0' && s[p] <= '9'; p++)
        v = v >= 100000000 ? v : v * 10 + (s[p] - '0');
    *min = v;
    if (p >= n)
        return 0;
    if (s[p] == ',') {
        p++;
        if (p >= n)
            return 0;
        if (s[p] == '}') {
            *max = -1;
        } else {
            if (s[p] < '0' || s[p] > '9')
                return 0;
            for (v = 0; p < n && s[p] >= '0' && s[p] <= '9'; p++)
                v = v >= 100000000 ? v : v * 10 + (s[p] - '0');
            *max = v;
        }
    } else {
        *max = *min;
    }
    if (p >= n || s[p] != '}')
        return 0;
    *len = p + 1;
    return 1;
}

/* Go's `repeat` checks, for an operator spanning [opstart, t->i) where t->i
 * is just past the operator (before any '?'). */
static int repeat_check(struct re_tr *t, size_t opstart, size_t last_repeat, int have_last)
{
    /* The laziness is Go's (current flags); while a "(?U)" waits to be
     * written, PCRE2 still has the flags before it. */
    int lazy = 0, flip = ((t->flags ^ t->flags_out) & FL_U) != 0;

    if (t->i < t->n && t->s[t->i] == '?') {
        t->i++;
        lazy = 1;
    }
    if (lazy != flip)
        tr_outs(t, "?");
    if (have_last)
        return tr_fail(t, "invalid nested repetition operator", t->s + last_repeat,
                       t->i - last_repeat);
    if (!t->can_repeat)
        return tr_fail(t, "missing argument to repetition operator", t->s + opstart,
                       t->i - opstart);
    return 0;
}

/* "(?" at t->i: flags, a flag group or a named capture. */
static int perl_group(struct re_tr *t)
{
    size_t start = t->i, p = t->i + 2;
    int sign = 1, saw = 0, nflags;
    uint32_t c;

    if (t->n - start > 4 && t->s[p] == 'P' && t->s[p + 1] == '<') {
        const char *gt = memchr(t->s + p, '>', t->n - p);
        size_t name, nlen, k;
        uint32_t dummy;
        if (!gt) {
            size_t q = p;
            while (q < t->n)
                if (next_rune(t, &q, &dummy))
                    return t->rc;
            return tr_fail(t, "invalid named capture", t->s + start, t->n - start);
        }
        name = p + 2;
        nlen = (size_t)(gt - (t->s + name));
        for (k = 0; k < nlen; k++) {
            char ch = t->s[name + k];
            if (!(ch == '_' || (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= 'A' && ch <= 'Z')))
                break;
        }
        if (nlen == 0 || k < nlen) {
            size_t q = name;
            while (q < name + nlen)
                if (next_rune(t, &q, &dummy))
                    return t->rc;
            return tr_fail(t, "invalid named capture", t->s + start, nlen + (name - start) + 1);
        }
        /* Go 1.19 accepts a name used twice; ${name} takes the first that matched. */
        if (nd_buf_add(&t->names, t->s + name, nlen) || nd_buf_addc(&t->names, '\0'))
            return t->rc = nd_seterr(t->err, ND_ETOOBIG, "error parsing regexp: too many groups");
        t->ncap++;
        t->depth++;
        t->can_repeat = 0;
        tr_flush(t);
        gpush(t, t->out->len, t->flags);
        tr_outs(t, "(");
        t->i = (size_t)(gt - t->s) + 1;
        return 0;
    }
    nflags = t->flags;
    while (p < t->n) {
        if (next_rune(t, &p, &c))
            return t->rc;
        switch (c) {
        case 'i':
        case 'U': {
            int bit = c == 'i' ? FL_I : FL_U;
            nflags = sign > 0 ? nflags | bit : nflags & ~bit;
            saw = 1;
            continue;
        }
        case 'm':
        case 's':
            saw = 1;
            continue;
        case '-':
            if (sign < 0)
                goto bad;
            sign = -1;
            saw = 0;
            continue;
        case ':':
        case ')':
            if (sign < 0 && !saw)
                goto bad;
            if (c == ':') {
                tr_flush(t);
                gpush(t, t->out->len, t->flags);
                tr_outs(t, "(?");
                tr_out(t, t->s + start + 2, p - start - 2);
                t->depth++;
                t->can_repeat = 0;
                t->flags = t->flags_out = nflags;
            } else {
                t->flags = nflags;
                if (t->npending + (p - start) > sizeof(t->pending))
                    tr_flush(t);
                if (p - start > sizeof(t->pending)) {
                    tr_out(t, t->s + start, p - start);
                } else {
                    memcpy(t->pending + t->npending, t->s + start, p - start);
                    t->npending += p - start;
                }
            }
            t->i = p;
            return t->rc;
        default:
            goto bad;
        }
    }
bad:
    return tr_fail(t, "invalid or unsupported Perl syntax", t->s + start, p - start);
}

static int translate(struct re_tr *t)
{
    size_t repeat_at = 0;
    int have_repeat = 0;

    while (t->i < t->n && !t->rc) {
        size_t last_repeat = repeat_at;
        int have_last = have_repeat;
        unsigned char c = (unsigned char)t->s[t->i];
        size_t before;
        int operand = 1; /* this item is an operand (not a quantifier/flags) */
        have_repeat = 0;
        /* Flags wait for the next operand; "(?:" and "(?P<" flush them. */
        if (c != '*' && c != '+' && c != '?' && c != '{' &&
            !(c == '(' && t->i + 1 < t->n && t->s[t->i + 1] == '?'))
            tr_flush(t);
        before = t->out->len;
        switch (c) {
        case '(':
            if (t->i + 1 < t->n && t->s[t->i + 1] == '?') {
                if (perl_group(t))
                    return t->rc;
                break;
            }
            if (nd_buf_addc(&t->names, '\0'))
                return t->rc =
                           nd_seterr(t->err, ND_ETOOBIG, "error parsing regexp: too many groups");
            t->ncap++;
            t->depth++;
            t->can_repeat = 0;
            gpush(t, before, t->flags);
            tr_outs(t, "(");
            t->i++;
            break;
        case '|':
            tr_outs(t, "|");
            t->can_repeat = 0;
            t->i++;
            break;
        case ')':
            if (t->depth == 0)
                return tr_fail(t, "unexpected )", t->s, t->n);
            t->depth--;
            tr_outs(t, ")");
            t->can_repeat = 1;
            t->i++;
            if (t->ngstack) {
                t->ngstack--;
                before = t->gstack[t->ngstack];
                t->flags = t->flags_out = t->gflags[t->ngstack];
            }
            break;
        case '^':
        case '$':
        case '.': {
            /* Go lets an assertion take a quantifier ("^*"); PCRE2 only
             * lets a group take one. */
            char tmp[6] = {'(', '?', ':', (char)c, ')'};
            if (c == '.')
                tr_out(t, tmp + 3, 1);
            else
                tr_out(t, tmp, 5);
            t->can_repeat = 1;
            t->i++;
            break;
        }
        case '[':
            if (parse_class(t))
                return t->rc;
            t->can_repeat = 1;
            break;
        case '*':
        case '+':
        case '?': {
            size_t opstart = t->i;
            char tmp[1] = {(char)c};
            operand = 0;
            if (t->prev_repeat && !have_last)
                wrap_atom(t);
            tr_out(t, tmp, 1);
            t->i++;
            if (repeat_check(t, opstart, last_repeat, have_last))
                return t->rc;
            repeat_at = opstart;
            have_repeat = 1;
            break;
        }
        case '{': {
            long min, max;
            size_t len, opstart = t->i;
            char tmp[48];
            int k;
            if (!parse_repeat(t->s + t->i, t->n - t->i, &min, &max, &len)) {
                tr_flush(t);
                before = t->out->len;
                tr_outs(t, "\\{");
                t->can_repeat = 1;
                t->i++;
                break;
            }
            t->i += len;
            if (min > RE_MAX_REPEAT || max > RE_MAX_REPEAT || (max >= 0 && min > max))
                return tr_fail(t, "invalid repeat count", t->s + opstart, len);
            k = max < 0 ? snprintf(tmp, sizeof(tmp), "{%ld,}", min)
                        : snprintf(tmp, sizeof(tmp), "{%ld,%ld}", min, max);
            operand = 0;
            if (t->prev_repeat && !have_last)
                wrap_atom(t);
            tr_out(t, tmp, (size_t)k);
            if (repeat_check(t, opstart, last_repeat, have_last))
                return t->rc;
            repeat_at = opstart;
            have_repeat = 1;
            break;
        }
        case '\\': {
            char d = t->i + 1 < t->n ? t->s[t->i + 1] : '\0';
            size_t end;
            uint32_t cp;
            if (d == 'A' || d == 'z' || d == 'b' || d == 'B') {
                char tmp[7] = {'(', '?', ':', '\\', d, ')'};
                tr_out(t, tmp, 6);
                t->i += 2;
                t->can_repeat = 1;
                break;
            }
            if (d == 'Q') {
                const char *e = memmem(t->s + t->i + 2, t->n - t->i - 2, "\\E", 2);
                size_t p = t->i + 2, stop = e ? (size_t)(e - t->s) : t->n;
                while (p < stop) {
                    if (next_rune(t, &p, &cp))
                        return t->rc;
                    before = t->out->len;
                    tr_rune(t, cp);
                    t->can_repeat = 1;
                }
                t->i = e ? stop + 2 : t->n;
                break;
            }
            {
                int u = unicode_class(t);
                if (u < 0)
                    return t->rc;
                if (u > 0) {
                    t->can_repeat = 1;
                    break;
                }
            }
            if (perl_class(t, 0)) {
                t->can_repeat = 1;
                break;
            }
            if (parse_escape(t, t->i, &end, &cp))
                return t->rc;
            tr_rune(t, cp);
            t->i = end;
            t->can_repeat = 1;
            break;
        }
        default: {
            uint32_t cp;
            if (next_rune(t, &t->i, &cp))
                return t->rc;
            if (cp >= 0x80) {
                char tmp[4];
                tr_out(t, tmp, nd_unicode_encode_utf8(cp, tmp));
            } else {
                tr_rune(t, cp);
            }
            t->can_repeat = 1;
            break;
        }
        }
        /* Flag groups leave the last operand as it was, as in Go. */
        if (c == '(' && t->i >= 2 && t->s[t->i - 1] == ')' && t->out->len == before && !t->rc)
            continue;
        if (operand) {
            t->atom_start = before;
            t->prev_repeat = 0;
        } else {
            t->prev_repeat = 1;
        }
    }
    if (!t->rc && t->depth > 0)
        return tr_fail(t, "missing closing )", t->s, t->n);
    tr_flush(t);
    return t->rc;
}

int nd_re_syntax_translate(const char *pat, size_t plen, struct nd_buf *out, char *err,
                           uint32_t *ncap, struct nd_buf *names)
{
    struct re_tr t;
    int rc;

    memset(&t, 0, sizeof(t));
    t.s = pat;
    t.n = plen;
    t.out = out;
    t.err = err;
    nd_buf_init(&t.names, plen * 2 + 16);
    rc = translate(&t);
    if (!rc)
        rc = nd_buf_add(out, "", 0);
    *ncap = t.ncap;
    free(t.gstack);
    free(t.gflags);
    if (names)
        *names = t.names;
    else
        nd_buf_deinit(&t.names);
    if (rc && names) {
        nd_buf_deinit(names);
    }
    return rc;
}

int nd_re_translate(const char *pat, size_t plen, struct nd_buf *out, char err[ND_ERRLEN])
{
    uint32_t ncap;
    return nd_re_syntax_translate(pat, plen, out, err, &ncap, NULL);
}
