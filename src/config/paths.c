/* paths.c - the file lists of [template] (files, language_files): paths
 * and glob patterns, expanded when the config is loaded. */
#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_int.h"
#include "notifyd/util.h"

#define MAX_TMPL_FILES 1000 /* files after glob expansion, per key */

struct path_ctx {
    const char *file;
    const char *section;
    struct nd_config_errors *errs;
};

#define CERR(c, kv, ...)                                                                           \
    nd_config_error_add((c)->errs, (c)->file, (kv)->line, (c)->section, (kv)->key, __VA_ARGS__)

void nd__config_free_paths(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void add_path(const struct path_ctx *c, const struct nd_config_kv *kv, char ***v, size_t *n,
                     const char *path)
{
    if (*n == MAX_TMPL_FILES) {
        if (strcmp((*v)[*n - 1], path) != 0)
            CERR(c, kv, "more than %d files", MAX_TMPL_FILES);
        return;
    }
    *v = nd_xrealloc(*v, (*n + 1) * sizeof **v);
    (*v)[(*n)++] = nd_xstrdup(path);
}

/* "a.tmpl, more/x*.tmpl" or one per line. A relative path is taken from the
 * config file's directory, so that a config and its templates can move
 * together. A pattern (with * ? or [) must match at least one file and a
 * plain path must be readable: a template that silently does not apply is
 * the most common complaint about NM. */
int nd__config_parse_paths(const char *file, const char *section, const struct nd_config_kv *kv,
                           char ***v, size_t *n, struct nd_config_errors *errs)
{
    const struct path_ctx ctx = {file, section, errs}, *c = &ctx;
    int rc = ND_OK;
    const char *slash = strrchr(c->file, '/');
    size_t dirlen = slash ? (size_t)(slash - c->file) + 1 : 0;

    nd__config_free_paths(*v, *n);
    *v = NULL;
    *n = 0;
    for (const char *p = kv->value; *p;) {
        size_t len = strcspn(p, ",\n");
        const char *s = p, *e = p + len;
        p = *e ? e + 1 : e;
        while (s < e && nd__config_is_blank(*s))
            s++;
        while (e > s && nd__config_is_blank(e[-1]))
            e--;
        if (s == e)
            continue;
        char *item = nd_xstrndup(s, (size_t)(e - s));
        char *path = item[0] == '/' || dirlen == 0
                         ? nd_xstrdup(item)
                         : nd_xasprintf("%.*s%s", (int)dirlen, c->file, item);
        if (strpbrk(item, "*?[")) {
            glob_t g;
            /* No GLOB_ERR: an unreadable or missing directory just
             * matches nothing, which is reported below. */
            int grc = glob(path, 0, NULL, &g);
            if (grc == GLOB_NOMATCH) {
                CERR(c, kv, "pattern \"%s\" matches no file", path);
                rc = ND_EINVAL;
            } else if (grc != 0) {
                CERR(c, kv, "pattern \"%s\": out of memory", path);
                rc = ND_EINVAL;
            } else {
                for (size_t i = 0; i < g.gl_pathc; i++)
                    add_path(c, kv, v, n, g.gl_pathv[i]);
            }
            if (grc == 0 || grc == GLOB_NOMATCH)
                globfree(&g);
        } else if (access(path, R_OK) != 0) {
            CERR(c, kv, "cannot read \"%s\": %s", path, strerror(errno));
            rc = ND_EINVAL;
        } else {
            add_path(c, kv, v, n, path);
        }
        free(path);
        free(item);
    }
    if (*n == 0 && rc == ND_OK) {
        CERR(c, kv, "empty list: give at least one file, or remove the key");
        rc = ND_EINVAL;
    }
    return rc;
}
