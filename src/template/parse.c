/* parse.c - parser for Go's text/template language.
 *
 * The structure mirrors text/template/parse so that the same input gives the
 * same tree and the same error message: the lexer (lex.c) runs its states to
 * the end (or to the first error) into an array of items, and the parser
 * reads that array with unlimited backup. Go's parser reports the line of
 * the furthest token it has read (t.token[0]); `hw` tracks that.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lex_int.h"
#include "tmpl_int.h"

/* ---- arena ---- */

struct tchunk {
    struct tchunk *next;
    size_t used, cap;
    max_align_t data[];
};

void nd_tmpl__arena_init(struct tarena *a, size_t limit)
{
    a->head = NULL;
    a->total = 0;
    a->limit = limit;
}

void nd_tmpl__arena_free(struct tarena *a)
{
    struct tchunk *c = a->head;
    while (c) {
        struct tchunk *n = c->next;
        free(c);
        c = n;
    }
    a->head = NULL;
    a->total = 0;
}

void *nd_tmpl__arena_alloc(struct tarena *a, size_t n)
{
    const size_t al = sizeof(max_align_t);
    n = (n + al - 1) / al * al;
    if (n == 0)
        n = al;
    if (a->limit && (n > a->limit || a->total > a->limit - n))
        return NULL;
    struct tchunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 16384 ? n : 16384;
        c = nd_xmalloc(sizeof(*c) + cap);
        c->cap = cap;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    a->total += n;
    return p;
}

char *nd_tmpl__arena_strndup(struct tarena *a, const char *s, size_t n)
{
    char *p = nd_tmpl__arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* The parse arena has no limit: nd_tmpl__arena_alloc never fails there. */
static void *pa(struct tarena *a, size_t n)
{
    void *p = nd_tmpl__arena_alloc(a, n);
    if (!p)
        abort();
    memset(p, 0, n);
    return p;
}

/* ---- unquoting (strconv.Unquote / UnquoteChar) ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One character of a quoted literal at s[*i]; appends it to b. false on syntax error. */
static bool unquote_char(const char *s, size_t n, size_t *i, char quote, struct nd_buf *b,
                         int32_t *rune_out)
{
    if (*i >= n)
        return false;
    unsigned char c = (unsigned char)s[*i];
    if (c == (unsigned char)quote && (quote == '\'' || quote == '"'))
        return false;
    if (c != '\\') {
        int w;
        int32_t r = nd_tmpl__utf8_decode(s + *i, n - *i, &w);
        nd_buf_add(b, s + *i, (size_t)w);
        *i += (size_t)w;
        if (rune_out)
            *rune_out = r;
        return true;
    }
    if (*i + 1 >= n)
        return false;
    char e = s[*i + 1];
    *i += 2;
    int32_t r;
    switch (e) {
    case 'a':
        r = 7;
        break;
    case 'b':
        r = 8;
        break;
    case 'f':
        r = 12;
        break;
    case 'n':
        r = 10;
        break;
    case 'r':
        r = 13;
        break;
    case 't':
        r = 9;
        break;
    case 'v':
        r = 11;
        break;
    case '\\':
        r = '\\';
        break;
    case '\'':
    case '"':
        if (e != quote)
            return false;
        r = e;
        break;
    case 'x':
    case 'u':
    case 'U': {
        int nd = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        if (*i + (size_t)nd > n)
            return false;
        r = 0;
        for (int k = 0; k < nd; k++) {
            int h = hexval(s[*i + (size_t)k]);
            if (h < 0)
                return false;
            r = r * 16 + h;
        }
        *i += (size_t)nd;
        if (e == 'x') {
            /* a single byte, not a rune */
            char byte = (char)r;
            nd_buf_add(b, &byte, 1);
            if (rune_out)
                *rune_out = r;
            return true;
        }
        if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
            return false;
        break;
    }
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7': {
        if (*i + 2 > n)
            return false;
        r = e - '0';
        for (int k = 0; k < 2; k++) {
            char d = s[*i + (size_t)k];
            if (d < '0' || d > '7')
                return false;
            r = r * 8 + (d - '0');
        }
        *i += 2;
        if (r > 255)
            return false;
        char byte = (char)r;
        nd_buf_add(b, &byte, 1);
        if (rune_out)
            *rune_out = r;
        return true;
    }
    default:
        return false;
    }
    nd_tmpl__utf8_encode(b, r);
    if (rune_out)
        *rune_out = r;
    return true;
}

/* strconv.Unquote of a "..." or `...` token. */
static bool unquote(struct tarena *a, struct tstr q, struct tstr *out)
{
    struct nd_buf b;
    nd_buf_init(&b, (size_t)-1);
    bool ok = true;
    if (q.n < 2 || q.p[0] != q.p[q.n - 1]) {
        ok = false;
    } else if (q.p[0] == '`') {
        for (size_t i = 1; i + 1 < q.n; i++) {
            if (q.p[i] == '`') {
                ok = false;
                break;
            }
            if (q.p[i] != '\r')
                nd_buf_addc(&b, q.p[i]);
        }
    } else {
        size_t i = 1, end = q.n - 1;
        while (i < end && ok) {
            if (q.p[i] == '\n')
                ok = false;
            else
                ok = unquote_char(q.p, end, &i, '"', &b, NULL);
        }
    }
    if (ok) {
        out->n = b.len;
        char *p = pa(a, b.len + 1);
        if (b.len)
            memcpy(p, b.data, b.len);
        out->p = p;
    }
    nd_buf_deinit(&b);
    return ok;
}

/* ---- numbers (strconv.ParseInt/ParseUint base 0, ParseFloat) ---- */

static bool underscore_ok(const char *s, size_t n)
{
    char saw = '^';
    size_t i = 0;
    if (n >= 1 && (s[0] == '-' || s[0] == '+')) {
        s++;
        n--;
    }
    bool hex = false;
    if (n >= 2 && s[0] == '0' &&
        (s[1] == 'b' || s[1] == 'B' || s[1] == 'o' || s[1] == 'O' || s[1] == 'x' || s[1] == 'X')) {
        i = 2;
        saw = '0';
        hex = s[1] == 'x' || s[1] == 'X';
    }
    for (; i < n; i++) {
        char c = s[i];
        if ((c >= '0' && c <= '9') || (hex && hexval(c) >= 0)) {
            saw = '0';
            continue;
        }
        if (c == '_') {
            if (saw != '0')
                return false;
            saw = '_';
            continue;
        }
        if (saw == '_')
            return false;
        saw = '!';
    }
    return saw != '_';
}

static bool parse_uint0(const char *s, size_t n, uint64_t *out)
{
    if (n == 0)
        return false;
    unsigned base = 10;
    size_t i = 0;
    bool prefixed = false;
    if (s[0] == '0') {
        if (n >= 3 && (s[1] == 'x' || s[1] == 'X')) {
            base = 16;
            i = 2;
        } else if (n >= 3 && (s[1] == 'o' || s[1] == 'O')) {
            base = 8;
            i = 2;
        } else if (n >= 3 && (s[1] == 'b' || s[1] == 'B')) {
            base = 2;
            i = 2;
        } else {
            base = 8;
            i = 1;
        }
        prefixed = true;
    }
    bool underscores = false;
    uint64_t v = 0;
    size_t ndig = 0;
    for (; i < n; i++) {
        char c = s[i];
        if (c == '_') {
            underscores = true;
            continue;
        }
        int d = hexval(c);
        if (d < 0 || (unsigned)d >= base)
            return false;
        if (v > (UINT64_MAX - (uint64_t)d) / base)
            return false;
        v = v * base + (uint64_t)d;
        ndig++;
    }
    if (ndig == 0 && !(prefixed && base == 8 && n == 1))
        return false;
    if (underscores && !underscore_ok(s, n))
        return false;
    *out = v;
    return true;
}

static bool parse_int0(const char *s, size_t n, int64_t *out)
{
    bool neg = false;
    if (n > 0 && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        s++;
        n--;
    }
    uint64_t u;
    if (!parse_uint0(s, n, &u))
        return false;
    if (!neg && u > (uint64_t)INT64_MAX)
        return false;
    if (neg && u > (uint64_t)INT64_MAX + 1)
        return false;
    *out = neg ? (int64_t)(0 - u) : (int64_t)u;
    return true;
}

static bool parse_float(const char *s, size_t n, double *out)
{
    char tmp[128];
    size_t k = 0;
    if (n == 0 || n >= sizeof tmp)
        return false;
    bool underscores = false, hex = false, hasp = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '_') {
            underscores = true;
            continue;
        }
        if (c == 'x' || c == 'X')
            hex = true;
        if (c == 'p' || c == 'P')
            hasp = true;
        if (!((c >= '0' && c <= '9') || hexval(c) >= 0 || c == '.' || c == '+' || c == '-' ||
              c == 'x' || c == 'X' || c == 'p' || c == 'P' || c == 'e' || c == 'E' || c == 'o' ||
              c == 'O'))
            return false;
        tmp[k++] = c;
    }
    tmp[k] = '\0';
    if (underscores && !underscore_ok(s, n))
        return false;
    if (hex && !hasp)
        return false;
    if (strchr(tmp, 'o') || strchr(tmp, 'O'))
        return false;
    const char *body = tmp + (tmp[0] == '+' || tmp[0] == '-');
    if (!hex && (strchr(body, 'b') || strchr(body, 'B')))
        return false;
    char *end;
    errno = 0;
    double f = strtod(tmp, &end);
    if (*end != '\0' || end == tmp)
        return false;
    if (errno == ERANGE && isinf(f))
        return false; /* Go: value out of range */
    *out = f;
    return true;
}

/* ---- parser ---- */

struct parser {
    const struct nd_template_set *set;
    struct tarena *a;
    struct lexer lx;
    size_t idx, hw; /* next item; furthest item read */
    struct tsrc *src;
    const char *tname; /* the tree being parsed */
    int action_line;
    int range_depth;
    int nest;
    const char **vars;
    size_t nvars, capvars;
    struct ttree *trees; /* this parse's tree set */
    char *err;
    int *err_line, *err_col; /* where the error was found; NULL = not wanted */
    jmp_buf jb;
};

static struct item p_next(struct parser *p)
{
    if (p->idx >= p->lx.nitems)
        return p->lx.items[p->lx.nitems - 1]; /* EOF or error repeats */
    if (p->idx > p->hw || p->hw == (size_t)-1)
        p->hw = p->idx;
    return p->lx.items[p->idx++];
}

static void p_backup(struct parser *p)
{
    if (p->idx > 0)
        p->idx--;
}

static struct item p_peek(struct parser *p)
{
    struct item it = p_next(p);
    p_backup(p);
    return it;
}

static struct item p_next_nonspace(struct parser *p)
{
    struct item it;
    do
        it = p_next(p);
    while (it.typ == I_SPACE);
    return it;
}

static struct item p_peek_nonspace(struct parser *p)
{
    struct item it = p_next_nonspace(p);
    p_backup(p);
    return it;
}

_Noreturn static void p_errorf(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
_Noreturn static void p_errorf(struct parser *p, const char *fmt, ...)
{
    char msg[ND_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t h = p->hw < p->lx.nitems ? p->hw : p->lx.nitems - 1;
    struct nd_buf e;
    nd_buf_init(&e, (size_t)-1);
    nd_buf_printf(&e, "template: %s:%d: %s", p->src->name, p->lx.items[h].line, msg);
    if (p->err_line) {
        /* Go reports only the line; a config error also names the column:
         * the 1-based byte offset of the offending item in its line. */
        /* The parser often detects an error on the "}}" that ends the
         * action: point at the word before it instead. */
        size_t k = h;
        while (k > 0 && (p->lx.items[k].typ == I_RDELIM || p->lx.items[k].typ == I_SPACE) &&
               p->lx.items[k - 1].typ != I_LDELIM && p->lx.items[k - 1].line == p->lx.items[h].line)
            k--;
        size_t pos = p->lx.items[k].pos, bol = pos;
        while (bol > 0 && p->lx.in[bol - 1] != '\n')
            bol--;
        *p->err_line = p->lx.items[h].line;
        *p->err_col = (int)(pos - bol) + 1;
    }
    nd_tmpl__err_from_buf(p->err, &e);
    nd_buf_deinit(&e);
    longjmp(p->jb, 1);
}

/* Go's item String(). */
static void item_string(const struct item *it, char *out, size_t n)
{
    if (it->typ == I_EOF) {
        snprintf(out, n, "EOF");
        return;
    }
    if (it->typ == I_ERROR) {
        snprintf(out, n, "%.*s", (int)it->val.n, it->val.p);
        return;
    }
    if (it->typ > I_KEYWORD) {
        snprintf(out, n, "<%.*s>", (int)it->val.n, it->val.p);
        return;
    }
    struct nd_buf b;
    nd_buf_init(&b, (size_t)-1);
    /* %.10q: the first 10 runes, quoted, then "..." when longer */
    size_t off = 0, runes = 0;
    while (off < it->val.n && runes < 10) {
        int w;
        nd_tmpl__utf8_decode(it->val.p + off, it->val.n - off, &w);
        off += (size_t)w;
        runes++;
    }
    nd_tmpl__quote(&b, it->val.p, off);
    if (off < it->val.n) {
        /* Go prints %.10q... only when len(val) > 10 bytes */
        nd_buf_adds(&b, "...");
    } else if (it->val.n > 10) {
        nd_buf_adds(&b, "...");
    }
    snprintf(out, n, "%s", nd_buf_cstr(&b));
    nd_buf_deinit(&b);
}

_Noreturn static void p_unexpected(struct parser *p, const struct item *it, const char *context)
{
    char s[ND_ERRLEN];
    item_string(it, s, sizeof s);
    if (it->typ == I_ERROR) {
        char extra[ND_ERRLEN] = "";
        if (p->action_line != 0 && p->action_line != it->line) {
            bool act = strlen(s) >= 7 && strcmp(s + strlen(s) - 7, " action") == 0;
            snprintf(extra, sizeof extra, "%s started at %s:%d", act ? "" : " in action",
                     p->src->name, p->action_line);
        }
        p_errorf(p, "%s%s", s, extra);
    }
    p_errorf(p, "unexpected %s in %s", s, context);
}

static struct item p_expect(struct parser *p, int typ, const char *context)
{
    struct item it = p_next_nonspace(p);
    if (it.typ != typ)
        p_unexpected(p, &it, context);
    return it;
}

static struct tnode *new_node(struct parser *p, int kind, size_t pos)
{
    struct tnode *n = pa(p->a, sizeof(*n));
    n->kind = (uint8_t)kind;
    n->pos = pos;
    n->src = p->src;
    return n;
}

/* Appends x to a node-pointer array that lives in the parser's arena: the
 * old array is simply abandoned to the arena when it grows. */
static void push_node(struct parser *p, struct tnode ***v, size_t *n, size_t *cap, struct tnode *x)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        struct tnode **nv = pa(p->a, ncap * sizeof(*nv));
        if (*n)
            memcpy(nv, *v, *n * sizeof(*nv));
        *v = nv;
        *cap = ncap;
    }
    (*v)[(*n)++] = x;
}

static void list_append(struct parser *p, struct tnode *l, struct tnode *n)
{
    push_node(p, &l->u.list.v, &l->u.list.n, &l->u.list.cap, n);
}

static void nest_in(struct parser *p)
{
    if (++p->nest > ND_TEMPLATE_MAX_NEST)
        p_errorf(p, "nesting too deep (limit %d)", ND_TEMPLATE_MAX_NEST);
}

/* Variable scopes live in the parse arena, so that an error's longjmp leaks
 * nothing and a nested tree (define, block) can start a fresh scope. */
static void push_var(struct parser *p, const char *name)
{
    if (p->nvars == p->capvars) {
        size_t cap = p->capvars ? p->capvars * 2 : 16;
        const char **v = pa(p->a, cap * sizeof(*v));
        if (p->nvars)
            memcpy(v, p->vars, p->nvars * sizeof(*v));
        p->vars = v;
        p->capvars = cap;
    }
    p->vars[p->nvars++] = name;
}

struct varscope {
    const char **vars;
    size_t nvars, capvars;
};

static struct varscope new_scope(struct parser *p)
{
    struct varscope saved = {p->vars, p->nvars, p->capvars};
    p->vars = NULL;
    p->nvars = p->capvars = 0;
    push_var(p, "$");
    return saved;
}

static void end_scope(struct parser *p, struct varscope saved)
{
    p->vars = saved.vars;
    p->nvars = saved.nvars;
    p->capvars = saved.capvars;
}

static struct tnode *parse_pipeline(struct parser *p, const char *context, int end);
static struct tnode *item_list(struct parser *p, struct tnode **next);

static struct tnode *new_var(struct parser *p, size_t pos, struct tstr val)
{
    struct tnode *n = new_node(p, N_VAR, pos);
    /* split "$x.a.b" on dots */
    size_t cnt = 1;
    for (size_t i = 0; i < val.n; i++)
        cnt += val.p[i] == '.';
    n->u.id.ident = pa(p->a, cnt * sizeof(struct tstr));
    size_t s = 0, k = 0;
    for (size_t i = 0; i <= val.n; i++) {
        if (i == val.n || val.p[i] == '.') {
            n->u.id.ident[k].p = nd_tmpl__arena_strndup(p->a, val.p + s, i - s);
            n->u.id.ident[k].n = i - s;
            k++;
            s = i + 1;
        }
    }
    n->u.id.nident = k;
    return n;
}

static struct tnode *new_field(struct parser *p, size_t pos, struct tstr val)
{
    /* ".a.b": skip the leading dot, then split */
    struct tnode *n = new_var(p, pos, (struct tstr){val.p + 1, val.n - 1});
    n->kind = N_FIELD;
    return n;
}

static struct tnode *use_var(struct parser *p, size_t pos, struct tstr val)
{
    struct tnode *v = new_var(p, pos, val);
    for (size_t i = 0; i < p->nvars; i++)
        if (strcmp(p->vars[i], v->u.id.ident[0].p) == 0)
            return v;
    p_errorf(p, "undefined variable \"%s\"", v->u.id.ident[0].p);
}

/* A number node holding float f is also an int or a uint when f is exactly
 * one (Go's parse.NumberNode does the same for float and complex literals). */
static void num_set_float(struct tnode *n, double f)
{
    n->u.num.is_float = true;
    n->u.num.f = f;
    if (f >= -9223372036854775808.0 && f < 9223372036854775808.0 && (double)(int64_t)f == f) {
        n->u.num.is_int = true;
        n->u.num.i = (int64_t)f;
    }
    if (f >= 0 && f < 18446744073709551616.0 && (double)(uint64_t)f == f) {
        n->u.num.is_uint = true;
        n->u.num.u = (uint64_t)f;
    }
}

static struct tnode *new_number(struct parser *p, const struct item *it)
{
    struct tnode *n = new_node(p, N_NUMBER, it->pos);
    const char *s = it->val.p;
    size_t len = it->val.n;
    n->u.num.text.p = nd_tmpl__arena_strndup(p->a, s, len);
    n->u.num.text.n = len;
    if (it->typ == I_CHARCONST) {
        struct nd_buf b;
        nd_buf_init(&b, 64);
        size_t i = 1;
        int32_t r = 0;
        bool ok = unquote_char(s, len, &i, '\'', &b, &r);
        nd_buf_deinit(&b);
        if (!ok)
            p_errorf(p, "invalid syntax");
        if (!(i == len - 1 && s[i] == '\''))
            p_errorf(p, "malformed character constant: %.*s", (int)len, s);
        n->u.num.i = r;
        n->u.num.u = (uint64_t)r;
        n->u.num.f = r;
        n->u.num.is_int = n->u.num.is_uint = n->u.num.is_float = true;
        return n;
    }
    if (it->typ == I_COMPLEX || (len > 0 && s[len - 1] == 'i')) {
        double re = 0, im = 0;
        bool ok;
        if (it->typ == I_COMPLEX) {
            /* "re+imi": split at the sign that starts the imaginary part */
            size_t k = len - 1;
            while (k > 0 && !((s[k] == '+' || s[k] == '-') && !strchr("eEpP", s[k - 1])))
                k--;
            ok = k > 0 && parse_float(s, k, &re) && parse_float(s + k, len - 1 - k, &im);
        } else {
            ok = parse_float(s, len - 1, &im);
        }
        if (ok) {
            n->u.num.is_complex = true;
            n->u.num.re = re;
            n->u.num.im = im;
            if (im == 0) {
                /* Go's simplifyComplex */
                num_set_float(n, re);
            }
            return n;
        }
        if (it->typ == I_COMPLEX)
            p_errorf(p, "expected integer");
    }
    uint64_t u;
    int64_t i;
    if (parse_uint0(s, len, &u)) {
        n->u.num.is_uint = true;
        n->u.num.u = u;
    }
    if (parse_int0(s, len, &i)) {
        n->u.num.is_int = true;
        n->u.num.i = i;
        if (i == 0) {
            n->u.num.is_uint = true;
            n->u.num.u = 0;
        }
    }
    if (n->u.num.is_int) {
        n->u.num.is_float = true;
        n->u.num.f = (double)n->u.num.i;
    } else if (n->u.num.is_uint) {
        n->u.num.is_float = true;
        n->u.num.f = (double)n->u.num.u;
    } else {
        double f;
        if (parse_float(s, len, &f)) {
            bool dotted = false;
            for (size_t k = 0; k < len; k++)
                if (strchr(".eEpP", s[k]))
                    dotted = true;
            if (!dotted) {
                struct nd_buf b;
                nd_buf_init(&b, ND_ERRLEN);
                nd_tmpl__quote(&b, s, len);
                char q[ND_ERRLEN];
                snprintf(q, sizeof q, "%s", nd_buf_cstr(&b));
                nd_buf_deinit(&b);
                p_errorf(p, "integer overflow: %s", q);
            }
            num_set_float(n, f);
        }
    }
    if (!n->u.num.is_int && !n->u.num.is_uint && !n->u.num.is_float) {
        struct nd_buf b;
        nd_buf_init(&b, ND_ERRLEN);
        nd_tmpl__quote(&b, s, len);
        char q[ND_ERRLEN];
        snprintf(q, sizeof q, "%s", nd_buf_cstr(&b));
        nd_buf_deinit(&b);
        p_errorf(p, "illegal number syntax: %s", q);
    }
    return n;
}

static struct tnode *new_string(struct parser *p, const struct item *it)
{
    struct tnode *n = new_node(p, N_STRING, it->pos);
    n->u.str.quoted.p = nd_tmpl__arena_strndup(p->a, it->val.p, it->val.n);
    n->u.str.quoted.n = it->val.n;
    if (!unquote(p->a, it->val, &n->u.str.val))
        p_errorf(p, "invalid syntax");
    return n;
}

static bool has_function(const struct parser *p, const char *name)
{
    return nd_tmpl__find_func(p->set, name) != NULL;
}

static struct tnode *term(struct parser *p)
{
    struct item it = p_next_nonspace(p);
    switch (it.typ) {
    case I_IDENT: {
        char *name = nd_tmpl__arena_strndup(p->a, it.val.p, it.val.n);
        if (!has_function(p, name))
            p_errorf(p, "function \"%s\" not defined", name);
        struct tnode *n = new_node(p, N_IDENT, it.pos);
        n->u.fn.name = name;
        return n;
    }
    case I_DOT:
        return new_node(p, N_DOT, it.pos);
    case I_NIL:
        return new_node(p, N_NIL, it.pos);
    case I_VARIABLE:
        return use_var(p, it.pos, it.val);
    case I_FIELD:
        return new_field(p, it.pos, it.val);
    case I_BOOL: {
        struct tnode *n = new_node(p, N_BOOL, it.pos);
        n->u.b = it.val.n == 4;
        return n;
    }
    case I_CHARCONST:
    case I_COMPLEX:
    case I_NUMBER:
        return new_number(p, &it);
    case I_LPAREN: {
        nest_in(p);
        struct tnode *n = parse_pipeline(p, "parenthesized pipeline", I_RPAREN);
        p->nest--;
        return n;
    }
    case I_STRING:
    case I_RAWSTRING:
        return new_string(p, &it);
    }
    p_backup(p);
    return NULL;
}

static struct tnode *operand(struct parser *p)
{
    struct tnode *node = term(p);
    if (!node)
        return NULL;
    if (p_peek(p).typ == I_FIELD) {
        struct tnode *chain = new_node(p, N_CHAIN, p_peek(p).pos);
        chain->u.id.node = node;
        size_t cap = 4;
        chain->u.id.ident = pa(p->a, cap * sizeof(struct tstr));
        while (p_peek(p).typ == I_FIELD) {
            struct item f = p_next(p);
            if (chain->u.id.nident == cap) {
                struct tstr *v = pa(p->a, cap * 2 * sizeof(*v));
                memcpy(v, chain->u.id.ident, cap * sizeof(*v));
                chain->u.id.ident = v;
                cap *= 2;
            }
            /* a field token may itself hold several ".a.b" segments */
            size_t s = 1;
            for (size_t i = 1; i <= f.val.n; i++) {
                if (i == f.val.n || f.val.p[i] == '.') {
                    if (chain->u.id.nident == cap) {
                        struct tstr *v = pa(p->a, cap * 2 * sizeof(*v));
                        memcpy(v, chain->u.id.ident, cap * sizeof(*v));
                        chain->u.id.ident = v;
                        cap *= 2;
                    }
                    chain->u.id.ident[chain->u.id.nident].p =
                        nd_tmpl__arena_strndup(p->a, f.val.p + s, i - s);
                    chain->u.id.ident[chain->u.id.nident].n = i - s;
                    chain->u.id.nident++;
                    s = i + 1;
                }
            }
        }
        switch (node->kind) {
        case N_FIELD:
        case N_VAR: {
            /* fold the chain into the field or variable */
            size_t tot = node->u.id.nident + chain->u.id.nident;
            struct tstr *v = pa(p->a, tot * sizeof(*v));
            memcpy(v, node->u.id.ident, node->u.id.nident * sizeof(*v));
            memcpy(v + node->u.id.nident, chain->u.id.ident, chain->u.id.nident * sizeof(*v));
            struct tnode *n = new_node(p, node->kind, chain->pos);
            n->u.id.ident = v;
            n->u.id.nident = tot;
            return n;
        }
        case N_BOOL:
        case N_STRING:
        case N_NUMBER:
        case N_NIL:
        case N_DOT: {
            struct nd_buf b;
            nd_buf_init(&b, ND_ERRLEN);
            nd_tmpl__node_string(node, &b);
            char s1[ND_ERRLEN];
            snprintf(s1, sizeof s1, "%s", nd_buf_cstr(&b));
            nd_buf_reset(&b);
            nd_tmpl__quote(&b, s1, strlen(s1));
            snprintf(s1, sizeof s1, "%s", nd_buf_cstr(&b));
            nd_buf_deinit(&b);
            p_errorf(p, "unexpected . after term %s", s1);
        }
        default:
            return chain;
        }
    }
    return node;
}

static struct tnode *command(struct parser *p)
{
    struct tnode *cmd = new_node(p, N_CMD, p_peek_nonspace(p).pos);
    for (;;) {
        p_peek_nonspace(p);
        struct tnode *op = operand(p);
        if (op) {
            push_node(p, &cmd->u.cmd.args, &cmd->u.cmd.nargs, &cmd->u.cmd.cap, op);
        }
        struct item it = p_next(p);
        if (it.typ == I_SPACE)
            continue;
        if (it.typ == I_RDELIM || it.typ == I_RPAREN)
            p_backup(p);
        else if (it.typ != I_PIPE)
            p_unexpected(p, &it, "operand");
        break;
    }
    if (cmd->u.cmd.nargs == 0)
        p_errorf(p, "empty command");
    return cmd;
}

static void check_pipeline(struct parser *p, struct tnode *pipe, const char *context)
{
    if (pipe->u.pipe.ncmds == 0)
        p_errorf(p, "missing value for %s", context);
    for (size_t i = 1; i < pipe->u.pipe.ncmds; i++) {
        switch (pipe->u.pipe.cmds[i]->u.cmd.args[0]->kind) {
        case N_BOOL:
        case N_DOT:
        case N_NIL:
        case N_NUMBER:
        case N_STRING:
            p_errorf(p, "non executable command in pipeline stage %zu", i + 1);
        }
    }
}

static void pipe_add_decl(struct parser *p, struct tnode *pipe, struct tnode *v)
{
    struct tnode **d = pa(p->a, (pipe->u.pipe.ndecl + 1) * sizeof(*d));
    if (pipe->u.pipe.ndecl)
        memcpy(d, pipe->u.pipe.decl, pipe->u.pipe.ndecl * sizeof(*d));
    d[pipe->u.pipe.ndecl++] = v;
    pipe->u.pipe.decl = d;
}

static struct tnode *parse_pipeline(struct parser *p, const char *context, int end)
{
    struct item tok = p_peek_nonspace(p);
    struct tnode *pipe = new_node(p, N_PIPE, tok.pos);
    pipe->line = tok.line;
decls:;
    struct item v = p_peek_nonspace(p);
    if (v.typ == I_VARIABLE) {
        size_t save = p->idx;
        p_next(p);
        struct item after = p_peek(p);
        struct item nx = p_peek_nonspace(p);
        if (nx.typ == I_ASSIGN || nx.typ == I_DECLARE) {
            pipe->u.pipe.is_assign = nx.typ == I_ASSIGN;
            p_next_nonspace(p);
            struct tnode *var = new_var(p, v.pos, v.val);
            pipe_add_decl(p, pipe, var);
            push_var(p, var->u.id.ident[0].p);
        } else if (nx.typ == I_CHAR && nx.val.n == 1 && nx.val.p[0] == ',') {
            p_next_nonspace(p);
            struct tnode *var = new_var(p, v.pos, v.val);
            pipe_add_decl(p, pipe, var);
            push_var(p, var->u.id.ident[0].p);
            if (strcmp(context, "range") == 0 && pipe->u.pipe.ndecl < 2) {
                int t = p_peek_nonspace(p).typ;
                if (t == I_VARIABLE || t == I_RDELIM || t == I_RPAREN)
                    goto decls;
                p_errorf(p, "range can only initialize variables");
            }
            p_errorf(p, "too many declarations in %s", context);
        } else if (after.typ == I_SPACE) {
            p->idx = save;
        } else {
            p->idx = save;
        }
    }
    for (;;) {
        struct item it = p_next_nonspace(p);
        if (it.typ == end) {
            check_pipeline(p, pipe, context);
            return pipe;
        }
        switch (it.typ) {
        case I_BOOL:
        case I_CHARCONST:
        case I_COMPLEX:
        case I_DOT:
        case I_FIELD:
        case I_IDENT:
        case I_NUMBER:
        case I_NIL:
        case I_RAWSTRING:
        case I_STRING:
        case I_VARIABLE:
        case I_LPAREN: {
            p_backup(p);
            struct tnode *c = command(p);
            push_node(p, &pipe->u.pipe.cmds, &pipe->u.pipe.ncmds, &pipe->u.pipe.capcmds, c);
            break;
        }
        default:
            p_unexpected(p, &it, context);
        }
    }
}

static struct tnode *if_control(struct parser *p);

/* Go's parseControl. `kind` is N_IF, N_RANGE or N_WITH. */
static struct tnode *parse_control(struct parser *p, int kind, const char *context)
{
    size_t nvars = p->nvars;
    nest_in(p);
    struct tnode *pipe = parse_pipeline(p, context, I_RDELIM);
    if (kind == N_RANGE)
        p->range_depth++;
    struct tnode *next = NULL;
    struct tnode *list = item_list(p, &next);
    if (kind == N_RANGE)
        p->range_depth--;
    struct tnode *elist = NULL;
    bool else_with = false;
    if (next->kind == N_ELSE) {
        int pk = p_peek(p).typ;
        if (kind == N_IF && pk == I_IF) {
            p_next(p);
            elist = new_node(p, N_LIST, next->pos);
            list_append(p, elist, if_control(p));
        } else if (kind == N_WITH && pk == I_WITH) {
            /* Go 1.23's {{else with}}: a chain of with blocks */
            p_next(p);
            elist = new_node(p, N_LIST, next->pos);
            list_append(p, elist, parse_control(p, N_WITH, "with"));
            else_with = true;
        } else {
            elist = item_list(p, &next);
            if (next->kind != N_END) {
                char s[64];
                snprintf(s, sizeof s, "%s", next->kind == N_ELSE ? "{{else}}" : "{{end}}");
                p_errorf(p, "expected end; found %s", s);
            }
        }
    }
    p->nvars = nvars;
    p->nest--;
    struct tnode *n = new_node(p, kind, pipe->pos);
    n->line = pipe->line;
    n->u.br.pipe = pipe;
    n->u.br.list = list;
    n->u.br.elist = elist;
    n->u.br.else_with = else_with;
    return n;
}

static struct tnode *if_control(struct parser *p)
{
    return parse_control(p, N_IF, "if");
}

static const char *template_name(struct parser *p, const struct item *it, const char *context)
{
    if (it->typ != I_STRING && it->typ != I_RAWSTRING)
        p_unexpected(p, it, context);
    struct tstr s;
    if (!unquote(p->a, it->val, &s))
        p_errorf(p, "invalid syntax");
    return s.p;
}

static void tree_add(struct parser *p, const char *name, struct tnode *root)
{
    for (struct ttree *t = p->trees; t; t = t->next) {
        if (strcmp(t->name, name) == 0) {
            if (nd_tmpl__tree_empty(t->root)) {
                t->root = root;
                return;
            }
            if (!nd_tmpl__tree_empty(root))
                p_errorf(p, "template: multiple definition of template \"%s\"", name);
            return;
        }
    }
    struct ttree *t = pa(p->a, sizeof(*t));
    t->name = name;
    t->root = root;
    t->next = p->trees;
    p->trees = t;
}

static struct tnode *action(struct parser *p)
{
    struct item it = p_next_nonspace(p);
    switch (it.typ) {
    case I_BLOCK: {
        struct item nt = p_next_nonspace(p);
        const char *name = template_name(p, &nt, "block clause");
        struct tnode *pipe = parse_pipeline(p, "block clause", I_RDELIM);
        /* the block's body is a new tree, with its own variables */
        struct varscope scope = new_scope(p);
        int rd = p->range_depth;
        p->range_depth = 0;
        nest_in(p);
        struct tnode *end = NULL;
        struct tnode *root = item_list(p, &end);
        p->nest--;
        if (end->kind != N_END)
            p_errorf(p, "unexpected {{else}} in block clause");
        end_scope(p, scope);
        p->range_depth = rd;
        tree_add(p, name, root);
        struct tnode *n = new_node(p, N_TEMPLATE, nt.pos);
        n->line = nt.line;
        n->u.br.name = name;
        n->u.br.pipe = pipe;
        return n;
    }
    case I_BREAK:
    case I_CONTINUE: {
        const char *w = it.typ == I_BREAK ? "{{break}}" : "{{continue}}";
        struct item t2 = p_next_nonspace(p);
        if (t2.typ != I_RDELIM)
            p_unexpected(p, &t2, w);
        if (p->range_depth == 0)
            p_errorf(p, "%s outside {{range}}", w);
        struct tnode *n = new_node(p, it.typ == I_BREAK ? N_BREAK : N_CONTINUE, it.pos);
        n->line = it.line;
        return n;
    }
    case I_ELSE: {
        struct item pk = p_peek_nonspace(p);
        if (pk.typ == I_IF || pk.typ == I_WITH) {
            struct tnode *n = new_node(p, N_ELSE, pk.pos);
            n->line = pk.line;
            return n;
        }
        struct item t2 = p_expect(p, I_RDELIM, "else");
        struct tnode *n = new_node(p, N_ELSE, t2.pos);
        n->line = t2.line;
        return n;
    }
    case I_END: {
        struct item t2 = p_expect(p, I_RDELIM, "end");
        return new_node(p, N_END, t2.pos);
    }
    case I_IF:
        return if_control(p);
    case I_RANGE:
        return parse_control(p, N_RANGE, "range");
    case I_WITH:
        return parse_control(p, N_WITH, "with");
    case I_TEMPLATE: {
        struct item nt = p_next_nonspace(p);
        const char *name = template_name(p, &nt, "template clause");
        struct tnode *pipe = NULL;
        if (p_next_nonspace(p).typ != I_RDELIM) {
            p_backup(p);
            pipe = parse_pipeline(p, "template clause", I_RDELIM);
        }
        struct tnode *n = new_node(p, N_TEMPLATE, nt.pos);
        n->line = nt.line;
        n->u.br.name = name;
        n->u.br.pipe = pipe;
        return n;
    }
    }
    p_backup(p);
    struct item pk = p_peek(p);
    struct tnode *n = new_node(p, N_ACTION, pk.pos);
    n->line = pk.line;
    n->u.br.pipe = parse_pipeline(p, "command", I_RDELIM);
    return n;
}

static struct tnode *text_or_action(struct parser *p)
{
    struct item it = p_next_nonspace(p);
    switch (it.typ) {
    case I_TEXT: {
        struct tnode *n = new_node(p, N_TEXT, it.pos);
        n->u.text = it.val;
        return n;
    }
    case I_LDELIM: {
        p->action_line = it.line;
        struct tnode *n = action(p);
        p->action_line = 0;
        return n;
    }
    default:
        p_unexpected(p, &it, "input");
    }
}

static struct tnode *item_list(struct parser *p, struct tnode **next)
{
    struct tnode *list = new_node(p, N_LIST, p_peek_nonspace(p).pos);
    while (p_peek_nonspace(p).typ != I_EOF) {
        struct tnode *n = text_or_action(p);
        if (n->kind == N_END || n->kind == N_ELSE) {
            *next = n;
            return list;
        }
        list_append(p, list, n);
    }
    p_errorf(p, "unexpected EOF");
}

static void parse_definition(struct parser *p)
{
    struct item it = p_next_nonspace(p);
    if (it.typ != I_STRING && it.typ != I_RAWSTRING)
        p_unexpected(p, &it, "define clause");
    struct tstr name;
    if (!unquote(p->a, it.val, &name))
        p_errorf(p, "invalid syntax");
    p_expect(p, I_RDELIM, "define clause");
    struct varscope scope = new_scope(p);
    struct tnode *end = NULL;
    struct tnode *root = item_list(p, &end);
    if (end->kind != N_END)
        p_errorf(p, "unexpected {{else}} in define clause");
    end_scope(p, scope);
    tree_add(p, name.p, root);
}

static void parse_top(struct parser *p)
{
    struct tnode *root = new_node(p, N_LIST, p_peek(p).pos);
    while (p_peek(p).typ != I_EOF) {
        if (p_peek(p).typ == I_LDELIM) {
            size_t save = p->idx;
            p_next(p);
            if (p_next_nonspace(p).typ == I_DEFINE) {
                parse_definition(p);
                continue;
            }
            p->idx = save;
        }
        struct tnode *n = text_or_action(p);
        if (n->kind == N_END)
            p_errorf(p, "unexpected {{end}}");
        if (n->kind == N_ELSE)
            p_errorf(p, "unexpected {{else}}");
        list_append(p, root, n);
    }
    tree_add(p, p->src->name, root);
}

int nd_tmpl__parse(const struct nd_template_set *set, struct tarena *arena, const char *name,
                   const char *text, size_t len, struct ttree **out, char *err)
{
    return nd_tmpl__parse_at(set, arena, name, text, len, out, err, NULL, NULL);
}

int nd_tmpl__parse_at(const struct nd_template_set *set, struct tarena *arena, const char *name,
                      const char *text, size_t len, struct ttree **out, char *err, int *line,
                      int *col)
{
    struct parser *p = nd_xcalloc(1, sizeof(*p));
    p->set = set;
    p->err_line = line;
    p->err_col = col;
    if (line)
        *line = *col = 0;
    p->a = arena;
    p->err = err;
    p->hw = 0;
    p->src = pa(arena, sizeof(*p->src));
    p->src->name = nd_tmpl__arena_strndup(arena, name, strlen(name));
    p->src->text = nd_tmpl__arena_strndup(arena, text, len);
    p->src->len = len;
    p->lx.in = p->src->text;
    p->lx.len = len;
    p->lx.line = p->lx.start_line = 1;
    p->lx.arena = arena;
    nd_tmpl__lex(&p->lx);
    int rc = 0;
    push_var(p, "$");
    if (setjmp(p->jb) == 0) {
        parse_top(p);
        *out = p->trees;
    } else {
        rc = -1;
    }
    free(p->lx.items);
    free(p);
    return rc;
}

/* ---- Go's String() of nodes, for error context ---- */

void nd_tmpl__node_string(const struct tnode *n, struct nd_buf *b)
{
    switch (n->kind) {
    case N_TEXT:
        nd_buf_add(b, n->u.text.p, n->u.text.n);
        break;
    case N_LIST:
        for (size_t i = 0; i < n->u.list.n; i++)
            nd_tmpl__node_string(n->u.list.v[i], b);
        break;
    case N_PIPE:
        for (size_t i = 0; i < n->u.pipe.ndecl; i++) {
            if (i)
                nd_buf_adds(b, ", ");
            nd_tmpl__node_string(n->u.pipe.decl[i], b);
        }
        if (n->u.pipe.ndecl)
            nd_buf_adds(b, " := ");
        for (size_t i = 0; i < n->u.pipe.ncmds; i++) {
            if (i)
                nd_buf_adds(b, " | ");
            nd_tmpl__node_string(n->u.pipe.cmds[i], b);
        }
        break;
    case N_ACTION:
        nd_buf_adds(b, "{{");
        nd_tmpl__node_string(n->u.br.pipe, b);
        nd_buf_adds(b, "}}");
        break;
    case N_CMD:
        for (size_t i = 0; i < n->u.cmd.nargs; i++) {
            if (i)
                nd_buf_addc(b, ' ');
            const struct tnode *a = n->u.cmd.args[i];
            if (a->kind == N_PIPE) {
                nd_buf_addc(b, '(');
                nd_tmpl__node_string(a, b);
                nd_buf_addc(b, ')');
            } else {
                nd_tmpl__node_string(a, b);
            }
        }
        break;
    case N_IDENT:
        nd_buf_adds(b, n->u.fn.name);
        break;
    case N_VAR:
        for (size_t i = 0; i < n->u.id.nident; i++) {
            if (i)
                nd_buf_addc(b, '.');
            nd_buf_add(b, n->u.id.ident[i].p, n->u.id.ident[i].n);
        }
        break;
    case N_FIELD:
        for (size_t i = 0; i < n->u.id.nident; i++) {
            nd_buf_addc(b, '.');
            nd_buf_add(b, n->u.id.ident[i].p, n->u.id.ident[i].n);
        }
        break;
    case N_CHAIN:
        if (n->u.id.node->kind == N_PIPE) {
            nd_buf_addc(b, '(');
            nd_tmpl__node_string(n->u.id.node, b);
            nd_buf_addc(b, ')');
        } else {
            nd_tmpl__node_string(n->u.id.node, b);
        }
        for (size_t i = 0; i < n->u.id.nident; i++) {
            nd_buf_addc(b, '.');
            nd_buf_add(b, n->u.id.ident[i].p, n->u.id.ident[i].n);
        }
        break;
    case N_DOT:
        nd_buf_addc(b, '.');
        break;
    case N_NIL:
        nd_buf_adds(b, "nil");
        break;
    case N_BOOL:
        nd_buf_adds(b, n->u.b ? "true" : "false");
        break;
    case N_NUMBER:
        nd_buf_add(b, n->u.num.text.p, n->u.num.text.n);
        break;
    case N_STRING:
        nd_buf_add(b, n->u.str.quoted.p, n->u.str.quoted.n);
        break;
    case N_IF:
    case N_RANGE:
    case N_WITH:
        nd_buf_adds(b, n->kind == N_IF ? "{{if " : n->kind == N_RANGE ? "{{range " : "{{with ");
        nd_tmpl__node_string(n->u.br.pipe, b);
        nd_buf_adds(b, "}}");
        nd_tmpl__node_string(n->u.br.list, b);
        if (n->u.br.elist) {
            nd_buf_adds(b, "{{else}}");
            nd_tmpl__node_string(n->u.br.elist, b);
        }
        nd_buf_adds(b, "{{end}}");
        break;
    case N_TEMPLATE:
        nd_buf_adds(b, "{{template ");
        nd_tmpl__quote(b, n->u.br.name, strlen(n->u.br.name));
        if (n->u.br.pipe) {
            nd_buf_addc(b, ' ');
            nd_tmpl__node_string(n->u.br.pipe, b);
        }
        nd_buf_adds(b, "}}");
        break;
    case N_BREAK:
        nd_buf_adds(b, "{{break}}");
        break;
    case N_CONTINUE:
        nd_buf_adds(b, "{{continue}}");
        break;
    case N_END:
        nd_buf_adds(b, "{{end}}");
        break;
    case N_ELSE:
        nd_buf_adds(b, "{{else}}");
        break;
    }
}

bool nd_tmpl__tree_empty(const struct tnode *n)
{
    if (!n)
        return true;
    switch (n->kind) {
    case N_LIST:
        for (size_t i = 0; i < n->u.list.n; i++)
            if (!nd_tmpl__tree_empty(n->u.list.v[i]))
                return false;
        return true;
    case N_TEXT:
        for (size_t i = 0; i < n->u.text.n; i++) {
            unsigned char c = (unsigned char)n->u.text.p[i];
            if (!(c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'))
                return false;
        }
        return true;
    case N_COMMENT:
        return true;
    default:
        return false;
    }
}
