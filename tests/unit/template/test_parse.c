/* test_parse.c - lexer and parser: literals, trim markers, comments,
 * control structures, definitions, and Go's parse error messages with
 * their line numbers. The table's expected values come from Go 1.19. */
#include <unistd.h>

#include "../../tap.h"
#include "tmpl_int.h"
#include "tmpl_test.h"

#include "cases_parse.inc"

/* Parses text and prints the tree of `name` back with Go's String(). */
static const char *roundtrip(const char *text, const char *name)
{
    static char out[4096];
    struct nd_template_set *s = nd_template_set_new();
    struct tarena a;
    nd_tmpl__arena_init(&a, 0);
    struct ttree *trees = NULL;
    char err[ND_ERRLEN];
    if (nd_tmpl__parse(s, &a, "t", text, strlen(text), &trees, err) != 0) {
        snprintf(out, sizeof out, "ERR: %s", err);
    } else {
        out[0] = '\0';
        for (struct ttree *t = trees; t; t = t->next) {
            if (strcmp(t->name, name) == 0) {
                struct nd_buf b;
                nd_buf_init(&b, sizeof out - 1);
                nd_tmpl__node_string(t->root, &b);
                snprintf(out, sizeof out, "%s", nd_buf_cstr(&b));
                nd_buf_deinit(&b);
            }
        }
    }
    nd_tmpl__arena_free(&a);
    nd_template_set_free(s);
    return out;
}

static void test_node_strings(void)
{
    is_str(roundtrip("a{{if .A}}x{{else}}y{{end}}b", "t"), "a{{if .A}}x{{else}}y{{end}}b",
           "if/else prints back");
    is_str(roundtrip("{{range $i, $v := .L}}{{$v.X}}{{end}}", "t"),
           "{{range $i, $v := .L}}{{$v.X}}{{end}}", "range with two variables");
    is_str(roundtrip("{{ (.A).B | printf \"%d\" 1 }}", "t"), "{{(.A).B | printf \"%d\" 1}}",
           "chain on a parenthesised pipeline");
    is_str(roundtrip("{{with .A}}{{.}}{{end}}", "t"), "{{with .A}}{{.}}{{end}}", "with");
    is_str(roundtrip("{{define \"x\"}}X{{template \"y\" .}}{{end}}rest", "x"),
           "X{{template \"y\" .}}", "define makes its own tree");
    is_str(roundtrip("{{define \"x\"}}X{{end}}rest", "t"), "rest", "the top tree excludes defines");
    is_str(roundtrip("{{block \"b\" .}}B{{end}}", "b"), "B", "block defines its body");
    is_str(roundtrip("{{block \"b\" .}}B{{end}}", "t"), "{{template \"b\" .}}",
           "block invokes its template");
    is_str(roundtrip("a {{- 1 -}} \n b", "t"), "a{{1}}b", "trim markers eat spaces");
    is_str(roundtrip("a{{/* c */}}b", "t"), "ab", "comments vanish");
    is_str(roundtrip("{{if 1}}a{{else if 2}}b{{end}}", "t"),
           "{{if 1}}a{{else}}{{if 2}}b{{end}}{{end}}", "else if nests an if");
    is_str(roundtrip("{{with 1}}a{{else with 2}}b{{end}}", "t"),
           "{{with 1}}a{{else}}{{with 2}}b{{end}}{{end}}", "else with (Go 1.23) nests a with");
}

static void test_error_lines(void)
{
    struct nd_template_set *s = nd_template_set_new();
    char err[ND_ERRLEN];
    const char *t = "ok\n{{ .A }}\n{{ if .B }}\nx\n";
    is_int(nd_template_set_parse(s, "file.tmpl", t, strlen(t), err), ND_EINVAL,
           "unclosed if fails");
    is_str(err, "template: file.tmpl:5: unexpected EOF", "error names the file and the line");
    t = "{{define \"a\"}}\n\n{{ .X | 3 }}{{end}}";
    nd_template_set_parse(s, "f", t, strlen(t), err);
    is_str(err, "template: f:3: non executable command in pipeline stage 2",
           "line inside a define");
    t = "\n{{ \"abc\n}}";
    nd_template_set_parse(s, "f", t, strlen(t), err);
    is_str(err, "template: f:2: unterminated quoted string", "lexer error line");
    t = "{{ if\n\n\n";
    nd_template_set_parse(s, "f", t, strlen(t), err);
    is_str(err, "template: f:4: unclosed action started at f:1",
           "unclosed action reports its start");
    ok(!nd_template_set_lookup(s, "a"), "a failed parse adds nothing");
    nd_template_set_free(s);
}

static void test_nesting_limit(void)
{
    size_t n = ND_TEMPLATE_MAX_NEST + 10;
    char *t = malloc(4 * n + 16);
    size_t k = 0;
    memcpy(t + k, "{{", 2);
    k += 2;
    for (size_t i = 0; i < n; i++)
        t[k++] = '(';
    t[k++] = '1';
    for (size_t i = 0; i < n; i++)
        t[k++] = ')';
    memcpy(t + k, "}}", 3);
    struct nd_template_set *s = nd_template_set_new();
    char err[ND_ERRLEN];
    is_int(nd_template_set_parse(s, "deep", t, strlen(t), err), ND_EINVAL,
           "deep parentheses are refused, not a stack overflow");
    has_str(err, "nesting too deep", "with a message");
    nd_template_set_free(s);
    free(t);
}

static void test_sets(void)
{
    struct nd_template_set *s = nd_template_set_new();
    char err[ND_ERRLEN];
    struct nd_buf out;
    nd_buf_init(&out, 4096);
    const char *a = "{{define \"x\"}}one{{end}}{{define \"y\"}}Y{{end}}";
    is_int(nd_template_set_parse(s, "a", a, strlen(a), err), ND_OK, "first source");
    ok(nd_template_set_lookup(s, "x") && nd_template_set_lookup(s, "y"), "defines are found");
    ok(nd_template_set_lookup(s, "a"), "the source's own (empty) template exists");
    ok(!nd_template_set_lookup(s, "z"), "unknown name");
    const char *b = "{{define \"x\"}}two{{end}}{{define \"y\"}}  {{end}}";
    is_int(nd_template_set_parse(s, "b", b, strlen(b), err), ND_OK, "a later source overrides");
    is_int(nd_template_execute(s, "x", NULL, &out, err), ND_OK, "render x");
    is_str(nd_buf_cstr(&out), "two", "the later non-empty definition wins");
    nd_buf_reset(&out);
    nd_template_execute(s, "y", NULL, &out, err);
    is_str(nd_buf_cstr(&out), "Y", "an empty redefinition does not replace");
    nd_buf_reset(&out);
    is_int(nd_template_execute(s, "nope", NULL, &out, err), ND_EINVAL, "missing template");
    is_str(err, "template: no template \"nope\" associated with template \"nope\"", "its message");
    const char *c = "{{define \"q\"}}1{{end}}{{define \"q\"}}2{{end}}";
    is_int(nd_template_set_parse(s, "c", c, strlen(c), err), ND_EINVAL, "duplicate in one source");
    is_str(err, "template: c:1: template: multiple definition of template \"q\"", "Go's message");
    nd_buf_deinit(&out);
    nd_template_set_free(s);
}

static void test_parse_file(void)
{
    char path[] = "/tmp/nd_tmpl_test_XXXXXX";
    int fd = mkstemp(path);
    ok(fd >= 0, "temp file");
    const char *t = "{{define \"f\"}}from file{{end}}\n{{ if }}";
    FILE *f = fdopen(fd, "w");
    fputs(t, f);
    fclose(f);
    struct nd_template_set *s = nd_template_set_new();
    char err[ND_ERRLEN];
    is_int(nd_template_set_parse_file(s, path, err), ND_EINVAL, "bad file fails");
    const char *base = strrchr(path, '/') + 1;
    char want[ND_ERRLEN];
    snprintf(want, sizeof want, "template: %s:2: missing value for if", base);
    is_str(err, want, "the error names the file's base name and line");
    is_int(nd_template_set_parse_file(s, "/nonexistent/x.tmpl", err), ND_EINVAL, "missing file");
    has_str(err, "/nonexistent/x.tmpl", "names the path");
    unlink(path);
    nd_template_set_free(s);
}

int main(void)
{
    tt_run_cases(PARSE_CASES, ND_ARRAY_LEN(PARSE_CASES));
    test_node_strings();
    test_error_lines();
    test_nesting_limit();
    test_sets();
    test_parse_file();
    return done_testing();
}
