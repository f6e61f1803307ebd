/* The default templates embedded in the binary: the same text as the files
 * of src/template/defaults/, and every name NM documents is defined. (Their
 * output is compared byte for byte with tests/unit/tmplfn/defaults/, produced
 * by Go from the same files, in test_defaults_render.c.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defaults_int.h"
#include "notifyd/util.h"
#include "tap.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p;
    long n;

    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = malloc((size_t)n + 1);
    *len = fread(p, 1, (size_t)n, f);
    p[*len] = '\0';
    fclose(f);
    return p;
}

static int defines(const char *name)
{
    char needle[128];
    size_t i;

    snprintf(needle, sizeof(needle), "define \"%s\"", name);
    for (i = 0; i < nd_tmpl_nbuiltins; i++)
        if (strstr(nd_tmpl_builtins[i].text, needle))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    static const char *const names[] = {
        "nm.default.message", "nm.default.message.cn", "nm.default.subject", "nm.subject",
        "nm.default.text",    "nm.default.markdown",   "nm.default.html",    "nm.html",
        "nm.feishu.message",  "nm.feishu.post",        "nm.feishu.text",
    };
    const char *dir = argc > 1 ? argv[1] : "src/template/defaults";
    const char *outdir = argc > 2 ? argv[2] : "tests/unit/tmplfn/defaults";
    size_t i;

    ok(nd_tmpl_nbuiltins == 3, "three built-in files (%zu)", nd_tmpl_nbuiltins);
    for (i = 0; i < nd_tmpl_nbuiltins; i++) {
        char path[512];
        size_t len = 0;
        char *text;
        snprintf(path, sizeof(path), "%s/%s", dir, nd_tmpl_builtins[i].name);
        text = slurp(path, &len);
        ok(text != NULL, "%s exists", path);
        ok(text && strlen(nd_tmpl_builtins[i].text) == len &&
               memcmp(text, nd_tmpl_builtins[i].text, len) == 0,
           "%s embedded byte for byte", nd_tmpl_builtins[i].name);
        free(text);
    }
    for (i = 0; i < ND_ARRAY_LEN(names); i++) {
        char path[512];
        size_t len;
        char *text;
        ok(defines(names[i]), "%s is defined", names[i]);
        /* The reference output exists (test_defaults_render.c compares it). */
        snprintf(path, sizeof(path), "%s/one.%s.English.out", outdir, names[i]);
        text = slurp(path, &len);
        ok(text != NULL && len > 0, "reference output for %s", names[i]);
        free(text);
    }
    /* The documented example of NM's reference (section 4.8), after the
     * receiver's trimming of trailing newlines. */
    {
        char path[512];
        size_t len = 0;
        char *text;
        snprintf(path, sizeof(path), "%s/one.nm.default.text.English.out", outdir);
        text = slurp(path, &len);
        while (text && len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
            text[--len] = '\0';
        is_str(text,
               "[FIRING] msg\n  alertname: A\n  cluster: default\n  namespace: ns1\n"
               "  receiver: r1\n  severity: warning\n  foo: bar",
               "nm.default.text reference output is NM's documented example");
        free(text);
    }
    return done_testing();
}
