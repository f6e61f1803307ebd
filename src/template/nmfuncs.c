/* nmfuncs.c - Notification Manager's and Alertmanager's template functions
 * (toUpper toLower title trimSpace join match reReplaceAll safeHtml
 * stringSlice escape translate message), wrapping the plain-C string,
 * regex and language code of src/template/fn into template functions with
 * Go's signatures.
 */
#include <stdio.h>
#include <string.h>

#include "fn/fn_int.h"
#include "fn/lang_int.h"
#include "tmpl_int.h"

/* html/template.HTML: a string type of its own (not assignable to string). */
const struct ttype nd_tmpl__type_html = {.name = "template.HTML", .kind = TK_STRING};

/* Runs a buffer-producing string function; the result becomes a value. */
static int wrap_buf(struct texec *x, int (*f)(struct nd_buf *, const char *, size_t),
                    const struct tv *a, struct tv *out, char *err)
{
    struct nd_buf b;
    nd_buf_init(&b, x->out->limit);
    if (f(&b, a[0].u.s.p, a[0].u.s.n) != ND_OK) {
        nd_buf_deinit(&b);
        snprintf(err, ND_ERRLEN, "result exceeds %zu bytes", x->out->limit);
        return -1;
    }
    *out = nd_tmpl__exec_buf_value(x, &b);
    return 0;
}

static int fn_toupper(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                      struct tv *out, char *err)
{
    return wrap_buf(x, nd_tmpl_to_upper, a, out, err);
}

static int fn_tolower(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                      struct tv *out, char *err)
{
    return wrap_buf(x, nd_tmpl_to_lower, a, out, err);
}

static int fn_title(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                    struct tv *out, char *err)
{
    return wrap_buf(x, nd_tmpl_title, a, out, err);
}

static int fn_escape(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                     struct tv *out, char *err)
{
    return wrap_buf(x, nd_tmpl_escape, a, out, err);
}

static int fn_trimspace(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                        struct tv *out, char *err)
{
    size_t off, len;
    nd_tmpl_trim_space(a[0].u.s.p, a[0].u.s.n, &off, &len);
    *out = nd_tmpl__val_str(a[0].u.s.p + off, len);
    return 0;
}

static int fn_join(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                   struct tv *out, char *err)
{
    const struct tlist *l = a[1].u.l;
    size_t cnt = l ? l->n : 0;
    const char **items = nd_tmpl__exec_alloc(x, (cnt + 1) * sizeof(*items));
    size_t *lens = nd_tmpl__exec_alloc(x, (cnt + 1) * sizeof(*lens));
    for (size_t i = 0; i < cnt; i++) {
        items[i] = l->v[i].u.s.p;
        lens[i] = l->v[i].u.s.n;
    }
    struct nd_buf b;
    nd_buf_init(&b, x->out->limit);
    if (nd_tmpl_join(&b, a[0].u.s.p, a[0].u.s.n, items, lens, cnt) != ND_OK) {
        nd_buf_deinit(&b);
        snprintf(err, ND_ERRLEN, "result exceeds %zu bytes", x->out->limit);
        return -1;
    }
    *out = nd_tmpl__exec_buf_value(x, &b);
    return 0;
}

static struct nd_re_cache *re_cache(struct texec *x)
{
    return x->set->re_cache;
}

static int fn_match(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                    struct tv *out, char *err)
{
    int m = 0;
    if (nd_tmpl_match(re_cache(x), a[0].u.s.p, a[0].u.s.n, a[1].u.s.p, a[1].u.s.n, &m, err) !=
        ND_OK)
        return -1;
    *out = nd_tmpl__val_bool(m != 0);
    return 0;
}

static int fn_rereplaceall(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                           struct tv *out, char *err)
{
    struct nd_buf b;
    nd_buf_init(&b, x->out->limit);
    if (nd_tmpl_re_replace_all(re_cache(x), a[0].u.s.p, a[0].u.s.n, a[1].u.s.p, a[1].u.s.n,
                               a[2].u.s.p, a[2].u.s.n, &b, err) != ND_OK) {
        nd_buf_deinit(&b);
        return -1;
    }
    *out = nd_tmpl__exec_buf_value(x, &b);
    return 0;
}

static int fn_safehtml(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                       struct tv *out, char *err)
{
    *out = a[0];
    out->t = &nd_tmpl__type_html;
    return 0;
}

static const char *language(const struct texec *x)
{
    return x->set->language ? x->set->language : ND_TMPL_LANG_DEFAULT;
}

static int fn_translate(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                        struct tv *out, char *err)
{
    size_t len = 0;
    const char *t = nd_tmpl_translate(x->set->lang, language(x), a[0].u.s.p, a[0].u.s.n, &len);
    if (t == a[0].u.s.p)
        *out = nd_tmpl__val_str(t, len);
    else
        *out = nd_tmpl__exec_strdup(x, t, len); /* the pack may change after this render */
    return 0;
}

static int fn_message(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                      struct tv *out, char *err)
{
    if (!a[0].u.o) {
        /* Go calls the method on a nil *Alert and panics */
        snprintf(err, ND_ERRLEN,
                 "runtime error: invalid memory address or nil pointer dereference");
        return -1;
    }
    const char *m = strcmp(language(x), "zh-cn") == 0 ? "MessageCN" : "Message";
    for (size_t i = 0; i < nd_tmpl__type_alert.nmethods; i++)
        if (strcmp(nd_tmpl__type_alert.methods[i].name, m) == 0)
            return nd_tmpl__type_alert.methods[i].fn(x, &a[0], NULL, 0, out, err);
    return -1;
}

static const struct tfunc nm_funcs[] = {
    {"escape", fn_escape, 1, false, {&nd_tmpl__type_string}, false, false},
    {"join", fn_join, 2, false, {&nd_tmpl__type_string, &nd_tmpl__type_strslice}, false, false},
    {"match", fn_match, 2, false, {&nd_tmpl__type_string, &nd_tmpl__type_string}, true, false},
    {"message", fn_message, 1, false, {&nd_tmpl__type_alert}, false, false},
    {"reReplaceAll",
     fn_rereplaceall,
     3,
     false,
     {&nd_tmpl__type_string, &nd_tmpl__type_string, &nd_tmpl__type_string},
     false,
     false},
    {"safeHtml", fn_safehtml, 1, false, {&nd_tmpl__type_string}, false, false},
    {"title", fn_title, 1, false, {&nd_tmpl__type_string}, false, false},
    {"toLower", fn_tolower, 1, false, {&nd_tmpl__type_string}, false, false},
    {"toUpper", fn_toupper, 1, false, {&nd_tmpl__type_string}, false, false},
    {"translate", fn_translate, 1, false, {&nd_tmpl__type_string}, false, false},
    {"trimSpace", fn_trimspace, 1, false, {&nd_tmpl__type_string}, false, false},
};

const struct tfunc *nd_tmpl__nm_func(const char *name)
{
    for (size_t i = 0; i < ND_ARRAY_LEN(nm_funcs); i++)
        if (strcmp(nm_funcs[i].name, name) == 0)
            return &nm_funcs[i];
    return NULL;
}
