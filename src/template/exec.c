/* exec.c - the evaluator: Go's text/template exec.go semantics over our
 * value model, with missingkey=zero.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl_int.h"

enum { WALK_OK = 0, WALK_BREAK = 1, WALK_CONTINUE = 2 };

void *nd_tmpl__exec_alloc(struct texec *x, size_t n)
{
    void *p = nd_tmpl__arena_alloc(&x->arena, n);
    if (!p)
        nd_tmpl__exec_errorf(x, "memory limit of %zu bytes exceeded", x->arena.limit);
    return p;
}

struct tv nd_tmpl__exec_strdup(struct texec *x, const char *p, size_t n)
{
    char *s = nd_tmpl__exec_alloc(x, n + 1);
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return nd_tmpl__val_str(s, n);
}

struct nd_buf *nd_tmpl__exec_buf(struct texec *x, size_t limit)
{
    for (size_t i = 0; i < TX_MAX_BUFS; i++) {
        if (!x->buf_used[i]) {
            x->buf_used[i] = true;
            nd_buf_init(&x->bufs[i], limit);
            return &x->bufs[i];
        }
    }
    nd_tmpl__exec_errorf(x, "internal error: more than %d buffers in use", TX_MAX_BUFS);
}

void nd_tmpl__exec_buf_free(struct texec *x, struct nd_buf *b)
{
    nd_buf_deinit(b);
    if (b >= x->bufs && b < x->bufs + TX_MAX_BUFS)
        x->buf_used[b - x->bufs] = false;
}

struct tv nd_tmpl__exec_buf_value(struct texec *x, struct nd_buf *b)
{
    char *s = nd_tmpl__arena_alloc(&x->arena, b->len + 1);
    if (!s) {
        nd_tmpl__exec_buf_free(x, b);
        nd_tmpl__exec_errorf(x, "memory limit of %zu bytes exceeded", x->arena.limit);
    }
    if (b->len)
        memcpy(s, b->data, b->len);
    s[b->len] = '\0';
    struct tv v = nd_tmpl__val_str(s, b->len);
    nd_tmpl__exec_buf_free(x, b);
    return v;
}

#define LIMIT_MSG "output exceeds the limit of %zu bytes"

_Noreturn void nd_tmpl__exec_limit_error(struct texec *x, size_t limit)
{
    nd_tmpl__exec_errorf(x, LIMIT_MSG, limit);
}

int nd_tmpl__exec_limit_fn_error(char *err, size_t limit)
{
    snprintf(err, ND_ERRLEN, LIMIT_MSG, limit);
    return -1;
}

_Noreturn void nd_tmpl__exec_errorf(struct texec *x, const char *fmt, ...)
{
    char msg[ND_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* The message is cut to ND_ERRLEN in the end: a longer one (long names)
     * stops at its ceiling and is cut the same way, so its rc is not
     * needed. */
    struct nd_buf eb;
    nd_buf_init(&eb, 4 * ND_ERRLEN);
    struct tout e = {&eb, ND_OK};
    if (!x->node) {
        tout_printf(&e, "template: %s: %s", x->tmpl_name, msg);
    } else {
        const struct tnode *n = x->node;
        const char *text = n->src->text;
        size_t pos = n->pos;
        int line = 1;
        size_t lastnl = (size_t)-1;
        for (size_t i = 0; i < pos; i++) {
            if (text[i] == '\n') {
                line++;
                lastnl = i;
            }
        }
        size_t col = lastnl == (size_t)-1 ? pos : pos - lastnl - 1;
        tout_printf(&e, "template: %s:%d:%zu: executing \"%s\" at <", n->src->name, line, col,
                    x->tmpl_name);
        struct nd_buf ctx;
        nd_buf_init(&ctx, (size_t)-1);
        nd_tmpl__node_string(n, &ctx);
        /* Go prints the whole node; our error buffer is short, so a long node
         * is cut to keep the message itself */
        size_t room = ND_ERRLEN - 1;
        size_t fixed = eb.len + 3 + strlen(msg);
        size_t keep = fixed < room ? room - fixed : 0;
        if (ctx.len > keep) {
            keep = keep > 3 ? keep - 3 : 0;
            while (keep > 0 && ((unsigned char)ctx.data[keep] & 0xC0) == 0x80)
                keep--; /* do not split a UTF-8 sequence */
            tout_add(&e, ctx.data, keep);
            tout_adds(&e, "...");
        } else {
            tout_add(&e, nd_buf_cstr(&ctx), ctx.len);
        }
        nd_buf_deinit(&ctx);
        tout_printf(&e, ">: %s", msg);
    }
    nd_tmpl__err_from_buf(x->err, &eb);
    nd_buf_deinit(&eb);
    longjmp(x->jb, 1);
}

static void at(struct texec *x, const struct tnode *n)
{
    x->node = n;
}

/* Fails before the C stack runs out: nesting within a template multiplies
 * with the template depth, so neither limit alone bounds the stack. */
static void check_stack(struct texec *x)
{
    char here;
    uintptr_t p = (uintptr_t)&here;
    uintptr_t used = p < x->stack_base ? x->stack_base - p : p - x->stack_base;
    if (used > ND_TEMPLATE_STACK_BUDGET)
        nd_tmpl__exec_errorf(x, "template nesting exceeds the stack budget of %u bytes",
                             ND_TEMPLATE_STACK_BUDGET);
}

/* ---- variables ---- */

static size_t var_mark(struct texec *x)
{
    return x->nvars;
}

static void var_pop(struct texec *x, size_t mark)
{
    x->nvars = mark;
}

static void var_push(struct texec *x, const char *name, struct tv v)
{
    if (x->nvars == x->capvars) {
        size_t cap = x->capvars ? x->capvars * 2 : 32;
        struct tvar *nv = nd_tmpl__exec_alloc(x, cap * sizeof(*nv));
        if (x->nvars)
            memcpy(nv, x->vars, x->nvars * sizeof(*nv));
        x->vars = nv;
        x->capvars = cap;
    }
    x->vars[x->nvars].name = name;
    x->vars[x->nvars].val = v;
    x->nvars++;
}

static struct tv *var_find(struct texec *x, size_t base, const char *name)
{
    for (size_t i = x->nvars; i > base; i--)
        if (strcmp(x->vars[i - 1].name, name) == 0)
            return &x->vars[i - 1].val;
    return NULL;
}

/* ---- evaluation ---- */

static struct tv eval_pipeline(struct texec *x, size_t base, struct tv dot,
                               const struct tnode *pipe);
static struct tv eval_arg(struct texec *x, size_t base, struct tv dot, const struct ttype *typ,
                          const struct tnode *n);
static int walk(struct texec *x, size_t base, struct tv dot, const struct tnode *n);

static void node_str(const struct tnode *n, char *out, size_t len)
{
    struct nd_buf b;
    nd_buf_init(&b, len);
    nd_tmpl__node_string(n, &b);
    snprintf(out, len, "%s", nd_buf_cstr(&b));
    nd_buf_deinit(&b);
}

/* A value's text for an error message, cut to len. Printing reads fields,
 * which may unwind: the buffer belongs to the execution. Its ceiling is
 * above len, so a value that does not fit is cut by snprintf alone. */
static void value_str(struct texec *x, const struct tv *v, char *out, size_t len)
{
    struct nd_buf *b = nd_tmpl__exec_buf(x, 4 * len);
    (void)nd_tmpl__val_print(x, b, v); /* ND_ETOOBIG: longer than len anyway */
    snprintf(out, len, "%s", nd_buf_cstr(b));
    nd_tmpl__exec_buf_free(x, b);
}

static void not_a_function(struct texec *x, size_t nargs, bool has_final, const struct tnode *first)
{
    if (nargs > 1 || has_final) {
        char s[ND_ERRLEN];
        node_str(first, s, sizeof s);
        nd_tmpl__exec_errorf(x, "can't give argument to non-function %s", s);
    }
}

static bool can_be_nil(const struct ttype *t)
{
    return t == &nd_tmpl__type_any || t == &nd_tmpl__type_rvalue || t->kind == TK_LIST ||
           t->kind == TK_MAP || t->kind == TK_FUNC || (t->kind == TK_OBJ && t->pointer);
}

static struct tv zero_of(const struct ttype *t)
{
    struct tv v = {0};
    if (t == &nd_tmpl__type_any)
        return nd_tmpl__val_nil();
    if (t == &nd_tmpl__type_rvalue)
        return v;
    v.k = t->kind;
    v.t = t;
    return v; /* nil list / map / pointer, "", 0, false */
}

static struct tv validate_type(struct texec *x, struct tv v, const struct ttype *typ)
{
    if (v.k == TK_INVALID) {
        if (!typ)
            return v;
        if (can_be_nil(typ))
            return zero_of(typ);
        nd_tmpl__exec_errorf(x, "invalid value; expected %s", typ->name);
    }
    if (!typ || typ == &nd_tmpl__type_any || typ == &nd_tmpl__type_rvalue)
        return v;
    if (v.t != typ)
        nd_tmpl__exec_errorf(x, "wrong type for value; expected %s; got %s", typ->name,
                             nd_tmpl__val_type_name(&v));
    return v;
}

static bool contains_any(const struct tstr *s, const char *set)
{
    for (size_t i = 0; i < s->n; i++)
        if (strchr(set, s->p[i]))
            return true;
    return false;
}

static struct tv ideal_constant(struct texec *x, const struct tnode *c)
{
    at(x, c);
    const struct tstr *t = &c->u.num.text;
    bool hexint =
        t->n > 2 && t->p[0] == '0' && (t->p[1] == 'x' || t->p[1] == 'X') && !contains_any(t, "pP");
    bool runeint = t->n > 0 && t->p[0] == '\'';
    if (c->u.num.is_complex) {
        struct tv v = {0};
        v.k = TK_COMPLEX;
        v.t = &nd_tmpl__type_complex;
        v.u.c.re = c->u.num.re;
        v.u.c.im = c->u.num.im;
        return v;
    }
    if (c->u.num.is_float && !hexint && !runeint && contains_any(t, ".eEpP"))
        return nd_tmpl__val_float(c->u.num.f);
    if (c->u.num.is_int)
        return nd_tmpl__val_int(c->u.num.i);
    if (c->u.num.is_uint)
        nd_tmpl__exec_errorf(x, "%.*s overflows int", (int)t->n, t->p);
    return nd_tmpl__val_invalid();
}

static struct tv eval_call(struct texec *x, size_t base, struct tv dot, const struct tfunc *fn,
                           const struct tv *recv, const struct tnode *node, const char *name,
                           struct tnode *const *args, size_t nargs, const struct tv *final);

static struct tv eval_field(struct texec *x, size_t base, struct tv dot, const char *name,
                            const struct tnode *node, struct tnode *const *args, size_t nargs,
                            const struct tv *final, struct tv recv)
{
    if (recv.k == TK_INVALID)
        return nd_tmpl__val_invalid();
    if (recv.k == TK_NIL)
        nd_tmpl__exec_errorf(x, "nil pointer evaluating interface {}.%s", name);
    const struct ttype *t = recv.t;
    for (size_t i = 0; i < t->nmethods; i++) {
        if (strcmp(t->methods[i].name, name) == 0)
            return eval_call(x, base, dot, &t->methods[i], &recv, node, name, args, nargs, final);
    }
    bool has_args = nargs > 1 || final;
    if (recv.k == TK_OBJ) {
        for (size_t i = 0; i < t->nfields; i++) {
            if (strcmp(t->fields[i].name, name) == 0) {
                if (t->pointer && recv.u.o == NULL)
                    nd_tmpl__exec_errorf(x, "nil pointer evaluating %s.%s", t->name, name);
                if (has_args)
                    nd_tmpl__exec_errorf(x, "%s has arguments but cannot be invoked as function",
                                         name);
                return t->fields[i].get(x, recv.u.o);
            }
        }
    }
    if (recv.k == TK_MAP) {
        if (has_args)
            nd_tmpl__exec_errorf(x, "%s is not a method but has arguments", name);
        const struct tmap *m = recv.u.m;
        size_t nl = strlen(name);
        size_t lo = 0, hi = m ? m->n : 0;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            const struct tstr *k = &m->k[mid];
            size_t mn = k->n < nl ? k->n : nl;
            int c = memcmp(k->p, name, mn);
            if (c == 0)
                c = k->n < nl ? -1 : k->n > nl ? 1 : 0;
            if (c == 0)
                return nd_tmpl__val_str(m->v[mid].p, m->v[mid].n);
            if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        return nd_tmpl__val_str("", 0); /* missingkey=zero */
    }
    nd_tmpl__exec_errorf(x, "can't evaluate field %s in type %s", name,
                         nd_tmpl__val_type_name(&recv));
}

static struct tv eval_field_chain(struct texec *x, size_t base, struct tv dot, struct tv recv,
                                  const struct tnode *node, const struct tstr *ident, size_t n,
                                  struct tnode *const *args, size_t nargs, const struct tv *final)
{
    for (size_t i = 0; i + 1 < n; i++)
        recv = eval_field(x, base, dot, ident[i].p, node, NULL, 0, NULL, recv);
    return eval_field(x, base, dot, ident[n - 1].p, node, args, nargs, final, recv);
}

static struct tv eval_field_node(struct texec *x, size_t base, struct tv dot,
                                 const struct tnode *field, struct tnode *const *args, size_t nargs,
                                 const struct tv *final)
{
    at(x, field);
    return eval_field_chain(x, base, dot, dot, field, field->u.id.ident, field->u.id.nident, args,
                            nargs, final);
}

static struct tv eval_chain_node(struct texec *x, size_t base, struct tv dot,
                                 const struct tnode *chain, struct tnode *const *args, size_t nargs,
                                 const struct tv *final)
{
    at(x, chain);
    if (chain->u.id.node->kind == N_NIL) {
        char s[ND_ERRLEN];
        node_str(chain, s, sizeof s);
        nd_tmpl__exec_errorf(x, "indirection through explicit nil in %s", s);
    }
    struct tv pipe = eval_arg(x, base, dot, NULL, chain->u.id.node);
    return eval_field_chain(x, base, dot, pipe, chain, chain->u.id.ident, chain->u.id.nident, args,
                            nargs, final);
}

static struct tv var_value(struct texec *x, size_t base, const char *name)
{
    struct tv *v = var_find(x, base, name);
    if (!v)
        nd_tmpl__exec_errorf(x, "undefined variable: %s", name);
    return *v;
}

static struct tv eval_variable_node(struct texec *x, size_t base, struct tv dot,
                                    const struct tnode *var, struct tnode *const *args,
                                    size_t nargs, const struct tv *final)
{
    at(x, var);
    struct tv v = var_value(x, base, var->u.id.ident[0].p);
    if (var->u.id.nident == 1) {
        not_a_function(x, nargs, final != NULL, var);
        return v;
    }
    return eval_field_chain(x, base, dot, v, var, var->u.id.ident + 1, var->u.id.nident - 1, args,
                            nargs, final);
}

static struct tv eval_function(struct texec *x, size_t base, struct tv dot,
                               const struct tnode *ident, const struct tnode *cmd,
                               struct tnode *const *args, size_t nargs, const struct tv *final)
{
    at(x, ident);
    const struct tfunc *fn = nd_tmpl__find_func(x->set, ident->u.fn.name);
    if (!fn)
        nd_tmpl__exec_errorf(x, "\"%s\" is not a defined function", ident->u.fn.name);
    return eval_call(x, base, dot, fn, NULL, cmd, ident->u.fn.name, args, nargs, final);
}

static bool truth_of(const struct tv *v)
{
    bool ok;
    return nd_tmpl__val_truth(v, &ok);
}

static struct tv eval_call(struct texec *x, size_t base, struct tv dot, const struct tfunc *fn,
                           const struct tv *recv, const struct tnode *node, const char *name,
                           struct tnode *const *args, size_t nargs, const struct tv *final)
{
    if (args) {
        args++; /* the function name itself */
        nargs--;
    } else {
        nargs = 0;
    }
    size_t num_in = nargs + (final ? 1 : 0);
    size_t num_fixed = nargs;
    if (fn->variadic) {
        num_fixed = (size_t)fn->nparams - 1;
        if (num_in < num_fixed)
            nd_tmpl__exec_errorf(x, "wrong number of args for %s: want at least %d got %zu", name,
                                 fn->nparams - 1, nargs);
    } else if (num_in != (size_t)fn->nparams) {
        nd_tmpl__exec_errorf(x, "wrong number of args for %s: want %d got %zu", name, fn->nparams,
                             num_in);
    }
    if (fn->builtin && (strcmp(name, "and") == 0 || strcmp(name, "or") == 0)) {
        bool is_or = name[0] == 'o';
        struct tv v = nd_tmpl__val_invalid();
        for (size_t i = 0; i < nargs; i++) {
            v = eval_arg(x, base, dot, &nd_tmpl__type_rvalue, args[i]);
            if (truth_of(&v) == is_or)
                return v;
        }
        if (final)
            v = *final;
        return v;
    }
    struct tv *argv = nd_tmpl__exec_alloc(x, (num_in + 1) * sizeof(*argv));
    size_t i = 0;
    for (; i < num_fixed && i < nargs; i++)
        argv[i] = eval_arg(x, base, dot, fn->in[i], args[i]);
    if (fn->variadic) {
        const struct ttype *et = fn->in[fn->nparams - 1];
        for (; i < nargs; i++)
            argv[i] = eval_arg(x, base, dot, et, args[i]);
    }
    if (final) {
        const struct ttype *t = fn->in[fn->nparams - 1];
        if (fn->variadic && num_in - 1 < num_fixed)
            t = fn->in[num_in - 1];
        argv[i] = validate_type(x, *final, t);
    }
    struct tv out = nd_tmpl__val_invalid();
    char ferr[ND_ERRLEN] = "";
    if (fn->fn(x, recv, argv, (int)num_in, &out, ferr) != 0) {
        at(x, node);
        nd_tmpl__exec_errorf(x, "error calling %s: %s", name, ferr);
    }
    return out;
}

static struct tv eval_empty_interface(struct texec *x, size_t base, struct tv dot,
                                      const struct tnode *n)
{
    at(x, n);
    switch (n->kind) {
    case N_BOOL:
        return nd_tmpl__val_bool(n->u.b);
    case N_DOT:
        return dot;
    case N_FIELD:
        return eval_field_node(x, base, dot, n, NULL, 0, NULL);
    case N_IDENT:
        return eval_function(x, base, dot, n, n, NULL, 0, NULL);
    case N_NIL:
        nd_tmpl__exec_errorf(x, "evalEmptyInterface: nil (can't happen)");
    case N_NUMBER:
        return ideal_constant(x, n);
    case N_STRING:
        return nd_tmpl__val_str(n->u.str.val.p, n->u.str.val.n);
    case N_VAR:
        return eval_variable_node(x, base, dot, n, NULL, 0, NULL);
    case N_PIPE:
        return eval_pipeline(x, base, dot, n);
    }
    char s[ND_ERRLEN];
    node_str(n, s, sizeof s);
    nd_tmpl__exec_errorf(x, "can't handle assignment of %s to empty interface argument", s);
}

static struct tv eval_arg(struct texec *x, size_t base, struct tv dot, const struct ttype *typ,
                          const struct tnode *n)
{
    at(x, n);
    switch (n->kind) {
    case N_DOT:
        return validate_type(x, dot, typ);
    case N_NIL:
        if (typ && can_be_nil(typ))
            return zero_of(typ);
        nd_tmpl__exec_errorf(x, "cannot assign nil to %s", typ ? typ->name : "<nil>");
    case N_FIELD: {
        struct tnode *const one[1] = {(struct tnode *)n};
        return validate_type(x, eval_field_node(x, base, dot, n, one, 1, NULL), typ);
    }
    case N_VAR:
        return validate_type(x, eval_variable_node(x, base, dot, n, NULL, 0, NULL), typ);
    case N_PIPE:
        return validate_type(x, eval_pipeline(x, base, dot, n), typ);
    case N_IDENT:
        return validate_type(x, eval_function(x, base, dot, n, n, NULL, 0, NULL), typ);
    case N_CHAIN:
        return validate_type(x, eval_chain_node(x, base, dot, n, NULL, 0, NULL), typ);
    }
    char s[ND_ERRLEN];
    node_str(n, s, sizeof s);
    if (!typ)
        nd_tmpl__exec_errorf(x, "can't handle %s for arg of type <nil>", s);
    if (typ == &nd_tmpl__type_any || typ == &nd_tmpl__type_rvalue)
        return eval_empty_interface(x, base, dot, n);
    switch (typ->kind) {
    case TK_BOOL:
        if (n->kind == N_BOOL)
            return nd_tmpl__val_bool(n->u.b);
        nd_tmpl__exec_errorf(x, "expected bool; found %s", s);
    case TK_STRING:
        if (n->kind == N_STRING) {
            struct tv v = nd_tmpl__val_str(n->u.str.val.p, n->u.str.val.n);
            v.t = typ;
            return v;
        }
        nd_tmpl__exec_errorf(x, "expected string; found %s", s);
    case TK_INT:
        if (n->kind == N_NUMBER && n->u.num.is_int)
            return nd_tmpl__val_int(n->u.num.i);
        nd_tmpl__exec_errorf(x, "expected integer; found %s", s);
    case TK_FLOAT:
        if (n->kind == N_NUMBER && n->u.num.is_float)
            return nd_tmpl__val_float(n->u.num.f);
        nd_tmpl__exec_errorf(x, "expected float; found %s", s);
    }
    nd_tmpl__exec_errorf(x, "can't handle %s for arg of type %s", s, typ->name);
}

static struct tv eval_command(struct texec *x, size_t base, struct tv dot, const struct tnode *cmd,
                              const struct tv *final)
{
    const struct tnode *first = cmd->u.cmd.args[0];
    struct tnode *const *args = cmd->u.cmd.args;
    size_t nargs = cmd->u.cmd.nargs;
    switch (first->kind) {
    case N_FIELD:
        return eval_field_node(x, base, dot, first, args, nargs, final);
    case N_CHAIN:
        return eval_chain_node(x, base, dot, first, args, nargs, final);
    case N_IDENT:
        return eval_function(x, base, dot, first, cmd, args, nargs, final);
    case N_PIPE:
        not_a_function(x, nargs, final != NULL, first);
        return eval_pipeline(x, base, dot, first);
    case N_VAR:
        return eval_variable_node(x, base, dot, first, args, nargs, final);
    }
    at(x, first);
    not_a_function(x, nargs, final != NULL, first);
    switch (first->kind) {
    case N_BOOL:
        return nd_tmpl__val_bool(first->u.b);
    case N_DOT:
        return dot;
    case N_NIL:
        nd_tmpl__exec_errorf(x, "nil is not a command");
    case N_NUMBER:
        return ideal_constant(x, first);
    case N_STRING:
        return nd_tmpl__val_str(first->u.str.val.p, first->u.str.val.n);
    }
    char s[ND_ERRLEN];
    node_str(first, s, sizeof s);
    nd_tmpl__exec_errorf(x, "can't evaluate command \"%s\"", s);
}

static struct tv eval_pipeline(struct texec *x, size_t base, struct tv dot,
                               const struct tnode *pipe)
{
    if (!pipe)
        return nd_tmpl__val_invalid();
    at(x, pipe);
    check_stack(x);
    struct tv v = nd_tmpl__val_invalid();
    bool have = false;
    for (size_t i = 0; i < pipe->u.pipe.ncmds; i++) {
        v = eval_command(x, base, dot, pipe->u.pipe.cmds[i], have ? &v : NULL);
        have = true;
        /* a nil interface result is "no value" for what follows (Go's "lovely!") */
        if (v.k == TK_NIL)
            v = nd_tmpl__val_invalid();
    }
    for (size_t i = 0; i < pipe->u.pipe.ndecl; i++) {
        const char *name = pipe->u.pipe.decl[i]->u.id.ident[0].p;
        if (pipe->u.pipe.is_assign) {
            struct tv *slot = var_find(x, base, name);
            if (!slot)
                nd_tmpl__exec_errorf(x, "undefined variable: %s", name);
            *slot = v;
        } else {
            var_push(x, name, v);
        }
    }
    return v;
}

static void print_action_value(struct texec *x, const struct tnode *n, const struct tv *v)
{
    at(x, n);
    if (x->html_mode) {
        nd_tmpl__html_value(x, n, v);
        return;
    }
    if (v->k == TK_INVALID) {
        nd_tmpl__exec_add(x, x->out, "<no value>", 10);
        return;
    }
    if (v->k == TK_FUNC) {
        char s[ND_ERRLEN];
        node_str(n, s, sizeof s);
        nd_tmpl__exec_errorf(x, "can't print %s of type %s", s, nd_tmpl__val_type_name(v));
    }
    if (v->k == TK_STRING) {
        nd_tmpl__exec_add(x, x->out, v->u.s.p, v->u.s.n);
        return;
    }
    /* straight into the output, which the caller owns: printing reads
     * fields, which may unwind, and nothing is held meanwhile */
    if (nd_tmpl__val_print_action(x, x->out, v) != ND_OK)
        nd_tmpl__exec_limit_error(x, x->out->limit);
}

static const struct ttree *lookup(const struct texec *x, const char *name)
{
    for (const struct ttree *t = x->overlay; t; t = t->next)
        if (strcmp(t->name, name) == 0)
            return t;
    for (const struct ttree *t = x->set->trees; t; t = t->next)
        if (strcmp(t->name, name) == 0)
            return t;
    return NULL;
}

static int walk_list(struct texec *x, size_t base, struct tv dot, const struct tnode *l)
{
    for (size_t i = 0; i < l->u.list.n; i++) {
        int r = walk(x, base, dot, l->u.list.v[i]);
        if (r != WALK_OK)
            return r;
    }
    return WALK_OK;
}

static int walk_if_with(struct texec *x, size_t base, struct tv dot, const struct tnode *n)
{
    size_t mark = var_mark(x);
    struct tv v = eval_pipeline(x, base, dot, n->u.br.pipe);
    bool ok;
    bool truth = nd_tmpl__val_truth(&v, &ok);
    if (!ok) {
        char s[ND_ERRLEN];
        value_str(x, &v, s, sizeof s);
        nd_tmpl__exec_errorf(x, "if/with can't use %s", s);
    }
    int r = WALK_OK;
    if (truth)
        r = walk(x, base, n->kind == N_WITH ? v : dot, n->u.br.list);
    else if (n->u.br.elist)
        r = walk(x, base, dot, n->u.br.elist);
    var_pop(x, mark);
    return r;
}

static void set_top_var(struct texec *x, size_t n, struct tv v)
{
    x->vars[x->nvars - n].val = v;
}

static int walk_range(struct texec *x, size_t base, struct tv dot, const struct tnode *r)
{
    at(x, r);
    size_t mark0 = var_mark(x);
    struct tv val = eval_pipeline(x, base, dot, r->u.br.pipe);
    size_t ndecl = r->u.br.pipe->u.pipe.ndecl;
    size_t mark = var_mark(x);
    bool any = false;
    switch (val.k) {
    case TK_LIST: {
        size_t n = val.u.l ? val.u.l->n : 0;
        for (size_t i = 0; i < n; i++) {
            any = true;
            if (ndecl > 0)
                set_top_var(x, 1, val.u.l->v[i]);
            if (ndecl > 1)
                set_top_var(x, 2, nd_tmpl__val_int((int64_t)i));
            int rr = walk(x, base, val.u.l->v[i], r->u.br.list);
            var_pop(x, mark);
            if (rr == WALK_BREAK)
                break;
        }
        break;
    }
    case TK_MAP: {
        size_t n = val.u.m ? val.u.m->n : 0;
        for (size_t i = 0; i < n; i++) {
            any = true;
            struct tv e = nd_tmpl__val_str(val.u.m->v[i].p, val.u.m->v[i].n);
            if (ndecl > 0)
                set_top_var(x, 1, e);
            if (ndecl > 1)
                set_top_var(x, 2, nd_tmpl__val_str(val.u.m->k[i].p, val.u.m->k[i].n));
            int rr = walk(x, base, e, r->u.br.list);
            var_pop(x, mark);
            if (rr == WALK_BREAK)
                break;
        }
        break;
    }
    case TK_INVALID:
        break;
    case TK_OBJ:
        if (val.t->pointer && !val.u.o)
            break; /* a nil pointer: indirect gives an invalid value */
        /* fallthrough */
    default: {
        char s[ND_ERRLEN];
        value_str(x, &val, s, sizeof s);
        nd_tmpl__exec_errorf(x, "range can't iterate over %s", s);
    }
    }
    if (!any && r->u.br.elist)
        walk(x, base, dot, r->u.br.elist);
    var_pop(x, mark0);
    return WALK_OK;
}

static int walk_template(struct texec *x, size_t base, struct tv dot, const struct tnode *t)
{
    at(x, t);
    const struct ttree *tr = lookup(x, t->u.br.name);
    if (!tr)
        nd_tmpl__exec_errorf(x, "template \"%s\" not defined", t->u.br.name);
    if (x->depth >= x->set->max_depth)
        nd_tmpl__exec_errorf(x, "exceeded maximum template depth (%d)", x->set->max_depth);
    dot = eval_pipeline(x, base, dot, t->u.br.pipe);
    const char *saved_name = x->tmpl_name;
    size_t mark = var_mark(x);
    x->depth++;
    x->tmpl_name = tr->name;
    size_t nbase = x->nvars;
    var_push(x, "$", dot);
    walk(x, nbase, dot, tr->root);
    x->depth--;
    x->tmpl_name = saved_name;
    var_pop(x, mark);
    return WALK_OK;
}

static int walk(struct texec *x, size_t base, struct tv dot, const struct tnode *n)
{
    at(x, n);
    check_stack(x);
    switch (n->kind) {
    case N_ACTION: {
        struct tv v = eval_pipeline(x, base, dot, n->u.br.pipe);
        if (n->u.br.pipe->u.pipe.ndecl == 0)
            print_action_value(x, n, &v);
        return WALK_OK;
    }
    case N_BREAK:
        return WALK_BREAK;
    case N_CONTINUE:
        return WALK_CONTINUE;
    case N_IF:
    case N_WITH:
        return walk_if_with(x, base, dot, n);
    case N_LIST:
        return walk_list(x, base, dot, n);
    case N_RANGE:
        return walk_range(x, base, dot, n);
    case N_TEMPLATE:
        return walk_template(x, base, dot, n);
    case N_TEXT:
        if (x->html_mode)
            nd_tmpl__html_text(x, n->u.text.p, n->u.text.n);
        else
            nd_tmpl__exec_add(x, x->out, n->u.text.p, n->u.text.n);
        return WALK_OK;
    case N_COMMENT:
        return WALK_OK;
    }
    nd_tmpl__exec_errorf(x, "unknown node");
}

/* ---- entry points ---- */

static int run(const struct nd_template_set *s, const struct ttree *overlay, const char *name,
               const struct nd_template_data *data, enum nd_template_mode mode, struct nd_buf *out,
               char *err)
{
    struct texec *x = nd_xcalloc(1, sizeof(*x));
    char base_marker;
    x->stack_base = (uintptr_t)&base_marker;
    x->html_mode = mode == ND_TEMPLATE_HTML;
    x->set = s;
    x->overlay = overlay;
    x->out = out;
    x->err = err;
    x->tmpl_name = name;
    x->data = data;
    nd_tmpl__arena_init(&x->arena, s->mem_limit);
    int rc = ND_OK;
    if (setjmp(x->jb) == 0) {
        const struct ttree *t = lookup(x, name);
        if (!t) {
            snprintf(err, ND_ERRLEN, "template: no template \"%s\" associated with template \"%s\"",
                     name, name);
            rc = ND_EINVAL;
        } else {
            struct tv dot = data ? nd_tmpl__data_root(data) : nd_tmpl__val_invalid();
            var_push(x, "$", dot);
            walk(x, 0, dot, t->root);
        }
    } else {
        rc = strstr(err, "output exceeds the limit") ? ND_ETOOBIG : ND_EINVAL;
    }
    for (size_t i = 0; i < TX_MAX_BUFS; i++)
        if (x->buf_used[i])
            nd_buf_deinit(&x->bufs[i]);
    nd_tmpl__arena_free(&x->arena);
    free(x);
    return rc;
}

int nd_template_execute(const struct nd_template_set *s, const char *name,
                        const struct nd_template_data *data, struct nd_buf *out, char *err)
{
    return run(s, NULL, name, data, ND_TEMPLATE_TEXT, out, err);
}

int nd_template_execute_text(const struct nd_template_set *s, const char *tname, const char *text,
                             size_t len, const struct nd_template_data *data, struct nd_buf *out,
                             char *err)
{
    return nd_template_execute_text_mode(s, tname, text, len, data, ND_TEMPLATE_TEXT, out, err);
}

int nd_template_execute_text_mode(const struct nd_template_set *s, const char *tname,
                                  const char *text, size_t len, const struct nd_template_data *data,
                                  enum nd_template_mode mode, struct nd_buf *out, char *err)
{
    struct tarena a;
    nd_tmpl__arena_init(&a, 0);
    struct ttree *trees = NULL;
    int rc;
    if (nd_tmpl__parse(s, &a, tname, text, len, &trees, err) != 0) {
        rc = ND_EINVAL;
    } else {
        /* Go's associate(): an empty definition does not replace an existing one */
        struct ttree *kept = NULL;
        while (trees) {
            struct ttree *nx = trees->next;
            bool exists = false;
            for (const struct ttree *t = s->trees; t; t = t->next)
                if (strcmp(t->name, trees->name) == 0)
                    exists = true;
            if (!(exists && nd_tmpl__tree_empty(trees->root) && strcmp(trees->name, tname) != 0)) {
                trees->next = kept;
                kept = trees;
            }
            trees = nx;
        }
        rc = run(s, kept, tname, data, mode, out, err);
    }
    nd_tmpl__arena_free(&a);
    return rc;
}
