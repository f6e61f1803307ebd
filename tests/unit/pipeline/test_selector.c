/* Tests of selector.c: every operator on present and absent labels, regex
 * anchoring (NM's unanchored Match, absent label as ""), quoting, errors
 * with their columns, and the canonical text round trip. Labels are given
 * as a NULL-terminated name/value list through the lookup callback, and
 * once through a real alert. */
#include <stdlib.h>
#include <string.h>

#include "notifyd/selector.h"
#include "tap.h"

static const char *lookup(const void *labels, const char *name)
{
    const char *const *kv = labels;
    size_t i;

    for (i = 0; kv[i]; i += 2)
        if (strcmp(kv[i], name) == 0)
            return kv[i + 1];
    return NULL;
}

static const char *const L[] = {"alertname", "HighCPU",  "severity", "critical",
                                "namespace", "payments", "empty",    "",
                                "msg",       "a, b (c)", NULL};

/* -1: does not parse; else whether it matches L. */
static int eval(const char *text)
{
    struct nd_selector *s;
    size_t col;
    char err[ND_ERRLEN];
    int m;

    if (nd_selector_parse(text, &s, &col, err) != ND_OK)
        return -1;
    m = nd_selector_matches(s, lookup, L);
    nd_selector_free(s);
    return m;
}

static void test_operators(void)
{
    static const struct {
        const char *sel;
        int want;
    } cases[] = {
        {"", 1},
        {"   ", 1},
        {"severity=critical", 1},
        {"severity==critical", 1},
        {"severity = critical", 1},
        {"severity=warning", 0},
        {"missing=x", 0},
        {"severity!=warning", 1},
        {"severity!=critical", 0},
        {"missing!=x", 1},
        {"severity in (warning, critical)", 1},
        {"severity in (warning)", 0},
        {"missing in (x)", 0},
        {"severity notin (warning,info)", 1},
        {"severity notin (critical)", 0},
        {"missing notin (x)", 1},
        {"severity", 1},
        {"missing", 0},
        {"!missing", 1},
        {"!severity", 0},
        {"! severity", 0},
        {"empty", 1},
        {"empty=", 1},
        {"empty=\"\"", 1},
        {"!empty", 0},
        {"severity=critical,namespace=payments", 1},
        {"severity=critical, namespace=other", 0},
        {"severity=critical,!missing,alertname in (HighCPU)", 1},
        /* Regexes: unanchored, absent label read as "". */
        {"alertname=~CPU", 1},
        {"alertname=~^High", 1},
        {"alertname=~^CPU", 0},
        {"alertname=~\"^(High|Low)CPU$\"", 1},
        {"alertname!~CPU", 0},
        {"alertname!~Mem", 1},
        {"missing=~^$", 1},
        {"missing=~.+", 0},
        {"missing!~.+", 1},
        {"severity=~(?i)CRIT", -1},
        {"severity=~\"(?i)CRIT\"", 1},
        {"alertname=~\"\\d\"", 0},
        /* Quoted values keep commas, blanks, parentheses. */
        {"msg=\"a, b (c)\"", 1},
        {"msg in (\"a, b (c)\", x)", 1},
        {"msg!=\"a, b (c)\"", 0},
        {"in=x", 0},
        {"notin", 0},
    };
    size_t i;

    for (i = 0; i < ND_ARRAY_LEN(cases); i++)
        is_int(eval(cases[i].sel), cases[i].want, "'%s' -> %d", cases[i].sel, cases[i].want);
}

static void test_errors(void)
{
    static const struct {
        const char *sel;
        size_t col;
        const char *msg;
    } cases[] = {
        {"severity=critical,", 19, "after ','"},
        {",a", 1, "expected a label name"},
        {"a b", 3, "unexpected 'b'"},
        {"a=b c=d", 5, "expected ','"},
        {"a in ()", 7, "empty value set"},
        {"a in (x", 8, "expected ')'"},
        {"a in x", 6, "expected '('"},
        {"a=\"x", 3, "unterminated quote"},
        {"a=b(c)", 4, "quote the value"},
        {"a=~\"(x\"", 4, "missing closing )"},
        {"a>=1", 2, "unexpected '>'"},
        {"!", 2, "expected a label name"},
        {"a=1,,b", 5, "expected a label name"},
        {"a in (x y)", 9, "expected ',' or ')'"},
    };
    size_t i;

    for (i = 0; i < ND_ARRAY_LEN(cases); i++) {
        struct nd_selector *s = (struct nd_selector *)1;
        size_t col = 0;
        char err[ND_ERRLEN] = "";

        is_int(nd_selector_parse(cases[i].sel, &s, &col, err), ND_EINVAL, "'%s' refused",
               cases[i].sel);
        ok(s == NULL, "'%s': no selector", cases[i].sel);
        is_uint(col, cases[i].col, "'%s': column", cases[i].sel);
        has_str(err, cases[i].msg, "'%s': reason", cases[i].sel);
    }
}

static void test_format(void)
{
    static const char *const cases[][2] = {
        {"a = b ,c!=d", "a=b,c!=d"},
        {"a in ( x , \"y z\" ),!b,c", "a in (x,\"y z\"),!b,c"},
        {"a=~\"(x|y)\\\\d\",b!~z", "a=~\"(x|y)\\\\d\",b!~z"},
        {"q=\"say \\\"hi\\\"\"", "q=\"say \\\"hi\\\"\""},
        {"e=", "e=\"\""},
        {"e====f,g=~x,h= ~y,i!= =z", "e=\"==f\",g=~x,h=\"~y\",i!=\"=z\""},
        {"", ""},
    };
    size_t i;

    for (i = 0; i < ND_ARRAY_LEN(cases); i++) {
        struct nd_selector *s, *s2;
        struct nd_buf b, b2;
        size_t col;
        char err[ND_ERRLEN];

        nd_buf_init(&b, 4096);
        nd_buf_init(&b2, 4096);
        if (nd_selector_parse(cases[i][0], &s, &col, err) != ND_OK) {
            ok(0, "'%s' parses: %s", cases[i][0], err);
            continue;
        }
        nd_selector_format(s, &b);
        is_str(nd_buf_cstr(&b), cases[i][1], "format of '%s'", cases[i][0]);
        /* The canonical text parses back to the same text. */
        if (nd_selector_parse(nd_buf_cstr(&b), &s2, &col, err) == ND_OK) {
            nd_selector_format(s2, &b2);
            is_str(nd_buf_cstr(&b2), nd_buf_cstr(&b), "round trip of '%s'", cases[i][0]);
            nd_selector_free(s2);
        } else {
            ok(0, "canonical '%s' parses: %s", nd_buf_cstr(&b), err);
        }
        nd_selector_free(s);
        nd_buf_deinit(&b);
        nd_buf_deinit(&b2);
    }
}

static void test_alert(void)
{
    struct nd_alert_builder b;
    struct nd_alert *a;
    struct nd_selector *s;
    size_t col;
    char err[ND_ERRLEN];

    nd_alert_builder_init(&b, 1 << 16);
    nd_alert_builder_add_label(&b, "alertname", 9, "DiskFull", 8);
    nd_alert_builder_add_label(&b, "namespace", 9, "payments", 8);
    nd_alert_builder_set_status(&b, ND_ALERT_FIRING);
    a = nd_alert_builder_finish(&b, NULL, 0, err);
    nd_alert_builder_deinit(&b);
    ok(a != NULL, "alert built");
    if (!a)
        return;
    if (nd_selector_parse("namespace in (payments),alertname=~Disk,!severity", &s, &col, err) !=
        ND_OK) {
        ok(0, "parses: %s", err);
        nd_alert_unref(a);
        return;
    }
    ok(nd_selector_matches_alert(s, a), "matches the alert's labels");
    is_uint(nd_selector_count(s), 3, "three requirements");
    nd_selector_free(s);
    if (nd_selector_parse("namespace!=payments", &s, &col, err) != ND_OK) {
        ok(0, "parses: %s", err);
        nd_alert_unref(a);
        return;
    }
    ok(!nd_selector_matches_alert(s, a), "!= on the alert");
    nd_selector_free(s);
    nd_alert_unref(a);
}

static void test_limits(void)
{
    struct nd_buf b;
    struct nd_selector *s;
    size_t col, i;
    char err[ND_ERRLEN];

    nd_buf_init(&b, 1 << 20);
    for (i = 0; i < 257; i++)
        nd_buf_printf(&b, "%sk%zu", i ? "," : "", i);
    is_int(nd_selector_parse(nd_buf_cstr(&b), &s, &col, err), ND_EINVAL, "257 requirements");
    has_str(err, "more than 256", "the limit is named");
    nd_buf_reset(&b);
    nd_buf_adds(&b, "k in (");
    for (i = 0; i < 1025; i++)
        nd_buf_printf(&b, "%sv%zu", i ? "," : "", i);
    nd_buf_adds(&b, ")");
    is_int(nd_selector_parse(nd_buf_cstr(&b), &s, &col, err), ND_EINVAL, "1025 values");
    has_str(err, "more than 1024", "the limit is named");
    nd_buf_deinit(&b);
}

int main(void)
{
    test_operators();
    test_errors();
    test_format();
    test_alert();
    test_limits();
    return done_testing();
}
