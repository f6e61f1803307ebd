/* value.c - the value model: Go type names, truth, and fmt's printing
 * (Sprint, Sprintln, Sprintf with Go's verbs, flags and error forms).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/unicode.h"
#include "tmpl_int.h"

const struct ttype nd_tmpl__type_any = {.name = "interface {}", .kind = TK_NIL};
const struct ttype nd_tmpl__type_rvalue = {.name = "reflect.Value", .kind = TK_NIL};
const struct ttype nd_tmpl__type_string = {.name = "string", .kind = TK_STRING};
const struct ttype nd_tmpl__type_int = {.name = "int", .kind = TK_INT};
const struct ttype nd_tmpl__type_uint8 = {.name = "uint8", .kind = TK_INT};
const struct ttype nd_tmpl__type_float = {.name = "float64", .kind = TK_FLOAT};
const struct ttype nd_tmpl__type_bool = {.name = "bool", .kind = TK_BOOL};
const struct ttype nd_tmpl__type_complex = {.name = "complex128", .kind = TK_COMPLEX};
const struct ttype nd_tmpl__type_strslice = {
    .name = "[]string", .kind = TK_LIST, .elem = &nd_tmpl__type_string};
const struct ttype nd_tmpl__type_anyslice = {
    .name = "[]interface {}", .kind = TK_LIST, .elem = &nd_tmpl__type_any};

const char *nd_tmpl__val_type_name(const struct tv *v)
{
    if (v->t)
        return v->t->name;
    return v->k == TK_NIL ? "<nil>" : "invalid";
}

bool nd_tmpl__val_truth(const struct tv *v, bool *ok)
{
    *ok = true;
    switch (v->k) {
    case TK_INVALID:
    case TK_NIL:
        return false;
    case TK_BOOL:
        return v->u.b;
    case TK_INT:
        return v->u.i != 0;
    case TK_FLOAT:
        return v->u.f != 0;
    case TK_STRING:
        return v->u.s.n > 0;
    case TK_LIST:
        return v->u.l && v->u.l->n > 0;
    case TK_MAP:
        return v->u.m && v->u.m->n > 0;
    case TK_OBJ:
        return v->u.o != NULL || !v->t->pointer;
    case TK_TIME:
        return true; /* a struct */
    case TK_FUNC:
        return v->u.fn != NULL;
    case TK_COMPLEX:
        return v->u.c.re != 0 || v->u.c.im != 0;
    }
    *ok = false;
    return false;
}

void nd_tmpl__exec_add(struct texec *x, struct nd_buf *b, const char *p, size_t n)
{
    if (nd_buf_add(b, p, n) != ND_OK)
        nd_tmpl__exec_limit_error(x, b->limit);
}

void nd_tmpl__err_from_buf(char *err, const struct nd_buf *b)
{
    size_t n = b->len < ND_ERRLEN - 1 ? b->len : ND_ERRLEN - 1;
    if (n)
        memcpy(err, b->data, n);
    err[n] = '\0';
}

/* ---- the printer's output ---- */

struct pfmt;

/* UTF-8 of r into u (U+FFFD for what is not a rune); returns the length. */
static size_t utf8_put(char *u, int32_t r)
{
    if (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
        r = 0xFFFD;
    if (r < 0x80) {
        u[0] = (char)r;
        return 1;
    }
    if (r < 0x800) {
        u[0] = (char)(0xC0 | (r >> 6));
        u[1] = (char)(0x80 | (r & 0x3F));
        return 2;
    }
    if (r < 0x10000) {
        u[0] = (char)(0xE0 | (r >> 12));
        u[1] = (char)(0x80 | ((r >> 6) & 0x3F));
        u[2] = (char)(0x80 | (r & 0x3F));
        return 3;
    }
    u[0] = (char)(0xF0 | (r >> 18));
    u[1] = (char)(0x80 | ((r >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((r >> 6) & 0x3F));
    u[3] = (char)(0x80 | (r & 0x3F));
    return 4;
}

static void tout_rune(struct tout *o, int32_t r)
{
    char u[4];
    tout_add(o, u, utf8_put(u, r));
}

/* A piece formatted apart before fmt.pad copies it into o: same ceiling as
 * o, and its failure becomes o's (tmp_pad). */
static void tmp_init(struct tout *t, struct nd_buf *tb, const struct tout *o)
{
    nd_buf_init(tb, o->b->limit);
    t->b = tb;
    t->rc = o->rc;
}

static void pad(struct tout *o, const struct pfmt *f, const char *s, size_t n);

/* Pads t's text into o, then frees t. */
static void tmp_pad(struct tout *o, const struct pfmt *f, struct tout *t)
{
    if (t->rc && !o->rc)
        o->rc = t->rc;
    pad(o, f, nd_buf_cstr(t->b), t->b->len);
    nd_buf_deinit(t->b);
}

/* ---- strconv.Quote ---- */

/* strconv.IsPrint, from Go's tables (fn_unicode.c). */
bool nd_tmpl__is_print(int32_t r)
{
    return r >= 0 && nd_unicode_is_print((uint32_t)r);
}

/* strconv's appendQuotedWith: ascii (QuoteToASCII, fmt's %+q) escapes
 * every rune that is not printable ASCII, as \u or \U like Go. */
static void quote_with(struct tout *o, const char *s, size_t n, char q, bool ascii)
{
    static const char hex[] = "0123456789abcdef";
    tout_addc(o, q);
    size_t i = 0;
    while (i < n) {
        int w;
        int32_t r = nd_tmpl__utf8_decode(s + i, n - i, &w);
        if (r == 0xFFFD && w == 1 && !((unsigned char)s[i] == 0xEF)) {
            char e[5] = {'\\', 'x', hex[(unsigned char)s[i] >> 4], hex[(unsigned char)s[i] & 15]};
            tout_add(o, e, 4);
            i++;
            continue;
        }
        if (r == 0xFFFD && w == 1) {
            /* a stray 0xEF byte that did not form a valid sequence */
            char e[5] = {'\\', 'x', 'e', 'f'};
            tout_add(o, e, 4);
            i++;
            continue;
        }
        i += (size_t)w;
        if (r == q || r == '\\') {
            tout_addc(o, '\\');
            tout_addc(o, (char)r);
            continue;
        }
        if (ascii ? r < 0x80 && nd_tmpl__is_print(r) : nd_tmpl__is_print(r)) {
            tout_rune(o, r);
            continue;
        }
        switch (r) {
        case 7:
            tout_adds(o, "\\a");
            break;
        case 8:
            tout_adds(o, "\\b");
            break;
        case 12:
            tout_adds(o, "\\f");
            break;
        case 10:
            tout_adds(o, "\\n");
            break;
        case 13:
            tout_adds(o, "\\r");
            break;
        case 9:
            tout_adds(o, "\\t");
            break;
        case 11:
            tout_adds(o, "\\v");
            break;
        default:
            if (r < ' ' || r == 0x7f)
                tout_printf(o, "\\x%c%c", hex[r >> 4], hex[r & 15]);
            else if (r < 0x10000)
                tout_printf(o, "\\u%04" PRIx32, (uint32_t)r);
            else
                tout_printf(o, "\\U%08" PRIx32, (uint32_t)r);
        }
    }
    tout_addc(o, q);
}

int nd_tmpl__quote(struct nd_buf *b, const char *s, size_t n)
{
    struct tout o = {b, ND_OK};
    quote_with(&o, s, n, '"', false);
    return o.rc;
}

/* ---- floats ---- */

/* The most significant digits a double's exact decimal expansion has:
 * 2^53 * 5^1074 (the smallest subnormal) has 767. */
#define FLOAT_MAX_DIGITS 800
/* Base-10^9 limbs for that expansion. */
#define FLOAT_LIMBS ((FLOAT_MAX_DIGITS + 8) / 9 + 1)

/* limb[0..*n) *= m, for m < 2^31 (a limb times m plus carry fits 64 bits). */
static void big_mul(uint32_t *limb, int *n, uint32_t m)
{
    uint64_t carry = 0;
    for (int i = 0; i < *n; i++) {
        uint64_t t = (uint64_t)limb[i] * m + carry;
        limb[i] = (uint32_t)(t % 1000000000u);
        carry = t / 1000000000u;
    }
    while (carry) {
        limb[(*n)++] = (uint32_t)(carry % 1000000000u);
        carry /= 1000000000u;
    }
}

/* The exact decimal expansion of a finite f != 0: every digit of |f|
 * (without leading or trailing zeros) and the decimal point position. A
 * double is m * 2^e with integers m and e; for e < 0 that is
 * m * 5^-e / 10^-e, so both cases are an integer times a power of ten, and
 * the integer's decimal digits come out of base-10^9 limbs directly. */
static void float_exact(double f, char *d, int *nd, int *dp)
{
    uint64_t bits;
    memcpy(&bits, &f, sizeof bits);
    int be = (int)((bits >> 52) & 0x7ff);
    uint64_t m = bits & ((UINT64_C(1) << 52) - 1);
    int e = -1074;
    if (be) {
        m |= UINT64_C(1) << 52;
        e = be - 1075;
    }
    uint32_t limb[FLOAT_LIMBS];
    int n = 0;
    while (m) {
        limb[n++] = (uint32_t)(m % 1000000000u);
        m /= 1000000000u;
    }
    int e10 = 0;
    for (int k = e; k > 0; k -= 30)
        big_mul(limb, &n, UINT32_C(1) << (k < 30 ? k : 30));
    if (e < 0) {
        e10 = e;
        for (int k = -e; k > 0; k -= 13) {
            uint32_t p = 1;
            for (int j = 0; j < (k < 13 ? k : 13); j++)
                p *= 5; /* 5^13 < 2^31 */
            big_mul(limb, &n, p);
        }
    }
    int k = snprintf(d, 10, "%" PRIu32, limb[n - 1]);
    for (int i = n - 2; i >= 0; i--)
        k += snprintf(d + k, 10, "%09" PRIu32, limb[i]);
    *dp = k + e10;
    while (k > 0 && d[k - 1] == '0')
        k--;
    *nd = k;
}

/* strconv's decimal.Round: keeps the first n digits, rounding half to even
 * on an exact tie (the digits are exact, so "5" and nothing after it is a
 * tie); trailing zeros are dropped. */
static void round_digits(char *d, int *nd, int *dp, int n)
{
    if (n < 0 || n >= *nd)
        return;
    bool up = d[n] >= '5';
    if (d[n] == '5' && n + 1 == *nd)
        up = n > 0 && (d[n - 1] - '0') % 2 == 1;
    if (!up) {
        *nd = n;
        while (*nd > 0 && d[*nd - 1] == '0')
            (*nd)--;
        if (*nd == 0)
            *dp = 0;
        return;
    }
    int i = n - 1;
    while (i >= 0 && d[i] == '9')
        i--;
    if (i < 0) {
        d[0] = '1';
        *nd = 1;
        (*dp)++;
        return;
    }
    d[i]++;
    *nd = i + 1;
}

/* Decimal digits of |f|: the shortest that read back as f (prec < 0), else
 * the exact expansion rounded to prec significant digits. dp is the decimal
 * point position; zero has no digits. */
static void float_digits(double f, int prec, char *d, int *nd, int *dp)
{
    f = fabs(f);
    *nd = 0;
    *dp = 0;
    if (f == 0)
        return;
    if (prec >= 0) {
        float_exact(f, d, nd, dp);
        round_digits(d, nd, dp, prec);
        return;
    }
    char tmp[64];
    for (int p = 1; p <= 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p - 1, f);
        if (strtod(tmp, NULL) == f)
            break;
    }
    int k = 0;
    char *p = tmp;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            d[k++] = *p;
    int e = atoi(p + 1);
    while (k > 1 && d[k - 1] == '0')
        k--;
    *nd = k;
    *dp = e + 1;
}

static void fmt_e(struct tout *o, const char *d, int nd, int dp, int prec, char ech)
{
    tout_addc(o, nd > 0 ? d[0] : '0');
    if (prec > 0) {
        tout_addc(o, '.');
        for (int i = 1; i <= prec; i++)
            tout_addc(o, i < nd ? d[i] : '0');
    }
    int exp = nd == 0 ? 0 : dp - 1;
    tout_addc(o, ech);
    tout_addc(o, exp < 0 ? '-' : '+');
    if (exp < 0)
        exp = -exp;
    if (exp < 10)
        tout_printf(o, "0%d", exp);
    else
        tout_printf(o, "%d", exp);
}

static void fmt_f(struct tout *o, const char *d, int nd, int dp, int prec)
{
    if (dp > 0) {
        for (int i = 0; i < dp; i++)
            tout_addc(o, i < nd ? d[i] : '0');
    } else {
        tout_addc(o, '0');
    }
    if (prec > 0) {
        tout_addc(o, '.');
        for (int i = 0; i < prec; i++) {
            int j = dp + i;
            tout_addc(o, j >= 0 && j < nd ? d[j] : '0');
        }
    }
}

/* strconv.FormatFloat(f, verb, prec, 64) for verbs g G e E f x X: shortest
 * digits when prec < 0, else exact digits for any precision. */
static void fmt_float_digits(struct tout *o, double f, char verb, int prec)
{
    if (isnan(f)) {
        tout_adds(o, "NaN");
        return;
    }
    if (isinf(f)) {
        tout_adds(o, f > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (signbit(f))
        tout_addc(o, '-');
    char d[FLOAT_MAX_DIGITS];
    int nd, dp;
    bool shortest = prec < 0;
    if (verb == 'f' || verb == 'F') {
        if (shortest) {
            float_digits(f, -1, d, &nd, &dp);
            prec = nd - dp > 0 ? nd - dp : 0;
        } else if (f != 0) {
            float_exact(fabs(f), d, &nd, &dp);
            round_digits(d, &nd, &dp, dp + prec);
        } else {
            nd = dp = 0;
        }
        fmt_f(o, d, nd, dp, prec);
        return;
    }
    if (verb == 'e' || verb == 'E') {
        float_digits(f, shortest ? -1 : prec + 1, d, &nd, &dp);
        fmt_e(o, d, nd, dp, shortest ? (nd > 0 ? nd - 1 : 0) : prec, verb);
        return;
    }
    if (verb == 'x' || verb == 'X') {
        /* hex mantissa and binary exponent; Go writes at least two exponent digits */
        struct nd_buf tb;
        struct tout t;
        tmp_init(&t, &tb, o);
        if (shortest)
            tout_printf(&t, verb == 'x' ? "%a" : "%A", fabs(f));
        else
            tout_printf(&t, verb == 'x' ? "%.*a" : "%.*A", prec, fabs(f));
        o->rc = t.rc;
        const char *tmp = nd_buf_cstr(&tb);
        const char *pp = strchr(tmp, verb == 'x' ? 'p' : 'P');
        if (pp && (pp[1] == '+' || pp[1] == '-') && pp[2] && !pp[3]) {
            tout_add(o, tmp, (size_t)(pp - tmp) + 2);
            tout_addc(o, '0');
            tout_adds(o, pp + 2);
        } else {
            tout_adds(o, tmp);
        }
        nd_buf_deinit(&tb);
        return;
    }
    /* g / G */
    if (!shortest && prec == 0)
        prec = 1;
    float_digits(f, shortest ? -1 : prec, d, &nd, &dp);
    if (nd == 0) {
        /* zero */
        tout_addc(o, '0');
        return;
    }
    if (shortest)
        prec = nd;
    int eprec = prec;
    if (eprec > nd && nd >= dp)
        eprec = nd;
    if (shortest)
        eprec = 6;
    int exp = dp - 1;
    if (exp < -4 || exp >= eprec) {
        if (prec > nd)
            prec = nd;
        fmt_e(o, d, nd, dp, prec - 1, verb == 'G' ? 'E' : 'e');
        return;
    }
    if (prec > dp)
        prec = nd;
    fmt_f(o, d, nd, dp, prec - dp > 0 ? prec - dp : 0);
}

/* ---- fmt ---- */

struct pfmt {
    bool minus, plus, sharp, space, zero;
    bool plus_v; /* %+v: struct fields with names */
    bool wid_present, prec_present;
    int wid, prec;
};

static size_t rune_count(const char *s, size_t n)
{
    size_t c = 0, i = 0;
    while (i < n) {
        int w;
        nd_tmpl__utf8_decode(s + i, n - i, &w);
        i += (size_t)w;
        c++;
    }
    return c;
}

/* fmt.pad: width padding of an already formatted piece. */
static void pad(struct tout *o, const struct pfmt *f, const char *s, size_t n)
{
    if (!f->wid_present || f->wid == 0) {
        tout_add(o, s, n);
        return;
    }
    size_t rc = rune_count(s, n);
    size_t w = (size_t)f->wid;
    size_t padn = w > rc ? w - rc : 0;
    char pc = f->zero && !f->minus ? '0' : ' ';
    if (!f->minus)
        for (size_t i = 0; i < padn; i++)
            tout_addc(o, pc);
    tout_add(o, s, n);
    if (f->minus)
        for (size_t i = 0; i < padn; i++)
            tout_addc(o, ' ');
}

/* strconv.CanBackquote: valid UTF-8 without a backquote, a BOM or a
 * control character other than tab. */
static bool can_backquote(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        int w;
        int32_t r = nd_tmpl__utf8_decode(s + i, n - i, &w);
        i += (size_t)w;
        if (w > 1) {
            if (r == 0xFEFF)
                return false;
            continue;
        }
        if (r == 0xFFFD || (r < ' ' && r != '\t') || r == '`' || r == 0x7f)
            return false;
    }
    return true;
}

static void fmt_string(struct tout *o, const struct pfmt *f, const char *s, size_t n, char verb)
{
    struct nd_buf tb;
    struct tout t;
    tmp_init(&t, &tb, o);
    if (f->prec_present) {
        /* truncate to prec runes */
        size_t i = 0;
        int r = 0;
        while (i < n && r < f->prec) {
            int w;
            nd_tmpl__utf8_decode(s + i, n - i, &w);
            i += (size_t)w;
            r++;
        }
        n = i;
    }
    switch (verb) {
    case 'x':
    case 'X': {
        const char *hx = verb == 'x' ? "0123456789abcdef" : "0123456789ABCDEF";
        for (size_t i = 0; i < n; i++) {
            if (f->space && i > 0)
                tout_addc(&t, ' ');
            if (f->sharp && (f->space || i == 0)) {
                tout_addc(&t, '0');
                tout_addc(&t, verb);
            }
            tout_addc(&t, hx[(unsigned char)s[i] >> 4]);
            tout_addc(&t, hx[(unsigned char)s[i] & 15]);
        }
        break;
    }
    case 'q': {
        if (f->sharp && can_backquote(s, n)) {
            tout_addc(&t, '`');
            tout_add(&t, s, n);
            tout_addc(&t, '`');
        } else {
            quote_with(&t, s, n, '"', f->plus);
        }
        break;
    }
    default:
        tout_add(&t, s, n);
    }
    tmp_pad(o, f, &t);
}

static void fmt_integer(struct tout *o, const struct pfmt *fo, int64_t v, int base, char verb)
{
    struct pfmt f = *fo;
    bool neg = v < 0;
    uint64_t u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char digs[80];
    int k = 0;
    const char *hx = verb == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
    if (u == 0) {
        digs[k++] = '0';
    }
    while (u) {
        digs[k++] = hx[u % (uint64_t)base];
        u /= (uint64_t)base;
    }
    int prec = 0;
    if (f.prec_present) {
        prec = f.prec;
        if (prec == 0 && v == 0) {
            bool z = f.zero;
            f.zero = false;
            pad(o, &f, "", 0);
            (void)z;
            return;
        }
    } else if (f.zero && f.wid_present && !f.minus) {
        prec = f.wid;
        if (neg || f.plus || f.space)
            prec--;
    }
    struct nd_buf tb;
    struct tout t;
    tmp_init(&t, &tb, o);
    if (neg)
        tout_addc(&t, '-');
    else if (f.plus)
        tout_addc(&t, '+');
    else if (f.space)
        tout_addc(&t, ' ');
    if (f.sharp) {
        if (base == 16) {
            tout_addc(&t, '0');
            tout_addc(&t, verb == 'X' ? 'X' : 'x');
        } else if (base == 8 && digs[k - 1] != '0') {
            tout_addc(&t, '0');
        } else if (base == 2) {
            tout_adds(&t, "0b");
        }
    }
    if (verb == 'O')
        tout_adds(&t, "0o");
    for (int i = k; i < prec; i++)
        tout_addc(&t, '0');
    for (int i = k - 1; i >= 0; i--)
        tout_addc(&t, digs[i]);
    f.zero = false;
    tmp_pad(o, &f, &t);
}

/* fmt's '#' flag on a formatted float (without its sign): a decimal point
 * always, and for %g and %x the trailing zeros up to the precision (6 when
 * none is given). */
static void sharp_float(struct tout *o, const char *num, size_t n, char verb, int prec)
{
    int digits = 0;
    if (verb == 'g' || verb == 'G' || verb == 'x' || verb == 'X')
        digits = prec < 0 ? 6 : prec;
    size_t tail = n; /* where the exponent starts */
    bool point = false, nonzero = false;
    for (size_t i = 0; i < n && tail == n; i++) {
        char c = num[i];
        if (c == '.') {
            point = true;
        } else if (c == 'p' || c == 'P' || ((c == 'e' || c == 'E') && verb != 'x' && verb != 'X')) {
            tail = i;
        } else {
            /* count the significant digits, from the first non-zero one */
            nonzero = nonzero || c != '0';
            if (nonzero)
                digits--;
        }
    }
    tout_add(o, num, tail);
    if (!point) {
        if (tail == 1 && num[0] == '0')
            digits--; /* a lone leading 0 counts once */
        tout_addc(o, '.');
    }
    for (; digits > 0; digits--)
        tout_addc(o, '0');
    tout_add(o, num + tail, n - tail);
}

static void fmt_float(struct tout *o, const struct pfmt *f, double v, char verb, int prec)
{
    if (f->prec_present)
        prec = f->prec;
    struct nd_buf tb, shb;
    struct tout t, sh;
    tmp_init(&t, &tb, o);
    tmp_init(&sh, &shb, o);
    fmt_float_digits(&t, v, verb, prec);
    const char *num = nd_buf_cstr(&tb);
    size_t n = tb.len;
    bool special = strstr(num, "Inf") || strstr(num, "NaN");
    char sign = 0;
    if (num[0] == '-' || num[0] == '+') {
        sign = num[0];
        num++;
        n--;
    } else if (f->plus) {
        sign = '+';
    } else if (f->space) {
        sign = ' ';
    }
    if (special && num[0] == 'N' && !f->plus && !f->space)
        sign = 0;
    if (sign == '+' && !f->plus && special)
        sign = '+'; /* Go keeps "+Inf" */
    if (f->sharp && !special) {
        sharp_float(&sh, num, n, verb, prec);
        num = nd_buf_cstr(&shb);
        n = shb.len;
    }
    if (t.rc || sh.rc)
        o->rc = t.rc ? t.rc : sh.rc;
    if (f->zero && !special && f->wid_present && !f->minus) {
        /* the sign goes before the zeros */
        size_t len = n + (sign ? 1 : 0);
        if (sign)
            tout_addc(o, sign);
        for (size_t i = len; i < (size_t)f->wid; i++)
            tout_addc(o, '0');
        tout_add(o, num, n);
    } else {
        struct nd_buf pb;
        struct tout p;
        tmp_init(&p, &pb, o);
        if (sign)
            tout_addc(&p, sign);
        tout_add(&p, num, n);
        struct pfmt g = *f;
        g.zero = false;
        tmp_pad(o, &g, &p);
    }
    nd_buf_deinit(&shb);
    nd_buf_deinit(&tb);
}

static void print_value(struct texec *x, struct tout *o, const struct pfmt *f, const struct tv *v,
                        char verb, int depth);

static void bad_verb(struct texec *x, struct tout *o, const struct pfmt *f, const struct tv *v,
                     char verb)
{
    tout_adds(o, "%!");
    tout_addc(o, verb);
    tout_addc(o, '(');
    if (v->k == TK_INVALID || v->k == TK_NIL) {
        tout_adds(o, "<nil>");
    } else {
        tout_adds(o, nd_tmpl__val_type_name(v));
        tout_addc(o, '=');
        print_value(x, o, f, v, 'v', 0);
    }
    tout_addc(o, ')');
}

static void fmt_char(struct tout *o, const struct pfmt *f, int64_t c, char verb)
{
    struct nd_buf tb;
    struct tout t;
    tmp_init(&t, &tb, o);
    int32_t r = (c < 0 || c > 0x10FFFF) ? 0xFFFD : (int32_t)c;
    /* fmt's fmtC / fmtQc: a surrogate is not a rune either */
    int32_t rc = r >= 0xD800 && r <= 0xDFFF ? 0xFFFD : r;
    if (verb == 'c') {
        tout_rune(&t, rc);
    } else if (verb == 'q') {
        char u[4];
        quote_with(&t, u, utf8_put(u, rc), '\'', f->plus);
    } else { /* U */
        tout_printf(&t, "U+%04" PRIX32, (uint32_t)r);
        if (f->sharp && nd_tmpl__is_print(r)) {
            tout_adds(&t, " '");
            tout_rune(&t, r);
            tout_addc(&t, '\'');
        }
    }
    tmp_pad(o, f, &t);
}

static void print_value(struct texec *x, struct tout *o, const struct pfmt *f, const struct tv *v,
                        char verb, int depth)
{
    if (verb == 'T') {
        struct pfmt g = *f;
        const char *tn = v->k == TK_INVALID || v->k == TK_NIL ? "<nil>" : nd_tmpl__val_type_name(v);
        fmt_string(o, &g, tn, strlen(tn), 's');
        return;
    }
    switch (v->k) {
    case TK_INVALID:
    case TK_NIL:
        if (depth == 0 || v->k == TK_NIL) {
            if (verb == 'v')
                pad(o, f, "<nil>", 5);
            else
                bad_verb(x, o, f, v, verb);
        } else {
            pad(o, f, "<invalid reflect.Value>", 23);
        }
        return;
    case TK_BOOL:
        if (verb == 'v' || verb == 't')
            pad(o, f, v->u.b ? "true" : "false", v->u.b ? 4 : 5);
        else
            bad_verb(x, o, f, v, verb);
        return;
    case TK_INT:
        switch (verb) {
        case 'v':
        case 'd':
            fmt_integer(o, f, v->u.i, 10, verb);
            return;
        case 'b':
            fmt_integer(o, f, v->u.i, 2, verb);
            return;
        case 'o':
        case 'O':
            fmt_integer(o, f, v->u.i, 8, verb);
            return;
        case 'x':
        case 'X':
            fmt_integer(o, f, v->u.i, 16, verb);
            return;
        case 'c':
        case 'q':
        case 'U':
            fmt_char(o, f, v->u.i, verb);
            return;
        }
        bad_verb(x, o, f, v, verb);
        return;
    case TK_FLOAT:
        switch (verb) {
        case 'v': {
            struct pfmt g = *f;
            g.sharp = false; /* %#v is Go syntax, which for a float is %v */
            fmt_float(o, &g, v->u.f, 'g', -1);
            return;
        }
        case 'g':
        case 'G':
        case 'x':
        case 'X':
            fmt_float(o, f, v->u.f, verb, -1);
            return;
        case 'f':
        case 'e':
        case 'E':
            fmt_float(o, f, v->u.f, verb, 6);
            return;
        case 'F':
            fmt_float(o, f, v->u.f, 'f', 6);
            return;
        }
        bad_verb(x, o, f, v, verb);
        return;
    case TK_STRING:
        switch (verb) {
        case 'v':
            if (f->sharp) {
                fmt_string(o, f, v->u.s.p, v->u.s.n, 'q');
                return;
            }
            /* fallthrough */
        case 's':
        case 'x':
        case 'X':
        case 'q':
            fmt_string(o, f, v->u.s.p, v->u.s.n, verb == 'v' ? 's' : verb);
            return;
        }
        bad_verb(x, o, f, v, verb);
        return;
    case TK_TIME:
        if (verb == 'v' || verb == 's' || verb == 'x' || verb == 'X' || verb == 'q') {
            /* a time's String() has a fixed shape, far below this ceiling */
            struct nd_buf t;
            nd_buf_init(&t, 256);
            (void)nd_tmpl__val_time_string(&t, v); /* cannot reach 256 bytes */
            fmt_string(o, f, nd_buf_cstr(&t), t.len, verb == 'v' ? 's' : verb);
            nd_buf_deinit(&t);
            return;
        }
        bad_verb(x, o, f, v, verb);
        return;
    case TK_LIST:
        if (depth > 0 || true) {
            tout_addc(o, '[');
            size_t n = v->u.l ? v->u.l->n : 0;
            for (size_t i = 0; i < n; i++) {
                if (i)
                    tout_addc(o, ' ');
                print_value(x, o, f, &v->u.l->v[i], verb, depth + 1);
            }
            tout_addc(o, ']');
        }
        return;
    case TK_MAP: {
        tout_adds(o, "map[");
        size_t n = v->u.m ? v->u.m->n : 0;
        for (size_t i = 0; i < n; i++) {
            if (i)
                tout_addc(o, ' ');
            struct tv k = nd_tmpl__val_str(v->u.m->k[i].p, v->u.m->k[i].n);
            struct tv e = nd_tmpl__val_str(v->u.m->v[i].p, v->u.m->v[i].n);
            print_value(x, o, f, &k, verb, depth + 1);
            tout_addc(o, ':');
            print_value(x, o, f, &e, verb, depth + 1);
        }
        tout_addc(o, ']');
        return;
    }
    case TK_OBJ:
        if (v->t->pointer && v->u.o == NULL) {
            if (verb == 'v' || verb == 's')
                pad(o, f, "<nil>", 5);
            else
                bad_verb(x, o, f, v, verb);
            return;
        }
        if (v->t->pointer && depth > 0) {
            /* Go prints the address of a nested pointer */
            tout_printf(o, "%p", v->u.o);
            return;
        }
        if (v->t->pointer)
            tout_addc(o, '&');
        tout_addc(o, '{');
        for (size_t i = 0; i < v->t->nfields; i++) {
            if (i)
                tout_addc(o, ' ');
            if (f->plus_v) {
                tout_adds(o, v->t->fields[i].name);
                tout_addc(o, ':');
            }
            struct tv fv = v->t->fields[i].get(x, v->u.o);
            print_value(x, o, f, &fv, verb, depth + 1);
        }
        tout_addc(o, '}');
        return;
    case TK_FUNC:
        tout_printf(o, "%p", (const void *)v->u.fn);
        return;
    case TK_COMPLEX:
        switch (verb) {
        case 'v':
        case 'g':
        case 'G':
        case 'f':
        case 'F':
        case 'e':
        case 'E': {
            char fv = verb == 'v' ? 'g' : verb == 'F' ? 'f' : verb;
            int prec = fv == 'g' || fv == 'G' ? -1 : 6;
            struct pfmt g = *f;
            tout_addc(o, '(');
            fmt_float(o, &g, v->u.c.re, fv, prec);
            g.plus = true;
            fmt_float(o, &g, v->u.c.im, fv, prec);
            tout_adds(o, "i)");
            return;
        }
        }
        bad_verb(x, o, f, v, verb);
        return;
    }
}

static void print_action(struct texec *x, struct tout *o, const struct tv *v)
{
    struct pfmt f = {0};
    if (v->k == TK_OBJ && v->t->pointer && v->u.o) {
        tout_addc(o, '{');
        for (size_t i = 0; i < v->t->nfields; i++) {
            if (i)
                tout_addc(o, ' ');
            struct tv fv = v->t->fields[i].get(x, v->u.o);
            print_value(x, o, &f, &fv, 'v', 1);
        }
        tout_addc(o, '}');
        return;
    }
    print_value(x, o, &f, v, 'v', 0);
}

static void print_one(struct texec *x, struct tout *o, const struct tv *v)
{
    struct pfmt f = {0};
    print_value(x, o, &f, v, 'v', 0);
}

static bool is_string_kind(const struct tv *v)
{
    return v->k == TK_STRING;
}

static void sprint(struct texec *x, struct tout *o, const struct tv *args, int n)
{
    for (int i = 0; i < n; i++) {
        if (i > 0 && !is_string_kind(&args[i]) && !is_string_kind(&args[i - 1]))
            tout_addc(o, ' ');
        print_one(x, o, &args[i]);
    }
}

static void sprintln(struct texec *x, struct tout *o, const struct tv *args, int n)
{
    for (int i = 0; i < n; i++) {
        if (i > 0)
            tout_addc(o, ' ');
        print_one(x, o, &args[i]);
    }
    tout_addc(o, '\n');
}

static bool parse_num(const char *s, size_t n, size_t *i, int *out)
{
    bool any = false;
    int v = 0;
    while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
        if (v > 1000000)
            return false; /* Go: too large, treated as absent */
        v = v * 10 + (s[*i] - '0');
        (*i)++;
        any = true;
    }
    *out = v;
    return any;
}

static void sprintf_(struct texec *x, struct tout *o, const char *fs, size_t n,
                     const struct tv *args, int nargs)
{
    int argi = 0;
    size_t i = 0;
    while (i < n) {
        size_t start = i;
        while (i < n && fs[i] != '%')
            i++;
        if (i > start)
            tout_add(o, fs + start, i - start);
        if (i >= n)
            break;
        i++; /* '%' */
        struct pfmt f = {0};
        for (; i < n; i++) {
            char c = fs[i];
            if (c == '#')
                f.sharp = true;
            else if (c == '0')
                f.zero = !f.minus;
            else if (c == '+')
                f.plus = true;
            else if (c == '-') {
                f.minus = true;
                f.zero = false;
            } else if (c == ' ')
                f.space = true;
            else
                break;
        }
        /* width */
        if (i < n && fs[i] == '*') {
            i++;
            if (argi < nargs && args[argi].k == TK_INT) {
                int64_t w = args[argi].u.i;
                argi++;
                if (w < -1000000 || w > 1000000) {
                    tout_adds(o, "%!(BADWIDTH)");
                } else {
                    f.wid = (int)w;
                    f.wid_present = true;
                    if (w < 0) {
                        f.minus = true;
                        f.zero = false;
                        f.wid = (int)-w;
                    }
                }
            } else {
                if (argi < nargs)
                    argi++;
                tout_adds(o, "%!(BADWIDTH)");
            }
        } else {
            f.wid_present = parse_num(fs, n, &i, &f.wid);
        }
        /* precision */
        if (i < n && fs[i] == '.') {
            i++;
            if (i < n && fs[i] == '*') {
                i++;
                if (argi < nargs && args[argi].k == TK_INT && args[argi].u.i >= 0 &&
                    args[argi].u.i <= 1000000) {
                    f.prec = (int)args[argi].u.i;
                    f.prec_present = true;
                    argi++;
                } else {
                    if (argi < nargs)
                        argi++;
                    tout_adds(o, "%!(BADPREC)");
                }
            } else {
                parse_num(fs, n, &i, &f.prec);
                f.prec_present = true;
            }
        }
        if (!f.minus && f.zero && false)
            f.zero = true;
        if (i >= n) {
            tout_adds(o, "%!(NOVERB)");
            break;
        }
        int w;
        int32_t verb = nd_tmpl__utf8_decode(fs + i, n - i, &w);
        i += (size_t)w;
        if (verb == '%') {
            tout_addc(o, '%');
            continue;
        }
        if (argi >= nargs) {
            tout_adds(o, "%!");
            tout_rune(o, verb);
            tout_adds(o, "(MISSING)");
            continue;
        }
        const struct tv *a = &args[argi++];
        if (verb > 0x7f) {
            tout_adds(o, "%!");
            tout_rune(o, verb);
            tout_addc(o, '(');
            if (a->k == TK_INVALID || a->k == TK_NIL) {
                tout_adds(o, "<nil>");
            } else {
                tout_adds(o, nd_tmpl__val_type_name(a));
                tout_addc(o, '=');
                print_one(x, o, a);
            }
            tout_addc(o, ')');
            continue;
        }
        if (verb == 'w')
            verb = 'v'; /* Sprintf treats %w as %v... with a bad verb form in Go */
        if (verb == 'v') {
            f.plus_v = f.plus;
            f.plus = false;
        }
        print_value(x, o, &f, a, (char)verb, 0);
    }
    if (argi < nargs) {
        tout_adds(o, "%!(EXTRA ");
        for (int k = argi; k < nargs; k++) {
            if (k > argi)
                tout_adds(o, ", ");
            if (args[k].k == TK_INVALID || args[k].k == TK_NIL) {
                tout_adds(o, "<nil>");
            } else {
                tout_adds(o, nd_tmpl__val_type_name(&args[k]));
                tout_addc(o, '=');
                print_one(x, o, &args[k]);
            }
        }
        tout_addc(o, ')');
    }
}

/* The entry points: each appends to b and returns ND_OK, or ND_ETOOBIG when
 * b's ceiling was hit (b then holds a cut output the caller must not use). */

int nd_tmpl__val_print_action(struct texec *x, struct nd_buf *b, const struct tv *v)
{
    struct tout o = {b, ND_OK};
    print_action(x, &o, v);
    return o.rc;
}

int nd_tmpl__val_print(struct texec *x, struct nd_buf *b, const struct tv *v)
{
    struct tout o = {b, ND_OK};
    print_one(x, &o, v);
    return o.rc;
}

int nd_tmpl__val_sprint(struct texec *x, struct nd_buf *b, const struct tv *args, int n)
{
    struct tout o = {b, ND_OK};
    sprint(x, &o, args, n);
    return o.rc;
}

int nd_tmpl__val_sprintln(struct texec *x, struct nd_buf *b, const struct tv *args, int n)
{
    struct tout o = {b, ND_OK};
    sprintln(x, &o, args, n);
    return o.rc;
}

int nd_tmpl__val_sprintf(struct texec *x, struct nd_buf *b, const char *fmt, size_t fmtlen,
                         const struct tv *args, int n)
{
    struct tout o = {b, ND_OK};
    sprintf_(x, &o, fmt, fmtlen, args, n);
    return o.rc;
}
