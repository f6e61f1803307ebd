/* funcs.c - the function registry and Go's built-in template functions
 * (text/template/funcs.go), plus the first of NM's functions.
 *
 * A function is a struct tfunc: a name, Go's parameter types (for Go's
 * argument checking and its error messages) and a C implementation. The
 * set's own functions (nd_template_set_add_func) are searched first, so a
 * later part can add NM's and Alertmanager's functions without touching the
 * evaluator.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl_int.h"

/* The comparison helpers treat a nil interface as Go's invalid value. */
static struct tv indirect_iface(const struct tv *v)
{
    if (v->k == TK_NIL)
        return nd_tmpl__val_invalid();
    return *v;
}

static int fn_not(struct texec *x, const struct tv *recv, const struct tv *a, int n, struct tv *out,
                  char *err)
{
    bool ok;
    struct tv v = indirect_iface(&a[0]);
    *out = nd_tmpl__val_bool(!nd_tmpl__val_truth(&v, &ok));
    return 0;
}

static int fn_andor(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                    struct tv *out, char *err)
{
    /* evaluated lazily by the evaluator; never reached */
    *out = n > 0 ? a[n - 1] : nd_tmpl__val_invalid();
    return 0;
}

static int fn_len(struct texec *x, const struct tv *recv, const struct tv *a, int n, struct tv *out,
                  char *err)
{
    const struct tv *v = &a[0];
    switch (v->k) {
    case TK_INVALID:
        snprintf(err, ND_ERRLEN, "reflect: call of reflect.Value.Type on zero Value");
        return -1;
    case TK_NIL:
        snprintf(err, ND_ERRLEN, "len of nil pointer");
        return -1;
    case TK_STRING:
        *out = nd_tmpl__val_int((int64_t)v->u.s.n);
        return 0;
    case TK_LIST:
        *out = nd_tmpl__val_int(v->u.l ? (int64_t)v->u.l->n : 0);
        return 0;
    case TK_MAP:
        *out = nd_tmpl__val_int(v->u.m ? (int64_t)v->u.m->n : 0);
        return 0;
    case TK_OBJ:
        if (v->t->pointer && !v->u.o) {
            snprintf(err, ND_ERRLEN, "len of nil pointer");
            return -1;
        }
        break;
    }
    /* length() indirects first: a pointer is reported by its element type */
    const char *tn = nd_tmpl__val_type_name(v);
    if (v->k == TK_OBJ && v->t->pointer && tn[0] == '*')
        tn++;
    snprintf(err, ND_ERRLEN, "len of type %s", tn);
    return -1;
}

static int index_arg(const struct tv *idx, size_t cap, size_t *out, char *err)
{
    struct tv i = indirect_iface(idx);
    if (i.k == TK_INVALID) {
        snprintf(err, ND_ERRLEN, "cannot index slice/array with nil");
        return -1;
    }
    if (i.k != TK_INT) {
        snprintf(err, ND_ERRLEN, "cannot index slice/array with type %s",
                 nd_tmpl__val_type_name(&i));
        return -1;
    }
    if (i.u.i < 0 || (uint64_t)i.u.i > cap) {
        snprintf(err, ND_ERRLEN, "index out of range: %lld", (long long)i.u.i);
        return -1;
    }
    *out = (size_t)i.u.i;
    return 0;
}

static int fn_index(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                    struct tv *out, char *err)
{
    struct tv item = indirect_iface(&a[0]);
    if (item.k == TK_INVALID) {
        snprintf(err, ND_ERRLEN, "index of untyped nil");
        return -1;
    }
    for (int k = 1; k < n; k++) {
        struct tv idx = indirect_iface(&a[k]);
        if (item.k == TK_OBJ && item.t->pointer && !item.u.o) {
            snprintf(err, ND_ERRLEN, "index of nil pointer");
            return -1;
        }
        size_t i;
        switch (item.k) {
        case TK_LIST: {
            size_t len = item.u.l ? item.u.l->n : 0;
            if (index_arg(&idx, len, &i, err))
                return -1;
            if (i == len) {
                snprintf(err, ND_ERRLEN, "reflect: slice index out of range");
                return -1;
            }
            item = item.u.l->v[i];
            break;
        }
        case TK_STRING:
            if (index_arg(&idx, item.u.s.n, &i, err))
                return -1;
            if (i == item.u.s.n) {
                snprintf(err, ND_ERRLEN, "reflect: string index out of range");
                return -1;
            }
            item = nd_tmpl__val_int((unsigned char)item.u.s.p[i]);
            item.t = &nd_tmpl__type_uint8; /* a byte */
            break;
        case TK_MAP: {
            if (idx.k == TK_INVALID) {
                snprintf(err, ND_ERRLEN, "value is nil; should be of type string");
                return -1;
            }
            if (idx.k != TK_STRING) {
                snprintf(err, ND_ERRLEN, "value has type %s; should be string",
                         nd_tmpl__val_type_name(&idx));
                return -1;
            }
            const struct tmap *m = item.u.m;
            struct tv r = nd_tmpl__val_str("", 0);
            for (size_t j = 0; m && j < m->n; j++) {
                if (m->k[j].n == idx.u.s.n && memcmp(m->k[j].p, idx.u.s.p, idx.u.s.n) == 0) {
                    r = nd_tmpl__val_str(m->v[j].p, m->v[j].n);
                    break;
                }
            }
            item = r;
            break;
        }
        default: {
            /* index() indirects first: a pointer is reported by its element type */
            const char *tn = nd_tmpl__val_type_name(&item);
            if (item.k == TK_OBJ && item.t->pointer && tn[0] == '*')
                tn++;
            snprintf(err, ND_ERRLEN, "can't index item of type %s", tn);
            return -1;
        }
        }
    }
    *out = item;
    return 0;
}

static int fn_slice(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                    struct tv *out, char *err)
{
    struct tv item = indirect_iface(&a[0]);
    int nidx = n - 1;
    if (item.k == TK_INVALID) {
        snprintf(err, ND_ERRLEN, "slice of untyped nil");
        return -1;
    }
    if (nidx > 3) {
        snprintf(err, ND_ERRLEN, "too many slice indexes: %d", nidx);
        return -1;
    }
    size_t cap;
    if (item.k == TK_STRING) {
        if (nidx == 3) {
            snprintf(err, ND_ERRLEN, "cannot 3-index slice a string");
            return -1;
        }
        cap = item.u.s.n;
    } else if (item.k == TK_LIST) {
        cap = item.u.l ? item.u.l->n : 0;
        if (item.u.l && item.u.l->cap > cap)
            cap = item.u.l->cap;
    } else {
        snprintf(err, ND_ERRLEN, "can't slice item of type %s", nd_tmpl__val_type_name(&item));
        return -1;
    }
    size_t len = item.k == TK_STRING ? item.u.s.n : item.u.l ? item.u.l->n : 0;
    size_t idx[3] = {0, len, cap};
    for (int i = 0; i < nidx; i++)
        if (index_arg(&a[1 + i], cap, &idx[i], err))
            return -1;
    if (idx[0] > idx[1]) {
        snprintf(err, ND_ERRLEN, "invalid slice index: %zu > %zu", idx[0], idx[1]);
        return -1;
    }
    if (nidx == 3 && idx[1] > idx[2]) {
        snprintf(err, ND_ERRLEN, "invalid slice index: %zu > %zu", idx[1], idx[2]);
        return -1;
    }
    if (item.k == TK_STRING) {
        *out = nd_tmpl__val_str(item.u.s.p + idx[0], idx[1] - idx[0]);
        out->t = item.t;
        return 0;
    }
    if (idx[1] > len) {
        /* within the capacity but past the elements we hold: Go would show
         * the zero values there; we have none to show */
        snprintf(err, ND_ERRLEN, "slice bounds past the length (%zu) are not supported", len);
        return -1;
    }
    struct tlist *l = nd_tmpl__exec_alloc(x, sizeof(*l));
    l->n = idx[1] - idx[0];
    l->v = item.u.l ? item.u.l->v + idx[0] : NULL;
    l->cap = nidx == 3 ? idx[2] - idx[0] : cap - idx[0];
    *out = item;
    out->u.l = l;
    return 0;
}

/* A function's string result: b's text, or (rc != ND_OK: b's ceiling, the
 * output limit, was hit) the output limit's error. Frees b. */
static int buf_result(struct texec *x, struct nd_buf *b, int rc, struct tv *out, char *err)
{
    if (rc != ND_OK) {
        size_t limit = b->limit;
        nd_tmpl__exec_buf_free(x, b);
        return nd_tmpl__exec_limit_fn_error(err, limit);
    }
    *out = nd_tmpl__exec_buf_value(x, b);
    return 0;
}

/* A result is text an action could print: the output's ceiling is its own. */
static struct nd_buf *result_buf(struct texec *x)
{
    return nd_tmpl__exec_buf(x, x->out->limit);
}

static int fn_print(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                    struct tv *out, char *err)
{
    struct nd_buf *b = result_buf(x);
    return buf_result(x, b, nd_tmpl__val_sprint(x, b, a, n), out, err);
}

static int fn_println(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                      struct tv *out, char *err)
{
    struct nd_buf *b = result_buf(x);
    return buf_result(x, b, nd_tmpl__val_sprintln(x, b, a, n), out, err);
}

static int fn_printf(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                     struct tv *out, char *err)
{
    struct nd_buf *b = result_buf(x);
    return buf_result(x, b, nd_tmpl__val_sprintf(x, b, a[0].u.s.p, a[0].u.s.n, a + 1, n - 1), out,
                      err);
}

/* text/template's evalArgs: one string as is, otherwise fmt.Sprint of the
 * printable values (a nil prints "<no value>"). */
static int eval_args(struct texec *x, struct nd_buf *b, const struct tv *a, int n)
{
    if (n == 1 && a[0].k == TK_STRING)
        return nd_buf_add(b, a[0].u.s.p, a[0].u.s.n);
    struct tv *c = nd_tmpl__exec_alloc(x, (size_t)(n + 1) * sizeof(*c));
    for (int i = 0; i < n; i++) {
        c[i] = nd_tmpl__deref(&a[i]); /* printableValue indirects pointers */
        if (a[i].k == TK_INVALID || a[i].k == TK_NIL)
            c[i] = nd_tmpl__val_str("<no value>", 10);
    }
    return nd_tmpl__val_sprint(x, b, c, n);
}

static int fn_html(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                   struct tv *out, char *err)
{
    struct nd_buf *s = result_buf(x);
    struct nd_buf *b = result_buf(x);
    struct tout o = {b, eval_args(x, s, a, n)};
    for (size_t i = 0; i < s->len; i++) {
        char c = s->data[i];
        switch (c) {
        case '"':
            tout_adds(&o, "&#34;");
            break;
        case '\'':
            tout_adds(&o, "&#39;");
            break;
        case '&':
            tout_adds(&o, "&amp;");
            break;
        case '<':
            tout_adds(&o, "&lt;");
            break;
        case '>':
            tout_adds(&o, "&gt;");
            break;
        case '\0':
            tout_adds(&o, "\xEF\xBF\xBD");
            break;
        default:
            tout_addc(&o, c);
        }
    }
    nd_tmpl__exec_buf_free(x, s);
    return buf_result(x, b, o.rc, out, err);
}

static int fn_js(struct texec *x, const struct tv *recv, const struct tv *a, int n, struct tv *out,
                 char *err)
{
    static const char hex[] = "0123456789ABCDEF";
    struct nd_buf *s = result_buf(x);
    struct nd_buf *b = result_buf(x);
    struct tout o = {b, eval_args(x, s, a, n)};
    size_t i = 0;
    while (i < s->len) {
        unsigned char c = (unsigned char)s->data[i];
        if (c < 0x80) {
            switch (c) {
            case '\\':
                tout_adds(&o, "\\\\");
                break;
            case '\'':
                tout_adds(&o, "\\'");
                break;
            case '"':
                tout_adds(&o, "\\\"");
                break;
            case '<':
                tout_adds(&o, "\\u003C");
                break;
            case '>':
                tout_adds(&o, "\\u003E");
                break;
            case '&':
                tout_adds(&o, "\\u0026");
                break;
            case '=':
                tout_adds(&o, "\\u003D");
                break;
            default:
                if (c < ' ') {
                    tout_adds(&o, "\\u00");
                    tout_addc(&o, hex[c >> 4]);
                    tout_addc(&o, hex[c & 15]);
                } else {
                    tout_addc(&o, (char)c);
                }
            }
            i++;
            continue;
        }
        int w;
        int32_t r = nd_tmpl__utf8_decode(s->data + i, s->len - i, &w);
        if (nd_tmpl__is_print(r) && !(r == 0xFFFD && w == 1))
            tout_add(&o, s->data + i, (size_t)w);
        else
            tout_printf(&o, "\\u%04X", (unsigned)r);
        i += (size_t)w;
    }
    nd_tmpl__exec_buf_free(x, s);
    return buf_result(x, b, o.rc, out, err);
}

static int fn_urlquery(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                       struct tv *out, char *err)
{
    static const char hex[] = "0123456789ABCDEF";
    struct nd_buf *s = result_buf(x);
    struct nd_buf *b = result_buf(x);
    struct tout o = {b, eval_args(x, s, a, n)};
    for (size_t i = 0; i < s->len; i++) {
        unsigned char c = (unsigned char)s->data[i];
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            tout_addc(&o, (char)c);
        } else if (c == ' ') {
            tout_addc(&o, '+');
        } else {
            tout_addc(&o, '%');
            tout_addc(&o, hex[c >> 4]);
            tout_addc(&o, hex[c & 15]);
        }
    }
    nd_tmpl__exec_buf_free(x, s);
    return buf_result(x, b, o.rc, out, err);
}

/* ---- comparisons ---- */

enum bkind { BK_INVALID, BK_BOOL, BK_INT, BK_FLOAT, BK_STRING };

static int basic_kind(const struct tv *v)
{
    switch (v->k) {
    case TK_BOOL:
        return BK_BOOL;
    case TK_INT:
        return BK_INT;
    case TK_FLOAT:
        return BK_FLOAT;
    case TK_STRING:
        return BK_STRING;
    }
    return BK_INVALID;
}

static bool tv_is_nil(const struct tv *v)
{
    switch (v->k) {
    case TK_INVALID:
    case TK_NIL:
        return true;
    case TK_LIST:
        return v->u.l == NULL;
    case TK_MAP:
        return v->u.m == NULL;
    case TK_OBJ:
        return v->t->pointer && v->u.o == NULL;
    case TK_FUNC:
        return v->u.fn == NULL;
    }
    return false;
}

static int str_cmp(const struct tv *a, const struct tv *b)
{
    size_t n = a->u.s.n < b->u.s.n ? a->u.s.n : b->u.s.n;
    int c = n ? memcmp(a->u.s.p, b->u.s.p, n) : 0;
    if (c)
        return c;
    return a->u.s.n < b->u.s.n ? -1 : a->u.s.n > b->u.s.n ? 1 : 0;
}

/* A value's text for an error message, cut to n. Printing reads fields,
 * which may unwind: the buffer belongs to the execution; its ceiling is
 * above n, so a value that does not fit is cut by snprintf alone. */
static void print_to(struct texec *x, const struct tv *v, char *out, size_t n)
{
    struct nd_buf *b = nd_tmpl__exec_buf(x, 4 * n);
    (void)nd_tmpl__val_print(x, b, v); /* ND_ETOOBIG: longer than n anyway */
    snprintf(out, n, "%s", nd_buf_cstr(b));
    nd_tmpl__exec_buf_free(x, b);
}

static int do_eq(struct texec *x, const struct tv *a1, const struct tv *rest, int n, bool *res,
                 char *err)
{
    struct tv arg1 = indirect_iface(a1);
    if (n == 0) {
        snprintf(err, ND_ERRLEN, "missing argument for comparison");
        return -1;
    }
    int k1 = basic_kind(&arg1);
    for (int i = 0; i < n; i++) {
        struct tv arg = indirect_iface(&rest[i]);
        int k2 = basic_kind(&arg);
        bool truth = false;
        if (k1 != k2) {
            if (arg1.k != TK_INVALID && arg.k != TK_INVALID) {
                snprintf(err, ND_ERRLEN, "incompatible types for comparison");
                return -1;
            }
        } else {
            switch (k1) {
            case BK_BOOL:
                truth = arg1.u.b == arg.u.b;
                break;
            case BK_FLOAT:
                truth = arg1.u.f == arg.u.f;
                break;
            case BK_INT:
                truth = arg1.u.i == arg.u.i;
                break;
            case BK_STRING:
                truth = str_cmp(&arg1, &arg) == 0;
                break;
            default: {
                bool same_kind = arg1.k == arg.k || arg1.k == TK_INVALID || arg.k == TK_INVALID;
                if (!same_kind) {
                    char s1[ND_ERRLEN / 3], s2[ND_ERRLEN / 3];
                    print_to(x, &arg1, s1, sizeof s1);
                    print_to(x, &arg, s2, sizeof s2);
                    snprintf(err, ND_ERRLEN, "non-comparable types %s: %s, %s: %s", s1,
                             nd_tmpl__val_type_name(&arg1), nd_tmpl__val_type_name(&arg), s2);
                    return -1;
                }
                if (tv_is_nil(&arg1) || tv_is_nil(&arg)) {
                    truth = tv_is_nil(&arg) == tv_is_nil(&arg1);
                } else if (arg.k == TK_LIST || arg.k == TK_MAP || arg.k == TK_FUNC) {
                    char s1[ND_ERRLEN / 2];
                    print_to(x, &arg, s1, sizeof s1);
                    snprintf(err, ND_ERRLEN, "non-comparable type %s: %s", s1,
                             nd_tmpl__val_type_name(&arg));
                    return -1;
                } else if (arg.k == TK_TIME) {
                    truth = arg1.t == arg.t && arg1.u.tm.sec == arg.u.tm.sec &&
                            arg1.u.tm.nsec == arg.u.tm.nsec && arg1.u.tm.off == arg.u.tm.off &&
                            arg1.zone == arg.zone;
                } else {
                    truth = arg1.t == arg.t && arg1.u.o == arg.u.o;
                }
            }
            }
        }
        if (truth) {
            *res = true;
            return 0;
        }
    }
    *res = false;
    return 0;
}

static int fn_eq(struct texec *x, const struct tv *recv, const struct tv *a, int n, struct tv *out,
                 char *err)
{
    bool r;
    if (do_eq(x, &a[0], a + 1, n - 1, &r, err))
        return -1;
    *out = nd_tmpl__val_bool(r);
    return 0;
}

static int fn_ne(struct texec *x, const struct tv *recv, const struct tv *a, int n, struct tv *out,
                 char *err)
{
    bool r;
    if (do_eq(x, &a[0], a + 1, 1, &r, err))
        return -1;
    *out = nd_tmpl__val_bool(!r);
    return 0;
}

static int do_lt(const struct tv *a1, const struct tv *a2, bool *res, char *err)
{
    struct tv arg1 = indirect_iface(a1), arg2 = indirect_iface(a2);
    int k1 = basic_kind(&arg1), k2 = basic_kind(&arg2);
    if (k1 == BK_INVALID || k2 == BK_INVALID) {
        snprintf(err, ND_ERRLEN, "invalid type for comparison");
        return -1;
    }
    if (k1 != k2) {
        snprintf(err, ND_ERRLEN, "incompatible types for comparison");
        return -1;
    }
    switch (k1) {
    case BK_BOOL:
        snprintf(err, ND_ERRLEN, "invalid type for comparison");
        return -1;
    case BK_FLOAT:
        *res = arg1.u.f < arg2.u.f;
        break;
    case BK_INT:
        *res = arg1.u.i < arg2.u.i;
        break;
    default:
        *res = str_cmp(&arg1, &arg2) < 0;
    }
    return 0;
}

static int do_le(struct texec *x, const struct tv *a, bool *res, char *err)
{
    if (do_lt(&a[0], &a[1], res, err))
        return -1;
    if (*res)
        return 0;
    return do_eq(x, &a[0], &a[1], 1, res, err);
}

static int fn_lt(struct texec *x, const struct tv *recv, const struct tv *a, int n, struct tv *out,
                 char *err)
{
    bool r;
    if (do_lt(&a[0], &a[1], &r, err))
        return -1;
    *out = nd_tmpl__val_bool(r);
    return 0;
}

static int fn_le(struct texec *x, const struct tv *recv, const struct tv *a, int n, struct tv *out,
                 char *err)
{
    bool r;
    if (do_le(x, a, &r, err))
        return -1;
    *out = nd_tmpl__val_bool(r);
    return 0;
}

static int fn_gt(struct texec *x, const struct tv *recv, const struct tv *a, int n, struct tv *out,
                 char *err)
{
    bool r;
    if (do_le(x, a, &r, err))
        return -1;
    *out = nd_tmpl__val_bool(!r);
    return 0;
}

static int fn_ge(struct texec *x, const struct tv *recv, const struct tv *a, int n, struct tv *out,
                 char *err)
{
    bool r;
    if (do_lt(&a[0], &a[1], &r, err))
        return -1;
    *out = nd_tmpl__val_bool(!r);
    return 0;
}

static int fn_call(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                   struct tv *out, char *err)
{
    struct tv f = indirect_iface(&a[0]);
    if (f.k == TK_INVALID) {
        snprintf(err, ND_ERRLEN, "call of nil");
        return -1;
    }
    if (f.k != TK_FUNC || !f.u.fn) {
        snprintf(err, ND_ERRLEN, "non-function of type %s", nd_tmpl__val_type_name(&f));
        return -1;
    }
    const struct tfunc *fn = f.u.fn;
    int nin = n - 1;
    if (fn->variadic ? nin < fn->nparams - 1 : nin != fn->nparams) {
        if (fn->variadic)
            snprintf(err, ND_ERRLEN, "wrong number of args: got %d want at least %d", nin,
                     fn->nparams - 1);
        else
            snprintf(err, ND_ERRLEN, "wrong number of args: got %d want %d", nin, fn->nparams);
        return -1;
    }
    for (int i = 0; i < nin; i++) {
        const struct ttype *t =
            i < fn->nparams - (fn->variadic ? 1 : 0) ? fn->in[i] : fn->in[fn->nparams - 1];
        if (t != &nd_tmpl__type_any && t != &nd_tmpl__type_rvalue && a[1 + i].t != t) {
            snprintf(err, ND_ERRLEN, "arg %d: value has type %s; should be %s", i,
                     nd_tmpl__val_type_name(&a[1 + i]), t->name);
            return -1;
        }
    }
    return fn->fn(x, NULL, a + 1, nin, out, err);
}

/* ---- stringSlice (NM); the other NM functions are in nmfuncs.c ---- */

static int fn_stringslice(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                          struct tv *out, char *err)
{
    struct tstr *s = nd_tmpl__exec_alloc(x, (size_t)(n + 1) * sizeof(*s));
    for (int i = 0; i < n; i++)
        s[i] = a[i].u.s;
    *out = nd_tmpl__strslice(x, s, (size_t)n);
    return 0;
}

#define R nd_tmpl__type_rvalue
#define A nd_tmpl__type_any
static const struct tfunc builtins[] = {
    {"and", fn_andor, 2, true, {&R, &R}, false, true},
    {"call", fn_call, 2, true, {&R, &R}, true, true},
    {"eq", fn_eq, 2, true, {&R, &R}, true, true},
    {"ge", fn_ge, 2, false, {&R, &R}, true, true},
    {"gt", fn_gt, 2, false, {&R, &R}, true, true},
    {"html", fn_html, 1, true, {&A}, false, true},
    {"index", fn_index, 2, true, {&R, &R}, true, true},
    {"js", fn_js, 1, true, {&A}, false, true},
    {"le", fn_le, 2, false, {&R, &R}, true, true},
    {"len", fn_len, 1, false, {&R}, true, true},
    {"lt", fn_lt, 2, false, {&R, &R}, true, true},
    {"ne", fn_ne, 2, false, {&R, &R}, true, true},
    {"not", fn_not, 1, false, {&R}, false, true},
    {"or", fn_andor, 2, true, {&R, &R}, false, true},
    {"print", fn_print, 1, true, {&A}, false, true},
    {"printf", fn_printf, 2, true, {&nd_tmpl__type_string, &A}, false, true},
    {"println", fn_println, 1, true, {&A}, false, true},
    {"slice", fn_slice, 2, true, {&R, &R}, true, true},
    {"stringSlice", fn_stringslice, 1, true, {&nd_tmpl__type_string}, false, false},
    {"urlquery", fn_urlquery, 1, true, {&A}, false, true},
};
#undef R
#undef A

const struct tfunc *nd_tmpl__builtin(const char *name)
{
    for (size_t i = 0; i < ND_ARRAY_LEN(builtins); i++)
        if (strcmp(builtins[i].name, name) == 0)
            return &builtins[i];
    return NULL;
}

const struct tfunc *nd_tmpl__find_func(const struct nd_template_set *set, const char *name)
{
    if (set) {
        for (size_t i = set->nfuncs; i > 0; i--)
            if (strcmp(set->funcs[i - 1]->name, name) == 0)
                return set->funcs[i - 1];
    }
    const struct tfunc *f = nd_tmpl__nm_func(name);
    return f ? f : nd_tmpl__builtin(name);
}
