/* test_config_template.c - the [template] section: file lists and globs
 * (relative to the config file), language keys, and the set compiled from
 * them (nd_template_set_from_config): overrides of the defaults, language
 * packs, and compile errors naming the template file, line and column. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "notifyd/config.h"
#include "notifyd/template.h"
#include "notifyd/util.h"
#include "tap.h"

static char dir[] = "/tmp/nd-test-tmplcfg-XXXXXX";

static void put(const char *name, const char *content)
{
    char *path = nd_xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fputs(content, f);
    fclose(f);
    free(path);
}

/* Writes `ini` as DIR/NAME and loads it; errors joined in *all. */
static struct nd_config *load(const char *name, const char *ini, char **all, size_t *nerr)
{
    char *path = nd_xasprintf("%s/%s", dir, name);
    struct nd_config *c = NULL;
    struct nd_config_errors e;
    size_t len = 1;

    put(name, ini);
    nd_config_errors_init(&e);
    nd_config_load_file(path, &c, &e);
    for (size_t i = 0; i < e.n; i++)
        len += strlen(e.msgs[i]) + 1;
    *all = nd_xcalloc(1, len);
    for (size_t i = 0; i < e.n; i++) {
        strcat(*all, e.msgs[i]);
        strcat(*all, "\n");
        printf("# %s\n", e.msgs[i]);
    }
    *nerr = e.n;
    nd_config_errors_deinit(&e);
    free(path);
    return c;
}

#define RECV "[receiver.a]\ntype = console\n"

static void test_keys(void)
{
    char *all, *want;
    size_t n;
    struct nd_config *c;

    put("b.tmpl", "{{ define \"b\" }}B{{ end }}");
    put("a.tmpl", "{{ define \"a\" }}A{{ end }}");
    put("z.other", "{{ define \"z\" }}Z{{ end }}");
    char *sub = nd_xasprintf("%s/sub", dir);
    mkdir(sub, 0700);
    free(sub);
    put("sub/c.tmpl", "{{ define \"c\" }}C{{ end }}");
    put("lang.json", "[{\"name\": \"fr\", \"dictionary\": {\"firing\": \"EN COURS\"}}]");

    c = load("defaults.ini", RECV, &all, &n);
    ok(c != NULL, "no [template] section: loads");
    if (c) {
        is_uint(c->tmpl.nfiles, 0, "no files by default");
        is_str(c->tmpl.language, "English", "language defaults to English");
        is_int(c->tmpl.line, 0, "no section line");
    }
    nd_config_free(c);
    free(all);

    /* Relative paths are taken from the config's directory; a pattern's
     * matches come sorted, the list keeps its own order. */
    c = load("ok.ini",
             "[template]\n"
             "files = sub/c.tmpl, *.tmpl\n"
             "language = fr\n"
             "language_files = lang.json\n" RECV,
             &all, &n);
    ok(c != NULL, "[template] loads");
    if (c) {
        is_int(c->tmpl.line, 1, "section line");
        is_uint(c->tmpl.nfiles, 3, "three files");
        want = nd_xasprintf("%s/sub/c.tmpl", dir);
        is_str(c->tmpl.files[0], want, "a literal path, relative to the config file");
        free(want);
        want = nd_xasprintf("%s/a.tmpl", dir);
        is_str(c->tmpl.nfiles > 1 ? c->tmpl.files[1] : "", want, "glob matches sorted: a");
        free(want);
        want = nd_xasprintf("%s/b.tmpl", dir);
        is_str(c->tmpl.nfiles > 2 ? c->tmpl.files[2] : "", want, "then b (z.other not matched)");
        free(want);
        is_int(c->tmpl.files_line, 2, "files line");
        is_str(c->tmpl.language, "fr", "language");
        is_int(c->tmpl.language_line, 3, "language line");
        is_uint(c->tmpl.nlanguage_files, 1, "one language file");
        is_int(c->tmpl.language_files_line, 4, "language_files line");
    }
    nd_config_free(c);
    free(all);

    /* One per line works too (indented continuation lines). */
    want = nd_xasprintf("[template]\nfiles =\n  %s/a.tmpl\n  %s/b.tmpl\n" RECV, dir, dir);
    c = load("lines.ini", want, &all, &n);
    free(want);
    is_uint(c ? c->tmpl.nfiles : 0, 2, "a list over continuation lines, absolute paths");
    nd_config_free(c);
    free(all);

    c = load("bad.ini",
             "[template]\n"
             "files = a.tmpl, nowhere/*.tmpl, missing.tmpl\n"
             "language =\n"
             "language_files = ,\n"
             "colour = red\n" RECV,
             &all, &n);
    ok(c == NULL, "bad [template]: refused");
    want = nd_xasprintf(
        "bad.ini:2: [template] files: pattern \"%s/nowhere/*.tmpl\" matches no file", dir);
    has_str(all, want, "a pattern that matches nothing names the pattern");
    free(want);
    want = nd_xasprintf("bad.ini:2: [template] files: cannot read \"%s/missing.tmpl\": No such "
                        "file or directory",
                        dir);
    has_str(all, want, "a missing literal file is an error");
    free(want);
    has_str(all, "bad.ini:3: [template] language: empty value", "empty language");
    has_str(all, "bad.ini:4: [template] language_files: empty list", "empty list");
    has_str(all, "bad.ini:5: [template] colour: unknown key", "unknown key");
    is_uint(n, 5, "five errors");
    free(all);

    c = load("sec.ini", "[templates]\nfiles = a.tmpl\n" RECV, &all, &n);
    has_str(all,
            "sec.ini:1: [templates]: unknown section (known: server, queue, batch, delivery, "
            "template, routing, history, receiver.NAME, silence.NAME, inhibit.NAME, tenant.NAME,"
            " router.NAME)",
            "the section list names template");
    nd_config_free(c);
    free(all);
}

static struct nd_template_set *compile(const char *name, const char *ini, char **all)
{
    size_t n;
    struct nd_config *c = load(name, ini, all, &n);
    struct nd_config_errors e;
    struct nd_template_set *s = NULL;

    if (!c)
        return NULL;
    nd_config_errors_init(&e);
    s = nd_template_set_from_config(c, &e);
    size_t len = strlen(*all) + 1;
    for (size_t i = 0; i < e.n; i++)
        len += strlen(e.msgs[i]) + 1;
    *all = nd_xrealloc(*all, len);
    for (size_t i = 0; i < e.n; i++) {
        strcat(*all, e.msgs[i]);
        strcat(*all, "\n");
        printf("# %s\n", e.msgs[i]);
    }
    ok(s ? e.n == 0 : e.n > 0, "%s: a set, or errors", name);
    nd_config_errors_deinit(&e);
    nd_config_free(c);
    return s;
}

static char *render(const struct nd_template_set *s, const char *name_or_call)
{
    static const char payload[] =
        "{\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":\"Disk\"},"
        "\"annotations\":{\"summary\":\"disk full\"},\"startsAt\":\"2026-11-26T10:00:00Z\"}],"
        "\"groupLabels\":{},\"commonLabels\":{\"alertname\":\"Disk\"},\"commonAnnotations\":{}}";
    char err[ND_ERRLEN];
    struct nd_template_data *d = nd_template_data_from_json(payload, strlen(payload), err);
    struct nd_buf b;
    char *out;

    if (!d)
        return nd_xasprintf("(data: %s)", err);
    nd_buf_init(&b, 1 << 20);
    if (nd_template_text(s, name_or_call, d, &b, err) != ND_OK)
        out = nd_xasprintf("(error: %s)", err);
    else
        out = nd_xstrdup(nd_buf_cstr(&b));
    nd_buf_deinit(&b);
    nd_template_data_free(d);
    return out;
}

static void test_compile(void)
{
    char *all, *out, *want;
    struct nd_template_set *s;

    /* No section: the built-in defaults, English. */
    s = compile("plain.ini", RECV, &all);
    ok(s != NULL, "defaults compile");
    out = s ? render(s, "nm.default.subject") : NULL;
    is_str(out, "[FIRING] disk full", "nm.default.subject from the defaults");
    free(out);
    nd_template_set_free(s);
    free(all);

    /* A user file overrides a default; later files override earlier ones. */
    put("o1.tmpl", "{{ define \"nm.default.message\" }}first {{ .Labels.alertname }}{{ end }}"
                   "{{ define \"mine\" }}mine-1{{ end }}");
    put("o2.tmpl", "{{ define \"mine\" }}mine-2 {{ translate \"firing\" }}{{ end }}");
    s = compile("over.ini",
                "[template]\nfiles = o1.tmpl, o2.tmpl\nlanguage = fr\n"
                "language_files = lang.json\n" RECV,
                &all);
    ok(s != NULL, "user files compile");
    out =
        s ? render(s, "{{ range .Alerts }}{{ template \"nm.default.message\" . }}{{ end }}") : NULL;
    is_str(out, "first Disk", "a user file overrides a default definition");
    free(out);
    out = s ? render(s, "mine") : NULL;
    is_str(out, "mine-2 EN COURS", "the later file wins; the pack's language is used");
    free(out);
    nd_template_set_free(s);
    free(all);

    s = compile("zh.ini", "[template]\nlanguage = zh-cn\n" RECV, &all);
    out = s ? render(s, "nm.default.subject") : NULL;
    is_str(out, "[触发中] disk full", "built-in zh-cn");
    free(out);
    nd_template_set_free(s);
    free(all);

    /* Compile errors: config file and line of the key, then the template
     * file, line and column. */
    put("bad.tmpl", "{{ define \"x\" }}\nok\n  {{ .Labels | nosuch }}\n{{ end }}\n");
    s = compile("bad.ini", "[receiver.a]\ntype = console\n\n[template]\nfiles = a.tmpl, bad.tmpl\n",
                &all);
    ok(s == NULL, "a template that does not compile fails the load");
    want = nd_xasprintf("%s/bad.ini:5: [template] files: %s/bad.tmpl:3:16: function \"nosuch\" "
                        "not defined\n",
                        dir, dir);
    has_str(all, want, "the error names the template file, line and column");
    free(want);
    free(all);

    put("bad2.tmpl", "{{ define \"y\" }}\n{{ if .Alerts }}\n{{ end }}\n{{ end }}{{ end }}");
    s = compile("bad2.ini", "[template]\nfiles = bad2.tmpl\n" RECV, &all);
    ok(s == NULL, "an unbalanced {{end}} fails");
    want = nd_xasprintf("%s/bad2.tmpl:4:13: unexpected {{end}}", dir);
    has_str(all, want, "Go's message, at the second end (line 4 column 13)");
    free(want);
    free(all);

    put("bad.json", "{\"name\": 3}");
    s = compile("lang.ini", "[template]\nlanguage = xx\nlanguage_files = bad.json\n" RECV, &all);
    ok(s == NULL, "a bad pack and an unknown language fail");
    has_str(all, "lang.ini:3: [template] language_files: ", "the pack error names its key");
    has_str(all, "lang.ini:2: [template] language: unknown language \"xx\"",
            "an unknown language names its key");
    free(all);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_keys();
    test_compile();
    char *cmd = nd_xasprintf("rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    free(cmd);
    return done_testing();
}
