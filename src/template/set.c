/* set.c - template sets: compiling sources into named templates, lookup,
 * and NM's Text()/Transform() entry points.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/regex.h"
#include "fn/defaults_int.h"
#include "fn/fn_int.h"
#include "fn/lang_int.h"
#include "tmpl_int.h"

/* Compiled regexes kept per set: templates reuse a few patterns. */
#define RE_CACHE_MAX 64

struct nd_template_set *nd_template_set_new(void)
{
    struct nd_template_set *s = nd_xcalloc(1, sizeof(*s));
    nd_tmpl__arena_init(&s->arena, 0);
    s->max_depth = ND_TEMPLATE_MAX_DEPTH;
    s->mem_limit = ND_TEMPLATE_MEM_LIMIT;
    s->language = ND_TMPL_LANG_DEFAULT;
    s->lang = nd_tmpl_lang_new();
    s->re_cache = nd_re_cache_new(RE_CACHE_MAX);
    return s;
}

void nd_template_set_free(struct nd_template_set *s)
{
    if (!s)
        return;
    nd_tmpl__arena_free(&s->arena);
    nd_tmpl_lang_free(s->lang);
    nd_re_cache_free(s->re_cache);
    free(s->funcs);
    free(s);
}

void nd_tmpl__set_add_func(struct nd_template_set *s, const struct tfunc *f)
{
    if (s->nfuncs == s->capfuncs) {
        s->capfuncs = s->capfuncs ? s->capfuncs * 2 : 16;
        s->funcs = nd_xrealloc(s->funcs, s->capfuncs * sizeof(*s->funcs));
    }
    s->funcs[s->nfuncs++] = f;
}

void nd_template_set_language(struct nd_template_set *s, const char *language)
{
    s->language = nd_tmpl__arena_strndup(&s->arena, language, strlen(language));
}

int nd_template_set_load_language_file(struct nd_template_set *s, const char *path, char *err)
{
    return nd_tmpl_lang_load_file(s->lang, path, err);
}

int nd_template_set_add_defaults(struct nd_template_set *s, char *err)
{
    for (size_t i = 0; i < nd_tmpl_nbuiltins; i++) {
        const char *t = nd_tmpl_builtins[i].text;
        int rc = nd_template_set_parse(s, nd_tmpl_builtins[i].name, t, strlen(t), err);
        if (rc != ND_OK)
            return rc;
    }
    return ND_OK;
}

static bool exists(const struct nd_template_set *s, const char *name)
{
    for (const struct ttree *t = s->trees; t; t = t->next)
        if (strcmp(t->name, name) == 0)
            return true;
    return false;
}

int nd_template_set_parse(struct nd_template_set *s, const char *name, const char *text, size_t len,
                          char *err)
{
    struct ttree *trees = NULL;
    /* Parse into the set's arena: on error the partial trees stay there,
     * unreachable, until the set is freed (a failed config load frees it). */
    if (nd_tmpl__parse_at(s, &s->arena, name, text, len, &trees, err, &s->err_line, &s->err_col) !=
        0)
        return ND_EINVAL;
    /* Go's associate(): a new definition replaces an old one, except that an
     * empty one does not replace an existing template. */
    while (trees) {
        struct ttree *nx = trees->next;
        if (!(exists(s, trees->name) && nd_tmpl__tree_empty(trees->root))) {
            trees->next = s->trees;
            s->trees = trees;
        }
        trees = nx;
    }
    return ND_OK;
}

int nd_template_set_parse_file(struct nd_template_set *s, const char *path, char *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return nd_seterr(err, ND_EINVAL, "open %s: %s", path, strerror(errno));
    struct nd_buf b;
    nd_buf_init(&b, 64u << 20);
    char chunk[8192];
    size_t n;
    int rc = ND_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (nd_buf_add(&b, chunk, n) != ND_OK) {
            rc = nd_seterr(err, ND_ETOOBIG, "%s: file too large", path);
            break;
        }
    }
    if (rc == ND_OK && ferror(f))
        rc = nd_seterr(err, ND_EINVAL, "read %s: %s", path, strerror(errno));
    fclose(f);
    if (rc == ND_OK) {
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        rc = nd_template_set_parse(s, base, nd_buf_cstr(&b), b.len, err);
    }
    nd_buf_deinit(&b);
    return rc;
}

void nd_template_set_error_pos(const struct nd_template_set *s, int *line, int *col)
{
    *line = s->err_line;
    *col = s->err_col;
}

bool nd_template_set_has_language(const struct nd_template_set *s, const char *language)
{
    return nd_tmpl_lang_has(s->lang, language) != 0;
}

bool nd_template_set_lookup(const struct nd_template_set *s, const char *name)
{
    for (const struct ttree *t = s->trees; t; t = t->next)
        if (strcmp(t->name, name) == 0)
            return t->root != NULL;
    return false;
}

/* NM's Transform: whether `n` (spaces removed) contains a match of the
 * regex {{template"(.*?)".}} */
static bool is_invocation(const char *name)
{
    size_t len = strlen(name);
    char *n = nd_xmalloc(len + 1);
    size_t k = 0;
    for (size_t i = 0; i < len; i++)
        if (name[i] != ' ')
            n[k++] = name[i];
    n[k] = '\0';
    bool found = false;
    for (const char *p = strstr(n, "{{template\""); p && !found;
         p = strstr(p + 1, "{{template\"")) {
        for (const char *q = p + 11; *q && *q != '\n'; q++) {
            if (q[0] == '"' && q[1] && q[1] != '\n' && q[2] == '}' && q[3] == '}') {
                found = true;
                break;
            }
        }
    }
    free(n);
    return found;
}

int nd_template_transform(const char *name_or_call, struct nd_buf *out)
{
    if (is_invocation(name_or_call))
        return nd_buf_adds(out, name_or_call);
    return nd_buf_printf(out, "{{ template \"%s\" . }}", name_or_call);
}

/* The invocation's ceiling: the name and the words around it. */
static size_t transform_limit(const char *name_or_call)
{
    return strlen(name_or_call) + 32;
}

static int text_or_html(const struct nd_template_set *s, const char *name_or_call,
                        const struct nd_template_data *data, enum nd_template_mode mode,
                        struct nd_buf *out, char *err)
{
    struct nd_buf t;
    nd_buf_init(&t, transform_limit(name_or_call));
    size_t start = out->len;
    int rc = nd_template_transform(name_or_call, &t);
    if (rc != ND_OK)
        nd_seterr(err, rc, "template: invocation of \"%s\" too long", name_or_call);
    else
        rc = nd_template_execute_text_mode(s, "", nd_buf_cstr(&t), t.len, data, mode, out, err);
    nd_buf_deinit(&t);
    if (rc == ND_OK) {
        /* NM's cleanSuffix */
        while (out->len > start) {
            char c = out->data[out->len - 1];
            if (c != ' ' && c != '\n' && c != '\r')
                break;
            out->len--;
        }
        if (out->data)
            out->data[out->len] = '\0';
    }
    return rc;
}

int nd_template_text(const struct nd_template_set *s, const char *name_or_call,
                     const struct nd_template_data *data, struct nd_buf *out, char *err)
{
    return text_or_html(s, name_or_call, data, ND_TEMPLATE_TEXT, out, err);
}

int nd_template_html(const struct nd_template_set *s, const char *name_or_call,
                     const struct nd_template_data *data, struct nd_buf *out, char *err)
{
    return text_or_html(s, name_or_call, data, ND_TEMPLATE_HTML, out, err);
}
