/* lex.c - the lexer of Go's text/template language, and the UTF-8 helpers
 * of the engine.
 *
 * As text/template/parse's lexer, it runs its states (text, left delimiter,
 * inside an action) over the whole input, or up to the first error, and
 * appends the items to an array; an error is the last item. The parser
 * (parse.c) then reads that array with unlimited backup.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/unicode.h"

#include "lex_int.h"
#include "tmpl_int.h"

/* The parse arena has no limit: nd_tmpl__arena_alloc never fails there. */
static void *lx_alloc(struct tarena *a, size_t n)
{
    void *p = nd_tmpl__arena_alloc(a, n);
    if (!p)
        abort();
    memset(p, 0, n);
    return p;
}

/* ---- UTF-8 ---- */

int32_t nd_tmpl__utf8_decode(const char *s, size_t n, int *w)
{
    const unsigned char *u = (const unsigned char *)s;
    *w = 1;
    if (n == 0)
        return -1;
    if (u[0] < 0x80)
        return u[0];
    int len;
    int32_t r, min;
    if ((u[0] & 0xE0) == 0xC0) {
        len = 2;
        r = u[0] & 0x1F;
        min = 0x80;
    } else if ((u[0] & 0xF0) == 0xE0) {
        len = 3;
        r = u[0] & 0x0F;
        min = 0x800;
    } else if ((u[0] & 0xF8) == 0xF0) {
        len = 4;
        r = u[0] & 0x07;
        min = 0x10000;
    } else {
        return 0xFFFD;
    }
    if ((size_t)len > n)
        return 0xFFFD;
    for (int i = 1; i < len; i++) {
        if ((u[i] & 0xC0) != 0x80)
            return 0xFFFD;
        r = (r << 6) | (u[i] & 0x3F);
    }
    if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
        return 0xFFFD;
    *w = len;
    return r;
}

void nd_tmpl__utf8_encode(struct nd_buf *b, int32_t r)
{
    char s[4];
    if (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
        r = 0xFFFD;
    if (r < 0x80) {
        s[0] = (char)r;
        nd_buf_add(b, s, 1);
    } else if (r < 0x800) {
        s[0] = (char)(0xC0 | (r >> 6));
        s[1] = (char)(0x80 | (r & 0x3F));
        nd_buf_add(b, s, 2);
    } else if (r < 0x10000) {
        s[0] = (char)(0xE0 | (r >> 12));
        s[1] = (char)(0x80 | ((r >> 6) & 0x3F));
        s[2] = (char)(0x80 | (r & 0x3F));
        nd_buf_add(b, s, 3);
    } else {
        s[0] = (char)(0xF0 | (r >> 18));
        s[1] = (char)(0x80 | ((r >> 12) & 0x3F));
        s[2] = (char)(0x80 | ((r >> 6) & 0x3F));
        s[3] = (char)(0x80 | (r & 0x3F));
        nd_buf_add(b, s, 4);
    }
}

/* ---- lexer ---- */

#define LEOF (-1)

static int32_t lx_next(struct lexer *l)
{
    if (l->pos >= l->len) {
        l->at_eof = true;
        return LEOF;
    }
    int w;
    int32_t r = nd_tmpl__utf8_decode(l->in + l->pos, l->len - l->pos, &w);
    l->pos += (size_t)w;
    if (r == '\n')
        l->line++;
    return r;
}

static void lx_backup(struct lexer *l)
{
    if (!l->at_eof && l->pos > 0) {
        /* step back over one UTF-8 sequence */
        size_t p = l->pos - 1;
        while (p > 0 && ((unsigned char)l->in[p] & 0xC0) == 0x80 && l->pos - p < 4)
            p--;
        int w;
        int32_t r = nd_tmpl__utf8_decode(l->in + p, l->len - p, &w);
        if ((size_t)w != l->pos - p) {
            p = l->pos - 1; /* invalid byte: it was consumed alone */
            r = 0xFFFD;
        }
        l->pos = p;
        if (r == '\n')
            l->line--;
    }
}

static int32_t lx_peek(struct lexer *l)
{
    int32_t r = lx_next(l);
    lx_backup(l);
    return r;
}

static void lx_push(struct lexer *l, struct item it)
{
    if (l->nitems == l->capitems) {
        l->capitems = l->capitems ? l->capitems * 2 : 64;
        l->items = nd_xrealloc(l->items, l->capitems * sizeof(*l->items));
    }
    l->items[l->nitems++] = it;
}

static void lx_emit(struct lexer *l, int t)
{
    struct item it = {t, l->start, {l->in + l->start, l->pos - l->start}, l->start_line};
    lx_push(l, it);
    l->start = l->pos;
    l->start_line = l->line;
}

static int count_nl(const char *s, size_t n)
{
    int c = 0;
    for (size_t i = 0; i < n; i++)
        c += s[i] == '\n';
    return c;
}

static void lx_ignore(struct lexer *l)
{
    l->line += count_nl(l->in + l->start, l->pos - l->start);
    l->start = l->pos;
    l->start_line = l->line;
}

static bool is_space(int32_t r)
{
    return r == ' ' || r == '\t' || r == '\r' || r == '\n';
}

/* unicode.IsLetter and unicode.IsDigit, from Go's tables (src/util). */
bool nd_tmpl__is_letter(int32_t r)
{
    return r >= 0 && nd_unicode_is_letter((uint32_t)r);
}

bool nd_tmpl__is_digit(int32_t r)
{
    return r >= 0 && nd_unicode_is_digit((uint32_t)r);
}

/* Go's isAlphaNumeric. */
static bool is_alnum(int32_t r)
{
    return r == '_' || nd_tmpl__is_letter(r) || nd_tmpl__is_digit(r);
}

static bool has_left_trim(const char *s, size_t n)
{
    return n >= 2 && s[0] == '-' && is_space((unsigned char)s[1]);
}

static bool has_right_trim(const char *s, size_t n)
{
    return n >= 2 && is_space((unsigned char)s[0]) && s[1] == '-';
}

static bool has_prefix(const char *s, size_t n, const char *p)
{
    size_t pl = strlen(p);
    return n >= pl && memcmp(s, p, pl) == 0;
}

/* Formats a rune as Go's %#U: U+0021 '!' */
static void fmt_U(char *out, size_t n, int32_t r)
{
    struct nd_buf b;
    nd_buf_init(&b, 64);
    nd_buf_printf(&b, "U+%04" PRIX32, (uint32_t)r);
    if (nd_tmpl__is_print(r)) {
        nd_buf_adds(&b, " '");
        nd_tmpl__utf8_encode(&b, r);
        nd_buf_addc(&b, '\'');
    }
    snprintf(out, n, "%s", nd_buf_cstr(&b));
    nd_buf_deinit(&b);
}

static void lx_errorf(struct lexer *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void lx_errorf(struct lexer *l, const char *fmt, ...)
{
    char msg[ND_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t n = strlen(msg);
    struct item it = {I_ERROR, l->start, {lx_alloc(l->arena, n + 1), n}, l->start_line};
    memcpy((char *)it.val.p, msg, n);
    lx_push(l, it);
    l->done = true;
}

/* Quote the input from start to pos as %q for number errors. */
static void lx_err_quoted(struct lexer *l, const char *prefix)
{
    struct nd_buf b;
    nd_buf_init(&b, ND_ERRLEN);
    nd_tmpl__quote(&b, l->in + l->start, l->pos - l->start);
    lx_errorf(l, "%s%s", prefix, nd_buf_cstr(&b));
    nd_buf_deinit(&b);
}

enum lstate { LS_TEXT, LS_LEFT, LS_INSIDE, LS_DONE };

static size_t right_trim_len(const char *s, size_t n)
{
    size_t k = n;
    while (k > 0 && is_space((unsigned char)s[k - 1]))
        k--;
    return n - k;
}

static size_t left_trim_len(const char *s, size_t n)
{
    size_t k = 0;
    while (k < n && is_space((unsigned char)s[k]))
        k++;
    return k;
}

static bool at_right_delim(struct lexer *l, bool *trim)
{
    const char *s = l->in + l->pos;
    size_t n = l->len - l->pos;
    if (has_right_trim(s, n) && has_prefix(s + 2, n - 2, "}}")) {
        *trim = true;
        return true;
    }
    *trim = false;
    return has_prefix(s, n, "}}");
}

static int lex_text(struct lexer *l)
{
    const char *s = l->in + l->pos;
    size_t n = l->len - l->pos;
    const char *x = memmem(s, n, "{{", 2);
    if (x) {
        l->pos += (size_t)(x - s);
        size_t trim = 0;
        if (has_left_trim(l->in + l->pos + 2, l->len - l->pos - 2))
            trim = right_trim_len(l->in + l->start, l->pos - l->start);
        l->pos -= trim;
        if (l->pos > l->start) {
            l->line += count_nl(l->in + l->start, l->pos - l->start);
            lx_emit(l, I_TEXT);
        }
        l->pos += trim;
        lx_ignore(l);
        return LS_LEFT;
    }
    l->pos = l->len;
    if (l->pos > l->start) {
        l->line += count_nl(l->in + l->start, l->pos - l->start);
        lx_emit(l, I_TEXT);
    }
    lx_emit(l, I_EOF);
    return LS_DONE;
}

static int lex_comment(struct lexer *l)
{
    l->pos += 2;
    const char *e = memmem(l->in + l->pos, l->len - l->pos, "*/", 2);
    if (!e) {
        lx_errorf(l, "unclosed comment");
        return LS_DONE;
    }
    l->pos = (size_t)(e - l->in) + 2;
    bool trim;
    if (!at_right_delim(l, &trim)) {
        lx_errorf(l, "comment ends before closing delimiter");
        return LS_DONE;
    }
    if (trim)
        l->pos += 2;
    l->pos += 2;
    if (trim)
        l->pos += left_trim_len(l->in + l->pos, l->len - l->pos);
    lx_ignore(l);
    return LS_TEXT;
}

static int lex_left(struct lexer *l)
{
    l->pos += 2;
    bool trim = has_left_trim(l->in + l->pos, l->len - l->pos);
    size_t after = trim ? 2 : 0;
    if (has_prefix(l->in + l->pos + after, l->len - l->pos - after, "/*")) {
        l->pos += after;
        lx_ignore(l);
        return lex_comment(l);
    }
    lx_emit(l, I_LDELIM);
    l->pos += after;
    lx_ignore(l);
    l->paren = 0;
    return LS_INSIDE;
}

static int lex_right(struct lexer *l)
{
    bool trim = has_right_trim(l->in + l->pos, l->len - l->pos);
    if (trim) {
        l->pos += 2;
        lx_ignore(l);
    }
    l->pos += 2;
    lx_emit(l, I_RDELIM);
    if (trim) {
        l->pos += left_trim_len(l->in + l->pos, l->len - l->pos);
        lx_ignore(l);
    }
    return LS_TEXT;
}

static bool at_terminator(struct lexer *l)
{
    int32_t r = lx_peek(l);
    if (is_space(r))
        return true;
    switch (r) {
    case LEOF:
    case '.':
    case ',':
    case '|':
    case ':':
    case ')':
    case '(':
        return true;
    }
    return has_prefix(l->in + l->pos, l->len - l->pos, "}}");
}

static const struct {
    const char *w;
    int t;
} keywords[] = {
    {".", I_DOT},         {"block", I_BLOCK}, {"break", I_BREAK},       {"continue", I_CONTINUE},
    {"define", I_DEFINE}, {"else", I_ELSE},   {"end", I_END},           {"if", I_IF},
    {"range", I_RANGE},   {"nil", I_NIL},     {"template", I_TEMPLATE}, {"with", I_WITH},
};

static int lex_identifier(struct lexer *l)
{
    for (;;) {
        int32_t r = lx_next(l);
        if (is_alnum(r))
            continue;
        lx_backup(l);
        if (!at_terminator(l)) {
            char u[32];
            fmt_U(u, sizeof u, r);
            lx_errorf(l, "bad character %s", u);
            return LS_DONE;
        }
        const char *w = l->in + l->start;
        size_t wn = l->pos - l->start;
        for (size_t i = 0; i < ND_ARRAY_LEN(keywords); i++) {
            if (strlen(keywords[i].w) == wn && memcmp(keywords[i].w, w, wn) == 0) {
                lx_emit(l, keywords[i].t);
                return LS_INSIDE;
            }
        }
        if (w[0] == '.')
            lx_emit(l, I_FIELD);
        else if ((wn == 4 && memcmp(w, "true", 4) == 0) || (wn == 5 && memcmp(w, "false", 5) == 0))
            lx_emit(l, I_BOOL);
        else
            lx_emit(l, I_IDENT);
        return LS_INSIDE;
    }
}

static int lex_field_or_var(struct lexer *l, int typ)
{
    if (at_terminator(l)) {
        lx_emit(l, typ == I_VARIABLE ? I_VARIABLE : I_DOT);
        return LS_INSIDE;
    }
    int32_t r;
    for (;;) {
        r = lx_next(l);
        if (!is_alnum(r)) {
            lx_backup(l);
            break;
        }
    }
    if (!at_terminator(l)) {
        char u[32];
        fmt_U(u, sizeof u, r);
        lx_errorf(l, "bad character %s", u);
        return LS_DONE;
    }
    lx_emit(l, typ);
    return LS_INSIDE;
}

static bool lx_accept(struct lexer *l, const char *valid)
{
    int32_t r = lx_next(l);
    if (r > 0 && r < 128 && strchr(valid, (int)r))
        return true;
    lx_backup(l);
    return false;
}

static void lx_accept_run(struct lexer *l, const char *valid)
{
    for (;;) {
        int32_t r = lx_next(l);
        if (!(r > 0 && r < 128 && strchr(valid, (int)r)))
            break;
    }
    lx_backup(l);
}

static bool scan_number(struct lexer *l)
{
    lx_accept(l, "+-");
    const char *digits = "0123456789_";
    if (lx_accept(l, "0")) {
        if (lx_accept(l, "xX"))
            digits = "0123456789abcdefABCDEF_";
        else if (lx_accept(l, "oO"))
            digits = "01234567_";
        else if (lx_accept(l, "bB"))
            digits = "01_";
    }
    lx_accept_run(l, digits);
    if (lx_accept(l, "."))
        lx_accept_run(l, digits);
    if (strlen(digits) == 11 && lx_accept(l, "eE")) {
        lx_accept(l, "+-");
        lx_accept_run(l, "0123456789_");
    }
    if (strlen(digits) == 23 && lx_accept(l, "pP")) {
        lx_accept(l, "+-");
        lx_accept_run(l, "0123456789_");
    }
    lx_accept(l, "i");
    if (is_alnum(lx_peek(l))) {
        lx_next(l);
        return false;
    }
    return true;
}

static int lex_number(struct lexer *l)
{
    if (!scan_number(l)) {
        lx_err_quoted(l, "bad number syntax: ");
        return LS_DONE;
    }
    int32_t sign = lx_peek(l);
    if (sign == '+' || sign == '-') {
        if (!scan_number(l) || l->in[l->pos - 1] != 'i') {
            lx_err_quoted(l, "bad number syntax: ");
            return LS_DONE;
        }
        lx_emit(l, I_COMPLEX);
    } else {
        lx_emit(l, I_NUMBER);
    }
    return LS_INSIDE;
}

static int lex_quote(struct lexer *l, int32_t q, int typ, const char *msg)
{
    for (;;) {
        int32_t r = lx_next(l);
        if (r == '\\') {
            r = lx_next(l);
            if (r != LEOF && r != '\n')
                continue;
        }
        if (r == LEOF || r == '\n') {
            lx_errorf(l, "%s", msg);
            return LS_DONE;
        }
        if (r == q)
            break;
    }
    lx_emit(l, typ);
    return LS_INSIDE;
}

static int lex_raw(struct lexer *l)
{
    for (;;) {
        int32_t r = lx_next(l);
        if (r == LEOF) {
            lx_errorf(l, "unterminated raw quoted string");
            return LS_DONE;
        }
        if (r == '`')
            break;
    }
    lx_emit(l, I_RAWSTRING);
    return LS_INSIDE;
}

static int lex_space(struct lexer *l)
{
    int nspaces = 0;
    for (;;) {
        int32_t r = lx_peek(l);
        if (!is_space(r))
            break;
        lx_next(l);
        nspaces++;
    }
    const char *s = l->in + l->pos - 1;
    size_t n = l->len - l->pos + 1;
    if (has_right_trim(s, n) && has_prefix(s + 2, n - 2, "}}")) {
        lx_backup(l);
        if (nspaces == 1)
            return lex_right(l);
    }
    lx_emit(l, I_SPACE);
    return LS_INSIDE;
}

static int lex_inside(struct lexer *l)
{
    bool trim;
    if (at_right_delim(l, &trim)) {
        if (l->paren == 0)
            return lex_right(l);
        lx_errorf(l, "unclosed left paren");
        return LS_DONE;
    }
    int32_t r = lx_next(l);
    if (r == LEOF) {
        lx_errorf(l, "unclosed action");
        return LS_DONE;
    }
    if (is_space(r)) {
        lx_backup(l);
        return lex_space(l);
    }
    switch (r) {
    case '=':
        lx_emit(l, I_ASSIGN);
        return LS_INSIDE;
    case ':':
        if (lx_next(l) != '=') {
            lx_errorf(l, "expected :=");
            return LS_DONE;
        }
        lx_emit(l, I_DECLARE);
        return LS_INSIDE;
    case '|':
        lx_emit(l, I_PIPE);
        return LS_INSIDE;
    case '"':
        return lex_quote(l, '"', I_STRING, "unterminated quoted string");
    case '`':
        return lex_raw(l);
    case '$':
        return lex_field_or_var(l, I_VARIABLE);
    case '\'':
        return lex_quote(l, '\'', I_CHARCONST, "unterminated character constant");
    case '(':
        lx_emit(l, I_LPAREN);
        l->paren++;
        return LS_INSIDE;
    case ')':
        lx_emit(l, I_RPAREN);
        l->paren--;
        if (l->paren < 0) {
            lx_errorf(l, "unexpected right paren U+0029 ')'");
            return LS_DONE;
        }
        return LS_INSIDE;
    }
    if (r == '.') {
        if (l->pos < l->len) {
            char c = l->in[l->pos];
            if (c < '0' || c > '9')
                return lex_field_or_var(l, I_FIELD);
        }
        lx_backup(l);
        return lex_number(l);
    }
    if (r == '+' || r == '-' || (r >= '0' && r <= '9')) {
        lx_backup(l);
        return lex_number(l);
    }
    if (is_alnum(r)) {
        lx_backup(l);
        return lex_identifier(l);
    }
    if (r < 0x80 && r >= 0x20 && r != 0x7f) {
        lx_emit(l, I_CHAR);
        return LS_INSIDE;
    }
    char u[32];
    fmt_U(u, sizeof u, r);
    lx_errorf(l, "unrecognized character in action: %s", u);
    return LS_DONE;
}

void nd_tmpl__lex(struct lexer *l)
{
    int st = LS_TEXT;
    while (st != LS_DONE && !l->done) {
        switch (st) {
        case LS_TEXT:
            st = lex_text(l);
            break;
        case LS_LEFT:
            st = lex_left(l);
            break;
        case LS_INSIDE:
            st = lex_inside(l);
            break;
        }
    }
}
