/* test_exec.c - the evaluator: every construct, truthiness, comparisons,
 * built-in functions, variables, templates, and the limits of our own. The
 * table's expected values come from Go 1.19's text/template. */
#include "../../tap.h"
#include "tmpl_test.h"

#include "cases_exec.inc"
#include "cases_extra.inc"

static void test_struct_printing(void)
{
    /* Go prints nested pointers as addresses: only the shape can match */
    const char *o = tt_render("{{.}}");
    ok(strncmp(o, "{team-x [0x", 11) == 0, "{{.}} prints the Data struct");
    has_str(o, "] map[alertname:HighCPU] map[alertname:HighCPU severity:critical] map[] http://am}",
            "with its maps in Go's form");
    o = tt_render("{{print (index .Alerts 1)}}");
    ok(strncmp(o, "&{ resolved map[alertname:Disk] map[summary:disk full summaryCn:cn] ", 67) == 0,
       "a pointer argument prints as &{...}");
}

static void test_limits(void)
{
    const char *o = tt_render("{{define \"r\"}}{{template \"r\" .}}{{end}}{{template \"r\" 1}}");
    is_str(o,
           "ERR: template: :1:25: executing \"r\" at <{{template \"r\" .}}>: exceeded maximum "
           "template depth (1000)",
           "recursion is bounded (our limit: ND_TEMPLATE_MAX_DEPTH)");
    o = tt_render_full(NULL, "{{range .Alerts}}0123456789{{end}}", NULL, 15);
    is_str(o,
           "ERR: template: :1:17: executing \"\" at <0123456789>: output exceeds the limit of 15 "
           "bytes",
           "output ceiling");
    /* a loop that builds ever longer strings hits the memory ceiling */
    char big[512];
    snprintf(big, sizeof big,
             "{{$s := \"0123456789abcdef\"}}{{range $i, $a := .Alerts}}{{end}}"
             "{{define \"g\"}}{{$x := printf \"%%s%%s\" . .}}{{template \"g\" $x}}{{end}}"
             "{{template \"g\" $s}}");
    o = tt_render(big);
    /* whichever ceiling comes first: the printf result's (the output's), the
     * memory's or the depth's */
    ok(strstr(o, "output exceeds the limit") != NULL || strstr(o, "memory limit") != NULL ||
           strstr(o, "maximum template depth") != NULL,
       "runaway growth stops with an error");
}

static void test_stack_budget(void)
{
    /* nesting times template depth: each limit alone would allow it */
    size_t n = 900;
    char *t = malloc(n * 16 + 128);
    size_t k = (size_t)sprintf(t, "{{define \"a\"}}");
    for (size_t i = 0; i < n; i++)
        k += (size_t)sprintf(t + k, "{{if 1}}");
    k += (size_t)sprintf(t + k, "{{template \"a\" .}}");
    for (size_t i = 0; i < n; i++)
        k += (size_t)sprintf(t + k, "{{end}}");
    sprintf(t + k, "{{end}}{{template \"a\" 1}}");
    const char *o = tt_render(t);
    has_str(o, ">: template nesting exceeds the stack budget of 4194304 bytes",
            "deep recursion fails before the C stack does");
    free(t);
    char longnode[512];
    snprintf(longnode, sizeof longnode, "{{template \"nope\" (print \"%0300d\")}}", 0);
    o = tt_render(longnode);
    has_str(o, "00...>: template \"nope\" not defined",
            "a long node is cut so that the message fits");
}

static void test_text_and_transform(void)
{
    struct nd_buf b;
    nd_buf_init(&b, 1024);
    is_int(nd_template_transform("nm.default.text", &b), ND_OK, "transform");
    is_str(nd_buf_cstr(&b), "{{ template \"nm.default.text\" . }}", "a name becomes a call");
    struct nd_buf small;
    nd_buf_init(&small, 20);
    is_int(nd_template_transform("nm.default.text", &small), ND_ETOOBIG,
           "a call past the buffer's ceiling is an error, not a cut call");
    nd_buf_deinit(&small);
    nd_buf_reset(&b);
    nd_template_transform("{{ template \"x\" . }}", &b);
    is_str(nd_buf_cstr(&b), "{{ template \"x\" . }}", "a call stays as it is");
    nd_buf_reset(&b);
    nd_template_transform("{{template \"x\" .}} trailing", &b);
    is_str(nd_buf_cstr(&b), "{{template \"x\" .}} trailing", "a call inside text stays");

    struct nd_template_set *s = nd_template_set_new();
    const char *defs = "{{define \"t\"}}{{.Receiver}} \n\r\n {{end}}";
    char err[ND_ERRLEN];
    is_int(nd_template_set_parse(s, "defs", defs, strlen(defs), err), ND_OK, "parse defs");
    struct nd_template_data *d = nd_template_data_from_json(TT_DATA, strlen(TT_DATA), err);
    ok(d != NULL, "data");
    nd_buf_reset(&b);
    is_int(nd_template_text(s, "t", d, &b, err), ND_OK, "Text by name");
    is_str(nd_buf_cstr(&b), "team-x", "trailing spaces and newlines are cut (cleanSuffix)");
    nd_buf_reset(&b);
    is_int(nd_template_text(s, "{{ template \"t\" . }}", d, &b, err), ND_OK, "Text by call");
    is_str(nd_buf_cstr(&b), "team-x", "same result");
    nd_buf_reset(&b);
    is_int(nd_template_text(s, "nope", d, &b, err), ND_EINVAL, "unknown name");
    is_str(err,
           "template: :1:12: executing \"\" at <{{template \"nope\" .}}>: template \"nope\" not "
           "defined",
           "Go's message");
    nd_buf_reset(&b);
    is_int(nd_template_execute(s, "t", d, &b, err), ND_OK, "execute keeps the bytes");
    is_str(nd_buf_cstr(&b), "team-x \n\r\n ", "no trimming in execute");
    nd_template_data_free(d);
    nd_template_set_free(s);
    nd_buf_deinit(&b);
}

static void test_overlay_does_not_leak(void)
{
    /* a define inside an anonymous text is visible to that render only */
    struct nd_template_set *s = nd_template_set_new();
    char err[ND_ERRLEN];
    struct nd_buf b;
    nd_buf_init(&b, 1024);
    const char *t = "{{define \"only\"}}x{{end}}{{template \"only\"}}";
    is_int(nd_template_execute_text(s, "", t, strlen(t), NULL, &b, err), ND_OK, "anonymous define");
    is_str(nd_buf_cstr(&b), "x", "used in that render");
    ok(!nd_template_set_lookup(s, "only"), "the set is unchanged");
    nd_buf_deinit(&b);
    nd_template_set_free(s);
}

int main(void)
{
    tt_run_cases(EXEC_CASES, ND_ARRAY_LEN(EXEC_CASES));
    tt_run_cases(EXTRA_CASES, ND_ARRAY_LEN(EXTRA_CASES));
    test_struct_printing();
    test_limits();
    test_stack_budget();
    test_text_and_transform();
    test_overlay_does_not_leak();
    return done_testing();
}
