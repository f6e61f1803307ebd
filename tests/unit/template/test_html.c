/* test_html.c - the HTML mode: contexts (text, comments, quoted and unquoted
 * attributes, URLs), safeHtml, the predefined escapers, nil printing, and
 * NM's Html(). Table values come from Go 1.19's html/template. */
#include "../../tap.h"
#include "tmpl_test.h"

#include "cases_html.inc"

static const char *render_html(const char *text)
{
    struct nd_template_set *s = nd_template_set_new();
    struct nd_template_data *d = nd_template_data_from_json(TT_DATA, strlen(TT_DATA), tt_err);
    struct nd_buf out;
    nd_buf_init(&out, 1 << 16);
    if (nd_template_execute_text_mode(s, "", text, strlen(text), d, ND_TEMPLATE_HTML, &out,
                                      tt_err) == ND_OK)
        snprintf(tt_out, sizeof tt_out, "%s", nd_buf_cstr(&out));
    else
        snprintf(tt_out, sizeof tt_out, "ERR: %s", tt_err);
    nd_buf_deinit(&out);
    nd_template_data_free(d);
    nd_template_set_free(s);
    return tt_out;
}

static void test_nm_html(void)
{
    struct nd_template_set *s = nd_template_set_new();
    char err[ND_ERRLEN];
    const char *defs =
        "{{define \"mail\"}}<p title=\"{{.Receiver}}\">{{.Receiver}}&amp;</p>\n{{end}}";
    is_int(nd_template_set_parse(s, "defs", defs, strlen(defs), err), ND_OK, "parse");
    const char *json = "{\"receiver\":\"a<b\"}";
    struct nd_template_data *d = nd_template_data_from_json(json, strlen(json), err);
    struct nd_buf out;
    nd_buf_init(&out, 1024);
    is_int(nd_template_html(s, "mail", d, &out, err), ND_OK, "Html()");
    is_str(nd_buf_cstr(&out), "<p title=\"a&lt;b\">a&lt;b&amp;</p>", "escaped and trimmed");
    nd_buf_reset(&out);
    is_int(nd_template_text(s, "mail", d, &out, err), ND_OK, "Text() of the same set");
    is_str(nd_buf_cstr(&out), "<p title=\"a<b\">a<b&amp;</p>", "text mode does not escape");
    nd_buf_deinit(&out);
    nd_template_data_free(d);
    nd_template_set_free(s);
}

int main(void)
{
    for (size_t i = 0; i < ND_ARRAY_LEN(HTML_CASES); i++)
        is_str(render_html(HTML_CASES[i].text), HTML_CASES[i].want, "html case %zu", i + 1);
    test_nm_html();
    return done_testing();
}
