/* test_reload.c - what a reload compares (reload.h): a receiver is kept
 * only when its type, keys, values and inherited [delivery] defaults are
 * unchanged (not when only its place in the file moved); template inputs
 * change with a file's contents; the restart-only keys are named. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notifyd/config.h"
#include "notifyd/reload.h"
#include "notifyd/util.h"
#include "tap.h"

static struct nd_config *load(const char *text)
{
    struct nd_config *c = NULL;
    struct nd_config_errors errs;
    nd_config_errors_init(&errs);
    if (nd_config_load_string(text, "t.ini", &c, &errs) != ND_OK) {
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "# %s\n", errs.msgs[i]);
        abort();
    }
    nd_config_errors_deinit(&errs);
    return c;
}

static const struct nd_receiver_config *rcv(const struct nd_config *c, const char *name)
{
    for (size_t i = 0; i < c->nreceivers; i++)
        if (strcmp(c->receivers[i].name, name) == 0)
            return &c->receivers[i];
    abort();
}

/* Whether receiver `name` has the same fingerprint in both configs. */
static int same(const struct nd_config *a, const struct nd_config *b, const char *name)
{
    char *fa = nd_reload_receiver_fp(rcv(a, name), &a->delivery);
    char *fb = nd_reload_receiver_fp(rcv(b, name), &b->delivery);
    int eq = strcmp(fa, fb) == 0;
    free(fa);
    free(fb);
    return eq;
}

#define BASE "[server]\nlisten = 127.0.0.1:0\n"
#define HOOK "[receiver.h]\ntype = webhook\nurl = http://127.0.0.1:1/x\n"
#define CONS "[receiver.c]\ntype = console\n"

static void test_receivers(void)
{
    struct nd_config *a = load(BASE HOOK CONS);
    struct nd_config *moved = load(BASE "\n\n# comment\n" CONS "\n" HOOK);
    struct nd_config *url =
        load(BASE "[receiver.h]\ntype = webhook\nurl = http://127.0.0.1:2/x\n" CONS);
    struct nd_config *extra = load(BASE HOOK "max_in_flight = 3\n" CONS);
    struct nd_config *dlv = load(BASE "[delivery]\ntimeout = 7s\n" HOOK CONS);
    struct nd_config *type = load(BASE "[receiver.h]\ntype = console\n" CONS);
    /* A value that contains what a naive join would use as separators. */
    struct nd_config *s1 = load(BASE "[receiver.h]\ntype = webhook\nurl = a;b\n");
    struct nd_config *s2 = load(BASE "[receiver.h]\ntype = webhook\nurl = a\nb = \n");

    ok(same(a, moved, "h") && same(a, moved, "c"), "sections moved in the file: kept");
    ok(!same(a, url, "h"), "url changed: rebuilt");
    ok(same(a, url, "c"), "the other receiver is kept");
    ok(!same(a, extra, "h"), "a key added: rebuilt");
    ok(!same(a, dlv, "h") && !same(a, dlv, "c"), "[delivery] defaults changed: all rebuilt");
    ok(!same(a, type, "h"), "type changed: rebuilt");
    ok(!same(s1, s2, "h"), "values cannot imitate key boundaries");
    nd_config_free(a);
    nd_config_free(moved);
    nd_config_free(url);
    nd_config_free(extra);
    nd_config_free(dlv);
    nd_config_free(type);
    nd_config_free(s1);
    nd_config_free(s2);
}

static void test_templates(void)
{
    char dir[] = "/tmp/nd-test-reload-XXXXXX";
    if (!mkdtemp(dir))
        abort();
    char *path = nd_xasprintf("%s/a.tmpl", dir);
    FILE *f = fopen(path, "w");
    fputs("{{ define \"x\" }}one{{ end }}", f);
    fclose(f);
    struct nd_template_config t;
    memset(&t, 0, sizeof t);
    char *files[] = {path};
    t.files = files;
    t.nfiles = 1;
    char *f1 = nd_reload_template_fp(&t);
    char *f1b = nd_reload_template_fp(&t);
    is_str(f1, f1b, "same file, same fingerprint");
    f = fopen(path, "w");
    fputs("{{ define \"x\" }}two{{ end }}", f);
    fclose(f);
    char *f2 = nd_reload_template_fp(&t);
    ok(strcmp(f1, f2) != 0, "contents changed: different fingerprint");
    char lang[] = "Chinese";
    t.language = lang;
    char *f3 = nd_reload_template_fp(&t);
    ok(strcmp(f2, f3) != 0, "language changed: different fingerprint");
    unlink(path);
    char *f4 = nd_reload_template_fp(&t);
    ok(strcmp(f3, f4) != 0, "file gone: different fingerprint");
    rmdir(dir);
    free(f1);
    free(f1b);
    free(f2);
    free(f3);
    free(f4);
    free(path);
}

static void test_restart_keys(void)
{
    struct nd_config *a = load(BASE HOOK);
    struct nd_config *b = load("[server]\nlisten = 127.0.0.1:5\nread_timeout = 3s\n"
                               "shutdown_timeout = 2s\nlog_level = debug\n"
                               "[queue]\nmax_depth = 9\nmax_alerts = 5\n"
                               "[batch]\nmax_size = 3\n" CONS);
    const char *keys[16];
    size_t n = nd_reload_restart_keys(a, a, keys, 16);
    is_uint(n, 0, "same config: no restart key");
    n = nd_reload_restart_keys(a, b, keys, 16);
    is_uint(n, 3, "three keys need a restart");
    if (n == 3) {
        is_str(keys[0], "[server] listen", "listen");
        is_str(keys[1], "[server] read_timeout", "read_timeout");
        is_str(keys[2], "[queue] max_depth", "max_depth");
    }
    n = nd_reload_restart_keys(a, b, keys, 1);
    is_uint(n, 1, "at most max names");
    nd_config_free(a);
    nd_config_free(b);
}

int main(void)
{
    test_receivers();
    test_templates();
    test_restart_keys();
    return done_testing();
}
