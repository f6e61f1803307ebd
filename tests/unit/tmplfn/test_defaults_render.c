/* The default templates rendered by the engine, byte for byte against what
 * Go's text/template and html/template gave for the same files and payloads
 * (tests/unit/tmplfn/defaults/, written by tools/tmplcheck 'defaults').
 *
 * Every CASE.NAME.LANG.out of the directory is rendered and compared: the
 * list comes from the directory itself, so an expected file cannot go
 * unchecked; and every built-in name is required to have its files, so a
 * missing file fails too. NAME runs with the payload CASE.json as its dot;
 * the per-alert templates (nm.default.message, nm.default.message.cn,
 * nm.feishu.message) with its first alert, as the generator did; nm.html
 * and nm.default.html in the HTML mode. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/template.h"
#include "notifyd/util.h"
#include "tap.h"

#define MAX_FILE (1 << 20)

static const char *const text_names[] = {
    "nm.default.message", "nm.default.message.cn", "nm.default.subject",
    "nm.subject",         "nm.default.text",       "nm.default.markdown",
    "nm.feishu.message",  "nm.feishu.post",        "nm.feishu.text",
};
static const char *const html_names[] = {"nm.default.html", "nm.html"};
static const char *const per_alert[] = {"nm.default.message", "nm.default.message.cn",
                                        "nm.feishu.message"};
static const char *const cases[] = {"one", "mixed", "resolved2", "none", "unsafe"};
static const char *const langs[] = {"English", "zh-cn"};

static bool in(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

static char *slurp(const char *dir, const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *p = malloc(MAX_FILE + 1);
    *len = fread(p, 1, MAX_FILE, f);
    p[*len] = '\0';
    fclose(f);
    return p;
}

/* Renders NAME over CASE.json in LANG and compares with the file. */
static void check_file(const char *dir, const char *file)
{
    /* CASE.NAME.LANG.out: CASE has no dot, NAME has some */
    char c[64], name[128], lang[32];
    const char *dot1 = strchr(file, '.');
    const char *end = file + strlen(file) - 4; /* ".out" */
    const char *dot3 = end;
    while (dot3 > dot1 && dot3[-1] != '.')
        dot3--;
    if (!dot1 || dot3 <= dot1 + 1 || (size_t)(dot1 - file) >= sizeof c ||
        (size_t)(dot3 - dot1 - 2) >= sizeof name || (size_t)(end - dot3) >= sizeof lang) {
        ok(0, "%s: not CASE.NAME.LANG.out", file);
        return;
    }
    snprintf(c, sizeof c, "%.*s", (int)(dot1 - file), file);
    snprintf(name, sizeof name, "%.*s", (int)(dot3 - dot1 - 2), dot1 + 1);
    snprintf(lang, sizeof lang, "%.*s", (int)(end - dot3), dot3);

    char json_name[96], err[ND_ERRLEN] = "";
    snprintf(json_name, sizeof json_name, "%s.json", c);
    size_t wlen = 0, jlen = 0;
    char *want = slurp(dir, file, &wlen);
    char *json = slurp(dir, json_name, &jlen);
    struct nd_template_set *s = nd_template_set_new();
    struct nd_template_data *d = json ? nd_template_data_from_json(json, jlen, err) : NULL;
    struct nd_buf out;
    nd_buf_init(&out, MAX_FILE);
    int rc = ND_EINVAL;
    if (d && nd_template_set_add_defaults(s, err) == ND_OK) {
        nd_template_set_language(s, lang);
        char call[256];
        snprintf(call, sizeof call, "{{ template \"%s\" %s }}", name,
                 in(per_alert, ND_ARRAY_LEN(per_alert), name) ? "(index .Alerts 0)" : ".");
        bool html = in(html_names, ND_ARRAY_LEN(html_names), name);
        rc = nd_template_execute_text_mode(s, "", call, strlen(call), d,
                                           html ? ND_TEMPLATE_HTML : ND_TEMPLATE_TEXT, &out, err);
    }
    /* An empty expected output leaves out.data NULL: memcmp must not see it. */
    bool same =
        rc == ND_OK && want && out.len == wlen && (wlen == 0 || memcmp(out.data, want, wlen) == 0);
    ok(same, "%s", file);
    if (!same)
        printf("# rc %d %s\n# got:  %s\n# want: %s\n", rc, err, nd_buf_cstr(&out),
               want ? want : "(no file)");
    nd_buf_deinit(&out);
    nd_template_data_free(d);
    nd_template_set_free(s);
    free(json);
    free(want);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "tests/unit/tmplfn/defaults";
    DIR *dp = opendir(dir);
    ok(dp != NULL, "open %s", dir);
    if (!dp)
        return done_testing();
    char **files = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".out") == 0) {
            files = realloc(files, (n + 1) * sizeof *files);
            files[n++] = strdup(e->d_name);
        }
    }
    closedir(dp);

    /* every built-in name has its file for every case and language (the
     * per-alert ones but for the case without alerts) */
    size_t expected = 0;
    for (size_t ci = 0; ci < ND_ARRAY_LEN(cases); ci++) {
        for (size_t li = 0; li < ND_ARRAY_LEN(langs); li++) {
            for (size_t k = 0; k < ND_ARRAY_LEN(text_names) + ND_ARRAY_LEN(html_names); k++) {
                const char *nm = k < ND_ARRAY_LEN(text_names)
                                     ? text_names[k]
                                     : html_names[k - ND_ARRAY_LEN(text_names)];
                if (strcmp(cases[ci], "none") == 0 && in(per_alert, ND_ARRAY_LEN(per_alert), nm))
                    continue;
                char f[256];
                snprintf(f, sizeof f, "%s.%s.%s.out", cases[ci], nm, langs[li]);
                expected++;
                if (!in((const char *const *)files, n, f))
                    ok(0, "%s exists", f);
            }
        }
    }
    is_int(n, expected, "%zu expected files, each compared below", expected);
    for (size_t i = 0; i < n; i++) {
        check_file(dir, files[i]);
        free(files[i]);
    }
    free(files);
    return done_testing();
}
