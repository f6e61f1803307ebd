/* Language packs and `translate`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang_int.h"
#include "tap.h"

static const char *tr(const struct nd_tmpl_lang *l, const char *lang, const char *key)
{
    static char out[256];
    size_t n;
    const char *r = nd_tmpl_translate(l, lang, key, strlen(key), &n);
    snprintf(out, sizeof(out), "%.*s", (int)n, r);
    return out;
}

static void test_builtin(void)
{
    struct nd_tmpl_lang *l = nd_tmpl_lang_new();

    is_str(tr(l, "English", "firing"), "FIRING", "English firing");
    is_str(tr(l, "English", "RESOLVED"), "RESOLVED", "English: key is lower-cased");
    is_str(tr(l, NULL, "firing"), "FIRING", "no language = English");
    is_str(tr(l, "", "resolved"), "RESOLVED", "empty language = English");
    is_str(tr(l, "English", "namespace"), "namespace", "English: unknown word is itself");
    is_str(tr(l, "zh-cn", "firing"), "触发中", "zh-cn firing");
    is_str(tr(l, "zh-cn", "namespace"), "项目", "zh-cn namespace");
    is_str(tr(l, "zh-cn", "requestReceivedTimestamp"), "请求接收时间",
           "zh-cn: camel-case key found lower-cased");
    is_str(tr(l, "zh-cn", "reason"), "原因", "zh-cn has the helm words");
    is_uint(nd_tmpl_lang_nwords(l, "zh-cn"), 36, "zh-cn has NM's 31 + 5 words");
    is_str(tr(l, "zh-cn", "Unknown_Word"), "Unknown_Word", "unknown word unchanged (case kept)");
    is_str(tr(l, "de", "firing"), "firing", "unknown language: key unchanged");
    is_str(tr(l, "ZH-CN", "firing"), "firing", "language names are case-sensitive");
    nd_tmpl_lang_free(l);
}

static void test_file(const char *dir)
{
    struct nd_tmpl_lang *l = nd_tmpl_lang_new();
    char path[512], err[ND_ERRLEN];

    snprintf(path, sizeof(path), "%s/pack.json", dir);
    is_int(nd_tmpl_lang_load_file(l, path, err), ND_OK, "load pack file");
    is_str(tr(l, "zh-cn", "firing"), "告警中", "user pack overrides a built-in word");
    is_str(tr(l, "zh-cn", "namespace"), "项目", "built-in words stay");
    is_str(tr(l, "zh-cn", "mylabel"), "我的标签", "user word, stored lower-cased");
    is_str(tr(l, "zh-cn", "MYLABEL"), "我的标签", "user word, looked up lower-cased");
    is_str(tr(l, "English", "firing"), "FIRING", "a user English pack is discarded");
    ok(nd_tmpl_lang_has(l, "fr"), "new language");
    is_str(tr(l, "fr", "resolved"), "RÉSOLU", "new language word");
    is_str(tr(l, "fr", "état"), "état", "non-ASCII key lower-cased on load (ÉTAT)");
    is_str(tr(l, "fr", "ÉTAT"), "état", "non-ASCII key lower-cased on lookup");
    nd_tmpl_lang_free(l);
}

static void test_errors(void)
{
    struct nd_tmpl_lang *l = nd_tmpl_lang_new();
    char err[ND_ERRLEN];
    static const char *const bad[] = {
        "",
        "{",
        "[{\"name\": \"x\", \"dictionary\": {\"a\": 1}}]",
        "[{\"dictionary\": {\"a\": \"b\"}}]",
        "[{\"name\": \"x\", \"words\": {}}]",
        "[[]]",
        "{\"name\": \"x\"} {}",
        "[{\"name\": \"\", \"dictionary\": {}}]",
        "[{\"name\": \"x\", \"dictionary\": {\"a\": \"b\\u0000c\"}}]",
    };
    size_t i;

    for (i = 0; i < ND_ARRAY_LEN(bad); i++) {
        err[0] = '\0';
        is_int(nd_tmpl_lang_load_json(l, bad[i], strlen(bad[i]), "t.json", err), ND_EINVAL,
               "bad pack %zu refused", i);
        has_str(err, "t.json: ", "bad pack %zu: error names the source", i);
    }
    /* A failed load adds nothing, even the packs before the error. */
    {
        const char *half = "[{\"name\": \"y\", \"dictionary\": {\"a\": \"b\"}}, 5]";
        is_int(nd_tmpl_lang_load_json(l, half, strlen(half), "h.json", err), ND_EINVAL,
               "half-good pack refused");
        ok(!nd_tmpl_lang_has(l, "y"), "nothing of a refused pack is added");
    }
    {
        const char *one = "{\"name\": \"y\", \"dictionary\": {\"Alert\": \"Alarm\"}}";
        is_int(nd_tmpl_lang_load_json(l, one, strlen(one), "o.json", err), ND_OK,
               "a single pack object is accepted");
        is_str(tr(l, "y", "alert"), "Alarm", "single pack word");
    }
    is_int(nd_tmpl_lang_load_file(l, "/nonexistent/pack.json", err), ND_ERR, "missing file");
    has_str(err, "/nonexistent/pack.json", "missing file: error names it");
    nd_tmpl_lang_free(l);
}

int main(int argc, char **argv)
{
    test_builtin();
    test_file(argc > 1 ? argv[1] : ".");
    test_errors();
    return done_testing();
}
