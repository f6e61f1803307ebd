/* test_funcs.c - NM's and Alertmanager's functions as templates call them
 * (argument checking, errors), languages, and the built-in defaults through
 * NM's Text(). Table values come from Go 1.19 with the same functions. */
#include <unistd.h>

#include "../../tap.h"
#include "tmpl_test.h"

#include "cases_funcs.inc"

static const char *render_lang(const char *lang, const char *text)
{
    struct nd_template_set *s = nd_template_set_new();
    nd_template_set_language(s, lang);
    struct nd_template_data *d = nd_template_data_from_json(TT_DATA, strlen(TT_DATA), tt_err);
    struct nd_buf out;
    nd_buf_init(&out, 4096);
    if (nd_template_execute_text(s, "", text, strlen(text), d, &out, tt_err) == ND_OK)
        snprintf(tt_out, sizeof tt_out, "%s", nd_buf_cstr(&out));
    else
        snprintf(tt_out, sizeof tt_out, "ERR: %s", tt_err);
    nd_buf_deinit(&out);
    nd_template_data_free(d);
    nd_template_set_free(s);
    return tt_out;
}

static void test_languages(void)
{
    is_str(render_lang("zh-cn", "{{translate \"firing\"}} {{translate \"Namespace\"}}"),
           "\xe8\xa7\xa6\xe5\x8f\x91\xe4\xb8\xad \xe9\xa1\xb9\xe7\x9b\xae",
           "zh-cn translates firing and namespace (lower-cased lookup)");
    is_str(render_lang("zh-cn", "{{range .Alerts}}{{message .}}|{{end}}"), "cpu high|cn|",
           "message uses MessageCN in zh-cn");
    is_str(render_lang("klingon", "{{translate \"firing\"}}"), "firing",
           "an unknown language gives the key back");

    char path[] = "/tmp/nd_tmpl_lang_XXXXXX";
    int fd = mkstemp(path);
    const char *pack = "[{\"name\":\"fr\",\"dictionary\":{\"Firing\":\"EN COURS\"}}]";
    ok(fd >= 0 && write(fd, pack, strlen(pack)) == (ssize_t)strlen(pack), "pack file written");
    close(fd);
    struct nd_template_set *s = nd_template_set_new();
    char err[ND_ERRLEN];
    is_int(nd_template_set_load_language_file(s, path, err), ND_OK, "user pack loads");
    nd_template_set_language(s, "fr");
    struct nd_buf out;
    nd_buf_init(&out, 256);
    const char *t = "{{translate \"firing\"}}";
    is_int(nd_template_execute_text(s, "", t, strlen(t), NULL, &out, err), ND_OK, "render");
    is_str(nd_buf_cstr(&out), "EN COURS", "the user pack's word is used");
    nd_buf_deinit(&out);
    nd_template_set_free(s);
    unlink(path);
}

static void test_defaults(void)
{
    const char *json =
        "{\"receiver\":\"r1\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":\"A\","
        "\"cluster\":\"default\",\"namespace\":\"ns1\",\"receiver\":\"r1\",\"severity\":"
        "\"warning\"},"
        "\"annotations\":{\"message\":\"msg\",\"runbook_url\":\"u\",\"foo\":\"bar\"}}]}";
    struct nd_template_set *s = nd_template_set_new();
    char err[ND_ERRLEN];
    is_int(nd_template_set_add_defaults(s, err), ND_OK, "the built-in defaults parse");
    ok(nd_template_set_lookup(s, "nm.default.text"), "nm.default.text exists");
    struct nd_template_data *d = nd_template_data_from_json(json, strlen(json), err);
    struct nd_buf out;
    nd_buf_init(&out, 4096);
    is_int(nd_template_text(s, "nm.default.text", d, &out, err), ND_OK, "Text(nm.default.text)");
    is_str(nd_buf_cstr(&out),
           "[FIRING] msg\n  alertname: A\n  cluster: default\n  namespace: ns1\n  receiver: r1\n"
           "  severity: warning\n  foo: bar",
           "NM's documented example output");
    /* a user file overrides a default definition */
    const char *user = "{{define \"nm.default.message\"}}custom{{end}}";
    is_int(nd_template_set_parse(s, "user.tmpl", user, strlen(user), err), ND_OK, "user file");
    nd_buf_reset(&out);
    is_int(nd_template_text(s, "nm.default.message", d, &out, err), ND_OK, "render the override");
    is_str(nd_buf_cstr(&out), "custom", "the user's definition wins");
    nd_buf_deinit(&out);
    nd_template_data_free(d);
    nd_template_set_free(s);
}

int main(void)
{
    tt_run_cases(FUNCS_CASES, ND_ARRAY_LEN(FUNCS_CASES));
    test_languages();
    test_defaults();
    return done_testing();
}
