/* tmplconf.c - the template set of a config's [template] section, and the
 * check of a receiver's `template` key.
 *
 * Both run at config load (and in --check-config), so that a template that
 * does not compile or a receiver that names a template nobody defined stops
 * the daemon before it accepts alerts, instead of failing each delivery.
 */
#include <stdlib.h>
#include <string.h>

#include "notifyd/config.h"
#include "notifyd/template.h"
#include "tmpl_int.h"

/* Go's parse errors start with "template: NAME:LINE: "; the config message
 * names the full path, line and column instead, so that prefix goes. */
static const char *strip_go_prefix(const char *msg, const char *base)
{
    size_t blen = strlen(base);
    const char *p = msg;

    if (strncmp(p, "template: ", 10) != 0)
        return msg;
    p += 10;
    if (strncmp(p, base, blen) != 0 || p[blen] != ':')
        return msg;
    p += blen + 1;
    if (*p < '0' || *p > '9')
        return msg;
    while (*p >= '0' && *p <= '9')
        p++;
    return strncmp(p, ": ", 2) == 0 ? p + 2 : msg;
}

static void load_templates(struct nd_template_set *s, const struct nd_config *c,
                           struct nd_config_errors *errs)
{
    const struct nd_template_config *t = &c->tmpl;
    char err[ND_ERRLEN];

    for (size_t i = 0; i < t->nfiles; i++) {
        const char *path = t->files[i];
        if (nd_template_set_parse_file(s, path, err) == ND_OK)
            continue;
        int line, col;
        nd_template_set_error_pos(s, &line, &col);
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        if (line > 0)
            nd_config_error_add(errs, c->path, t->files_line, "template", "files", "%s:%d:%d: %s",
                                path, line, col, strip_go_prefix(err, base));
        else
            nd_config_error_add(errs, c->path, t->files_line, "template", "files", "%s", err);
    }
}

struct nd_template_set *nd_template_set_from_config(const struct nd_config *c,
                                                    struct nd_config_errors *errs)
{
    const struct nd_template_config *t = &c->tmpl;
    struct nd_template_set *s = nd_template_set_new();
    size_t before = errs->total;
    char err[ND_ERRLEN];

    if (nd_template_set_add_defaults(s, err) != ND_OK) {
        /* The defaults are ours and tested: this is a build defect. */
        nd_config_error_add(errs, c->path, 0, "template", NULL, "built-in templates: %s", err);
        nd_template_set_free(s);
        return NULL;
    }
    for (size_t i = 0; i < t->nlanguage_files; i++) {
        if (nd_template_set_load_language_file(s, t->language_files[i], err) != ND_OK)
            nd_config_error_add(errs, c->path, t->language_files_line, "template", "language_files",
                                "%s", err);
    }
    const char *lang = t->language ? t->language : "English";
    if (!nd_template_set_has_language(s, lang))
        nd_config_error_add(errs, c->path, t->language_line ? t->language_line : t->line,
                            "template", "language",
                            "unknown language \"%s\": want English, zh-cn or a language defined "
                            "in language_files",
                            lang);
    nd_template_set_language(s, lang);
    load_templates(s, c, errs);
    if (errs->total != before) {
        nd_template_set_free(s);
        return NULL;
    }
    return s;
}

int nd_template_check_ref(const struct nd_template_set *s, const char *name_or_call, char *err)
{
    struct nd_buf t;
    int rc = ND_OK;

    if (!name_or_call[0])
        return nd_seterr(err, ND_EINVAL, "empty template name");
    nd_buf_init(&t, strlen(name_or_call) + 32);
    if (nd_template_transform(name_or_call, &t) != ND_OK) {
        nd_buf_deinit(&t);
        return nd_seterr(err, ND_ETOOBIG, "template invocation too long");
    }
    /* A syntax error in an invocation given on the key shows here rather
     * than at every delivery. */
    struct tarena a;
    struct ttree *trees = NULL;
    nd_tmpl__arena_init(&a, 0);
    if (nd_tmpl__parse(s, &a, "", nd_buf_cstr(&t), t.len, &trees, err) != 0)
        rc = ND_EINVAL;
    nd_tmpl__arena_free(&a);
    /* Every {{template "x"}} it calls must exist: Go would only notice
     * at execution. */
    const char *text = nd_buf_cstr(&t);
    for (const char *p = text; rc == ND_OK && (p = strstr(p, "template"));) {
        const char *q = p + 8, *back = p;
        p = q;
        /* Only the keyword right after "{{" or "{{-" calls a template. */
        while (back > text && (back[-1] == ' ' || back[-1] == '\t'))
            back--;
        if (back > text && back[-1] == '-')
            back--;
        if (back - text < 2 || back[-1] != '{' || back[-2] != '{')
            continue;
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q != '"')
            continue;
        const char *end = strchr(q + 1, '"');
        if (!end)
            break;
        char *name = nd_xstrndup(q + 1, (size_t)(end - q - 1));
        if (!nd_template_set_lookup(s, name))
            rc = nd_seterr(err, ND_EINVAL,
                           "no template named \"%s\" (built-in names are nm.default.text, "
                           "nm.default.message, ...: see docs/templates.md)",
                           name);
        free(name);
        p = end + 1;
    }
    nd_buf_deinit(&t);
    return rc;
}
