/* tmpl_int.h - internals of the template engine shared by the .c files of
 * src/template.
 *
 * The engine follows Go's text/template closely: a lexer and a recursive
 * descent parser build the same node kinds as text/template/parse, and the
 * evaluator walks them with Go's rules. Values carry a Go type descriptor so
 * that error messages and printing can name types as Go does.
 *
 * Memory: parse trees live in the set's arena, freed with the set. Values made
 * during one execution live in that execution's arena, freed when it returns
 * (with a ceiling, so a runaway template fails instead of eating memory).
 * Errors during execution unwind with longjmp to the entry point. Heap
 * buffers in use across a call that may unwind belong to the execution
 * (nd_tmpl__exec_buf), which frees them at its end whichever way it ends;
 * nothing else is allocated with malloc in between, so nothing leaks.
 *
 * Names: everything the layer's .c files share but other layers must not use
 * is spelt nd_tmpl__* (two underscores: private to src/template), in families
 * nd_tmpl__arena_* (parse arena), nd_tmpl__val_* (values and printing),
 * nd_tmpl__exec_* (one execution), nd_tmpl__type_* (Go type descriptors) and
 * plain nd_tmpl__* (lexer, parser, helpers). Public names are nd_template_*.
 */
#ifndef NOTIFYD_TMPL_INT_H
#define NOTIFYD_TMPL_INT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "notifyd/buf.h"
#include "notifyd/template.h"
#include "notifyd/util.h"

/* ---- arena ---- */

struct tchunk;
struct tarena {
    struct tchunk *head;
    size_t total; /* bytes handed out */
    size_t limit; /* 0 = none */
};
void nd_tmpl__arena_init(struct tarena *a, size_t limit);
void nd_tmpl__arena_free(struct tarena *a);
/* NULL only when the limit is hit. */
void *nd_tmpl__arena_alloc(struct tarena *a, size_t n);
char *nd_tmpl__arena_strndup(struct tarena *a, const char *s, size_t n);

/* ---- strings ---- */

struct tstr {
    const char *p;
    size_t n;
};

/* ---- values ---- */

enum tkind {
    TK_INVALID = 0, /* Go's invalid reflect.Value: prints "<no value>" */
    TK_NIL,         /* a nil interface: prints "<nil>" */
    TK_BOOL,
    TK_INT,
    TK_FLOAT,
    TK_STRING,
    TK_LIST,
    TK_MAP, /* map[string]string, keys sorted */
    TK_OBJ, /* a struct or a pointer to one: fields and methods via the type */
    TK_TIME,
    TK_FUNC,
    TK_COMPLEX,
};

enum tzone { TZ_UTC = 0, TZ_FIXED = 1, TZ_LOCAL = 2 };

struct ttype;
struct tfunc;
struct tlist;
struct tmap;

struct tv {
    uint8_t k;    /* enum tkind */
    uint8_t zone; /* TK_TIME: enum tzone */
    const struct ttype *t;
    union {
        bool b;
        int64_t i;
        double f;
        struct tstr s;
        const struct tlist *l;
        const struct tmap *m;
        const void *o;
        struct {
            int64_t sec;
            int32_t nsec;
            int32_t off;
        } tm;
        const struct tfunc *fn;
        struct {
            double re, im;
        } c;
    } u;
};

struct tlist {
    size_t n;
    const struct tv *v;
    size_t cap; /* Go's cap() when larger than n (slice bounds), else 0 */
};

struct tmap {
    size_t n;
    const struct tstr *k; /* sorted bytewise, unique */
    const struct tstr *v;
};

struct texec;

/* A Go function or method. `recv` is NULL for functions. Returns 0, or -1
 * with a message in err (the caller wraps it as "error calling NAME: ..."). */
typedef int (*tfn_impl)(struct texec *x, const struct tv *recv, const struct tv *args, int nargs,
                        struct tv *out, char *err);

/* Parameter types: a real type, or these markers. */
extern const struct ttype nd_tmpl__type_any;    /* interface{} */
extern const struct ttype nd_tmpl__type_rvalue; /* reflect.Value (builtins) */

#define TFN_MAXPARAMS 4
struct tfunc {
    const char *name;
    tfn_impl fn;
    int nparams;   /* fixed parameters (for variadic: the last one is the slice) */
    bool variadic; /* last parameter is ...elem; in[nparams-1] is the elem type */
    const struct ttype *in[TFN_MAXPARAMS];
    bool has_error; /* returns (value, error): Go's error path applies */
    bool builtin;   /* and/or short-circuit when builtin */
};

struct tfield {
    const char *name;
    struct tv (*get)(struct texec *x, const void *obj);
};

struct ttype {
    const char *name; /* Go's spelling, e.g. "string", "template.KV", "*template.Alert" */
    uint8_t kind;     /* enum tkind of its values */
    bool pointer;     /* printed as &{...} at top level */
    const struct ttype *elem;
    const struct tfunc *methods; /* sorted is not required; few entries */
    size_t nmethods;
    const struct tfield *fields;
    size_t nfields;
};

extern const struct ttype nd_tmpl__type_string, nd_tmpl__type_int, nd_tmpl__type_uint8,
    nd_tmpl__type_float, nd_tmpl__type_bool, nd_tmpl__type_strslice, nd_tmpl__type_time,
    nd_tmpl__type_anyslice, nd_tmpl__type_complex;

static inline struct tv nd_tmpl__val_invalid(void)
{
    struct tv v = {0};
    return v;
}
static inline struct tv nd_tmpl__val_nil(void)
{
    struct tv v = {0};
    v.k = TK_NIL;
    return v;
}
static inline struct tv nd_tmpl__val_bool(bool b)
{
    struct tv v = {0};
    v.k = TK_BOOL;
    v.t = &nd_tmpl__type_bool;
    v.u.b = b;
    return v;
}
static inline struct tv nd_tmpl__val_int(int64_t i)
{
    struct tv v = {0};
    v.k = TK_INT;
    v.t = &nd_tmpl__type_int;
    v.u.i = i;
    return v;
}
static inline struct tv nd_tmpl__val_float(double f)
{
    struct tv v = {0};
    v.k = TK_FLOAT;
    v.t = &nd_tmpl__type_float;
    v.u.f = f;
    return v;
}
static inline struct tv nd_tmpl__val_str(const char *p, size_t n)
{
    struct tv v = {0};
    v.k = TK_STRING;
    v.t = &nd_tmpl__type_string;
    v.u.s.p = p;
    v.u.s.n = n;
    return v;
}

/* ---- parse trees ---- */

enum nkind {
    N_TEXT,
    N_ACTION,
    N_IF,
    N_RANGE,
    N_WITH,
    N_TEMPLATE,
    N_BREAK,
    N_CONTINUE,
    N_LIST,
    N_PIPE,
    N_CMD,
    N_FIELD,
    N_VAR,
    N_CHAIN,
    N_IDENT,
    N_DOT,
    N_NIL,
    N_BOOL,
    N_NUMBER,
    N_STRING,
    N_COMMENT,
    N_END,
    N_ELSE,
};

/* The text one Parse call read: error positions are computed against it. */
struct tsrc {
    const char *name; /* Go's ParseName */
    const char *text;
    size_t len;
};

struct tnode {
    uint8_t kind;
    size_t pos; /* byte offset in src->text */
    int line;
    const struct tsrc *src;
    union {
        struct tstr text; /* N_TEXT */
        struct {          /* N_LIST */
            struct tnode **v;
            size_t n, cap;
        } list;
        struct {                 /* N_PIPE */
            struct tnode **decl; /* N_VAR */
            size_t ndecl;
            bool is_assign;
            struct tnode **cmds;
            size_t ncmds, capcmds;
        } pipe;
        struct { /* N_CMD */
            struct tnode **args;
            size_t nargs, cap;
        } cmd;
        struct {                 /* N_ACTION, N_IF, N_RANGE, N_WITH, N_TEMPLATE */
            struct tnode *pipe;  /* may be NULL for N_TEMPLATE */
            struct tnode *list;  /* N_IF/N_RANGE/N_WITH */
            struct tnode *elist; /* else list or NULL */
            const char *name;    /* N_TEMPLATE */
            bool else_with;      /* N_WITH: the else list is an "else with" chain */
        } br;
        struct {                /* N_FIELD, N_VAR, N_CHAIN */
            struct tstr *ident; /* N_VAR: ident[0] is "$x"; N_FIELD: without dots */
            size_t nident;
            struct tnode *node; /* N_CHAIN: the term */
        } id;
        struct { /* N_IDENT */
            const char *name;
        } fn;
        bool b;  /* N_BOOL */
        struct { /* N_NUMBER */
            struct tstr text;
            bool is_int, is_uint, is_float, is_complex;
            int64_t i;
            uint64_t u;
            double f;
            double re, im;
        } num;
        struct { /* N_STRING */
            struct tstr quoted;
            struct tstr val;
        } str;
    } u;
};

struct nd_tmpl_lang;
struct nd_re_cache;

struct ttree {
    const char *name;
    struct tnode *root; /* N_LIST */
    struct ttree *next; /* in the set's table */
};

/* ---- the set ---- */

struct nd_template_set {
    struct tarena arena;        /* trees, sources */
    struct ttree *trees;        /* linked list, newest first; lookups take the first match */
    const struct tfunc **funcs; /* added functions (the hook), searched before built-ins */
    size_t nfuncs, capfuncs;
    int max_depth;
    size_t mem_limit;
    const char *language; /* for translate and message */
    struct nd_tmpl_lang *lang;
    struct nd_re_cache *re_cache; /* compiled regexes, reused across renders */
    int err_line, err_col;        /* of the last failed nd_template_set_parse */
};

const struct tfunc *nd_tmpl__find_func(const struct nd_template_set *set, const char *name);
const struct tfunc *nd_tmpl__builtin(const char *name);
/* NM's and Alertmanager's functions (nmfuncs.c). */
const struct tfunc *nd_tmpl__nm_func(const char *name);
extern const struct ttype nd_tmpl__type_html;
/* The function-registry hook: later definitions win over earlier ones and
 * over the built-ins. The tfunc must outlive the set. */
void nd_tmpl__set_add_func(struct nd_template_set *s, const struct tfunc *f);
/* Prints like an action does: a pointer to a struct prints as the struct.
 * ND_OK, or ND_ETOOBIG when b's ceiling was hit (see nd_tmpl__val_print). */
int nd_tmpl__val_print_action(struct texec *x, struct nd_buf *b, const struct tv *v);

/* Parses `text` as ParseName `name`; fills a list of new trees (linked, newest
 * first) allocated in `arena`. 0, or -1 with Go's message in err. */
int nd_tmpl__parse(const struct nd_template_set *set, struct tarena *arena, const char *name,
                   const char *text, size_t len, struct ttree **out, char *err);
/* The same, also giving the line and 1-based byte column of an error (both
 * 0 when the error has no position). */
int nd_tmpl__parse_at(const struct nd_template_set *set, struct tarena *arena, const char *name,
                      const char *text, size_t len, struct ttree **out, char *err, int *line,
                      int *col);
/* Go's String() of a node. */
void nd_tmpl__node_string(const struct tnode *n, struct nd_buf *b);
/* Go's IsEmptyTree. */
bool nd_tmpl__tree_empty(const struct tnode *n);

/* ---- execution ---- */

struct tvar {
    const char *name;
    struct tv val;
};

/* The HTML mode's context (html.c). */
struct thtml {
    uint8_t state;
    char quote;       /* the attribute value's quote, 0 when unquoted */
    bool url;         /* the attribute holds a URL */
    uint8_t url_part; /* 0 none yet, 1 before the query, 2 in the query or fragment */
    char name[32];    /* the attribute's name */
    size_t namelen;
};

/* The most buffers one execution holds at once: the HTML escaper's four
 * (no use of nd_tmpl__exec_buf nests through printing a value, so this never grows
 * with the template or the data). */
#define TX_MAX_BUFS 8

struct texec {
    const struct nd_template_set *set;
    const struct ttree *overlay; /* trees of an anonymous parse, searched first */
    struct tarena arena;
    struct nd_buf *out;
    const struct tnode *node; /* Go's s.node, for error context */
    const char *tmpl_name;    /* the executing template's name */
    struct tvar *vars;
    size_t nvars, capvars;
    int depth;
    jmp_buf jb;
    char *err;
    const struct nd_template_data *data;
    bool html_mode;
    struct thtml html;
    uintptr_t stack_base; /* address of a local of the entry point */
    /* heap buffers in use across calls that may unwind (nd_tmpl__exec_buf) */
    struct nd_buf bufs[TX_MAX_BUFS];
    bool buf_used[TX_MAX_BUFS];
};

/* HTML mode: writes template text / an action's value (html.c). */
void nd_tmpl__html_text(struct texec *x, const char *s, size_t n);
void nd_tmpl__html_value(struct texec *x, const struct tnode *action, const struct tv *v);

_Noreturn void nd_tmpl__exec_errorf(struct texec *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void *nd_tmpl__exec_alloc(struct texec *x, size_t n);
struct tv nd_tmpl__exec_strdup(struct texec *x, const char *p, size_t n);
/* A buffer owned by the execution, for text built across calls that may
 * unwind (printing a value reads its fields, which may hit the memory limit;
 * a buffer on the C stack would leak its data then): the execution's end
 * frees it whichever way it ends. Empty, with the given ceiling. */
struct nd_buf *nd_tmpl__exec_buf(struct texec *x, size_t limit);
/* Frees b's data; gives b back when it came from nd_tmpl__exec_buf. */
void nd_tmpl__exec_buf_free(struct texec *x, struct nd_buf *b);
/* Makes a string value from a buffer's content and frees the buffer
 * (nd_tmpl__exec_buf_free), also when the copy fails and unwinds. */
struct tv nd_tmpl__exec_buf_value(struct texec *x, struct nd_buf *b);
/* Fails the execution with the output limit's error, naming the limit. */
_Noreturn void nd_tmpl__exec_limit_error(struct texec *x, size_t limit);
/* The same as a function's error: fills err, returns -1. */
int nd_tmpl__exec_limit_fn_error(char *err, size_t limit);

/* ---- checked output ---- */

/* Where text is built: appends stop at the first one that fails (the
 * buffer's ceiling) and rc keeps that failure, so the building is checked
 * once, at its end. The text is then either complete or an error, never
 * silently cut. */
struct tout {
    struct nd_buf *b;
    int rc; /* ND_OK, or the first failure (ND_ETOOBIG) */
};

static inline void tout_add(struct tout *o, const void *p, size_t n)
{
    if (!o->rc)
        o->rc = nd_buf_add(o->b, p, n);
}

static inline void tout_addc(struct tout *o, char c)
{
    tout_add(o, &c, 1);
}

static inline void tout_adds(struct tout *o, const char *s)
{
    tout_add(o, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static inline void tout_printf(struct tout *o,
                                                                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (!o->rc)
        o->rc = nd_buf_vprintf(o->b, fmt, ap);
    va_end(ap);
}

/* ---- values: printing, truth, comparison ---- */

const char *nd_tmpl__val_type_name(const struct tv *v);
/* Go's truthiness; false in *ok when the value has none (Go: "if/with can't use"). */
bool nd_tmpl__val_truth(const struct tv *v, bool *ok);
/* fmt.Sprint's %v of one value, appended to b. ND_OK, or ND_ETOOBIG when b's
 * ceiling was hit: printing stops there and b holds a cut output, which the
 * caller turns into an error (a print is never silently incomplete). The
 * fields of a struct are read while printing, which may unwind (the memory
 * limit): b must then belong to the execution (nd_tmpl__exec_buf). */
int nd_tmpl__val_print(struct texec *x, struct nd_buf *b, const struct tv *v);
/* fmt.Sprint / Sprintln / Sprintf semantics; the same results as nd_tmpl__val_print. */
int nd_tmpl__val_sprint(struct texec *x, struct nd_buf *b, const struct tv *args, int n);
int nd_tmpl__val_sprintln(struct texec *x, struct nd_buf *b, const struct tv *args, int n);
int nd_tmpl__val_sprintf(struct texec *x, struct nd_buf *b, const char *fmt, size_t fmtlen,
                         const struct tv *args, int n);
/* time.Time's String() and Format(layout), appended to b: ND_OK, or
 * ND_ETOOBIG when b's ceiling was hit. */
int nd_tmpl__val_time_format(struct nd_buf *b, const struct tv *t, const char *layout, size_t n);
int nd_tmpl__val_time_string(struct nd_buf *b, const struct tv *t);
/* UTF-8 decode: returns the rune, sets *w (>= 1); invalid bytes give 0xFFFD, w=1. */
int32_t nd_tmpl__utf8_decode(const char *s, size_t n, int *w);
void nd_tmpl__utf8_encode(struct nd_buf *b, int32_t r);
/* strconv.Quote (ascii=false) into b: ND_OK or ND_ETOOBIG (b's ceiling). */
int nd_tmpl__quote(struct nd_buf *b, const char *s, size_t n);
/* Checked buffer appends: an output past its ceiling is an execution error. */
void nd_tmpl__exec_add(struct texec *x, struct nd_buf *b, const char *p, size_t n);
/* Copies a buffer's text into an error buffer, truncated to ND_ERRLEN. */
void nd_tmpl__err_from_buf(char *err, const struct nd_buf *b);

/* ---- the data model (data.c) ---- */
extern const struct ttype nd_tmpl__type_kv, nd_tmpl__type_pairs, nd_tmpl__type_pair,
    nd_tmpl__type_alerts, nd_tmpl__type_alert, nd_tmpl__type_data;
struct tv nd_tmpl__data_root(const struct nd_template_data *d);
/* A pointer-to-struct value as its struct (for printing). */
struct tv nd_tmpl__deref(const struct tv *v);
/* Builds a []string value. */
struct tv nd_tmpl__strslice(struct texec *x, const struct tstr *items, size_t n);

/* ---- unicode helpers (lex.c: Go's unicode.IsLetter, IsDigit; value.c: IsPrint) ---- */
bool nd_tmpl__is_letter(int32_t r);
bool nd_tmpl__is_digit(int32_t r);
bool nd_tmpl__is_print(int32_t r);

#endif
