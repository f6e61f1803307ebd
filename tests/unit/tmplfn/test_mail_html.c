/* The built-in HTML mail, nm.default.html, rendered as a receiver renders it
 * (Html(): HTML mode, trailing blanks trimmed) over firing-only,
 * resolved-only, mixed and status-less groups: the header's colour follows
 * the alerts' statuses, there is one block per alert, values are escaped as
 * Go's html/template escapes them, the summary falls back from summary to
 * message, description and alertname, and the Source and Runbook links are
 * there exactly when generatorURL and the runbook_url annotation are.
 * (test_defaults_render.c compares whole renderings with Go's; this test
 * says what the renderings must contain.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/template.h"
#include "notifyd/util.h"
#include "tap.h"

#define RED    "#c5221f"
#define GREEN  "#188038"
#define ORANGE "#d35400"
#define GREY   "#5f6368"

/* The header cell is the first cell with white text on a colour. */
#define HEADER_BG "color: #ffffff; background-color: "
/* Each alert block is a table with a coloured left border. */
#define BLOCK "border-left: 4px solid "

static char out_text[1 << 17];

/* Renders nm.default.html over a webhook payload; NULL on error. */
static const char *render(const char *json, const char *language)
{
    char err[ND_ERRLEN] = "";
    struct nd_template_set *s = nd_template_set_new();
    struct nd_template_data *d = nd_template_data_from_json(json, strlen(json), err);
    struct nd_buf out;
    nd_buf_init(&out, sizeof out_text - 1);
    const char *res = NULL;
    if (d && nd_template_set_add_defaults(s, err) == ND_OK) {
        if (language)
            nd_template_set_language(s, language);
        if (nd_template_html(s, "nm.default.html", d, &out, err) == ND_OK) {
            snprintf(out_text, sizeof out_text, "%s", nd_buf_cstr(&out));
            res = out_text;
        }
    }
    if (!res)
        printf("# render failed: %s\n", err);
    nd_buf_deinit(&out);
    nd_template_data_free(d);
    nd_template_set_free(s);
    return res;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay ? strstr(hay, needle) : NULL; p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* The colour after the first occurrence of PREFIX, or "". */
static const char *colour_after(const char *html, const char *prefix, size_t nth)
{
    static char c[8];
    const char *p = html ? strstr(html, prefix) : NULL;
    for (size_t i = 0; p && i < nth; i++)
        p = strstr(p + 1, prefix);
    if (!p || strlen(p + strlen(prefix)) < 7)
        return "";
    memcpy(c, p + strlen(prefix), 7);
    c[7] = '\0';
    return c;
}

#define ALERT(status, labels, annotations, url)                                                    \
    "{\"status\":\"" status "\",\"labels\":{" labels "},\"annotations\":{" annotations             \
    "},\"startsAt\":\"2024-03-01T10:00:00Z\",\"endsAt\":\"0001-01-01T00:00:00Z\","                 \
    "\"generatorURL\":\"" url "\"}"
#define GROUP(alerts)                                                                              \
    "{\"receiver\":\"r1\",\"alerts\":[" alerts "],\"groupLabels\":{\"alertname\":\"A\"},"          \
    "\"commonLabels\":{},\"commonAnnotations\":{}}"

static void test_status_colours(void)
{
    struct {
        const char *name, *json, *header, *line;
        size_t alerts;
        const char *blocks[3];
    } cases[] = {
        {"firing only",
         GROUP(ALERT("firing", "\"alertname\":\"A\"", "",
                     "") "," ALERT("firing", "\"alertname\":\"A\"", "", "")),
         RED,
         ">FIRING</div>",
         2,
         {RED, RED, NULL}},
        {"resolved only",
         GROUP(ALERT("resolved", "\"alertname\":\"A\"", "", "")),
         GREEN,
         ">RESOLVED</div>",
         1,
         {GREEN, NULL, NULL}},
        {"mixed",
         GROUP(ALERT("firing", "\"alertname\":\"A\"", "",
                     "") "," ALERT("resolved", "\"alertname\":\"A\"", "",
                                   "") "," ALERT("firing", "\"alertname\":\"A\"", "", "")),
         ORANGE,
         ">2 FIRING &middot; 1 RESOLVED</div>",
         3,
         {RED, GREEN, RED}},
        {"no status", GROUP(ALERT("", "\"alertname\":\"A\"", "", "")), GREY, NULL, 1, {GREY}},
        {"no alerts", GROUP(""), GREY, ">0 alerts</div>", 0, {NULL}},
    };
    for (size_t i = 0; i < ND_ARRAY_LEN(cases); i++) {
        const char *html = render(cases[i].json, NULL);
        ok(html != NULL, "%s: renders", cases[i].name);
        is_str(colour_after(html, HEADER_BG, 0), cases[i].header, "%s: header colour",
               cases[i].name);
        if (cases[i].line)
            has_str(html, cases[i].line, "%s: header status line", cases[i].name);
        is_int(count(html, BLOCK), cases[i].alerts, "%s: one block per alert", cases[i].name);
        for (size_t k = 0; k < cases[i].alerts; k++)
            is_str(colour_after(html, BLOCK, k), cases[i].blocks[k],
                   "%s: block %zu coloured by its own status", cases[i].name, k + 1);
        ok(html && strstr(html, "<style") == NULL, "%s: no <style> element", cases[i].name);
        ok(html && strstr(html, "max-width: 600px") != NULL, "%s: container at most 600px wide",
           cases[i].name);
        ok(html && strncmp(html, "<!DOCTYPE html>", 15) == 0 &&
               strcmp(html + strlen(html) - 7, "</html>") == 0,
           "%s: a whole document, trailing blanks trimmed", cases[i].name);
    }
}

static void test_escaping(void)
{
    const char *html =
        render(GROUP(ALERT("firing", "\"alertname\":\"A\",\"evil\":\"<script>alert(1)</script>\"",
                           "\"summary\":\"<b>x</b> & \\\"q\\\"\",\"note\":\"it's <i>\"", "")),
               NULL);
    ok(html != NULL, "escaping: renders");
    ok(html && strstr(html, "<script") == NULL, "no <script> element in the output");
    has_str(html, ">&lt;script&gt;alert(1)&lt;/script&gt;</td>", "label value escaped");
    has_str(html, "&lt;b&gt;x&lt;/b&gt; &amp; &#34;q&#34;</div>", "summary escaped");
    has_str(html, ">it&#39;s &lt;i&gt;</td>", "annotation value escaped");
    has_str(html, "<title>[FIRING] &lt;b&gt;x&lt;/b&gt; &amp; &#34;q&#34;</title>",
            "title escaped");
    ok(html && strstr(html, "<b>") == NULL && strstr(html, "<i>") == NULL,
       "no element from the data");
}

static void test_links(void)
{
    static const char gen[] = "http://prom:9090/graph?g0.expr=up&amp;x=1";
    struct {
        const char *name, *json;
        bool source, runbook;
    } cases[] = {
        {"neither", GROUP(ALERT("firing", "\"alertname\":\"A\"", "\"summary\":\"s\"", "")), false,
         false},
        {"generatorURL only",
         GROUP(ALERT("firing", "\"alertname\":\"A\"", "", "http://prom:9090/graph?g0.expr=up&x=1")),
         true, false},
        {"runbook_url only",
         GROUP(ALERT("firing", "\"alertname\":\"A\"", "\"runbook_url\":\"https://rb/disk\"", "")),
         false, true},
        {"both",
         GROUP(ALERT("resolved", "\"alertname\":\"A\"", "\"runbook_url\":\"https://rb/disk\"",
                     "http://prom:9090/graph?g0.expr=up&x=1")),
         true, true},
        {"empty runbook_url",
         GROUP(ALERT("firing", "\"alertname\":\"A\"", "\"runbook_url\":\"\"", "")), false, false},
    };
    for (size_t i = 0; i < ND_ARRAY_LEN(cases); i++) {
        const char *html = render(cases[i].json, NULL);
        char want[256];
        ok(html != NULL, "links, %s: renders", cases[i].name);
        is_int(count(html, "<a "), (cases[i].source ? 1 : 0) + (cases[i].runbook ? 1 : 0),
               "links, %s: number of links", cases[i].name);
        snprintf(want, sizeof want, "<a href=\"%s\"", gen);
        is_int(count(html, want), cases[i].source ? 1 : 0, "links, %s: generatorURL link",
               cases[i].name);
        is_int(count(html, ">Source</a>"), cases[i].source ? 1 : 0, "links, %s: Source text",
               cases[i].name);
        is_int(count(html, "<a href=\"https://rb/disk\""), cases[i].runbook ? 1 : 0,
               "links, %s: runbook link", cases[i].name);
        is_int(count(html, ">Runbook</a>"), cases[i].runbook ? 1 : 0, "links, %s: Runbook text",
               cases[i].name);
        /* runbook_url is a link, never a table row */
        ok(html && strstr(html, ">runbook_url<") == NULL, "links, %s: no runbook_url row",
           cases[i].name);
    }
    /* a javascript: URL is filtered as html/template does */
    const char *html = render(GROUP(ALERT("firing", "\"alertname\":\"A\"",
                                          "\"runbook_url\":\"javascript:x()\"", "javascript:y()")),
                              NULL);
    is_int(count(html, "<a href=\"#ZgotmplZ\""), 2, "javascript: URLs become #ZgotmplZ");
    ok(html && strstr(html, "javascript:") == NULL, "no javascript: URL left");
}

/* The block's heading: the text of the 16px div. */
static const char *heading(const char *html)
{
    static char h[256];
    const char *mark = "font-size: 16px; line-height: 22px; font-weight: bold;";
    const char *p = html ? strstr(html, mark) : NULL;
    p = p ? strchr(p, '>') : NULL;
    const char *e = p ? strstr(p, "</div>") : NULL;
    if (!e || (size_t)(e - p - 1) >= sizeof h)
        return "";
    memcpy(h, p + 1, (size_t)(e - p - 1));
    h[e - p - 1] = '\0';
    return h;
}

static void test_summary(void)
{
    struct {
        const char *name, *annotations, *language, *want, *row, *gone_row;
    } cases[] = {
        {"summary first", "\"summary\":\"S\",\"message\":\"M\",\"description\":\"D\"", NULL, "S",
         ">message<", ">summary<"},
        {"then message", "\"message\":\"M\",\"description\":\"D\"", NULL, "M", ">description<",
         ">message<"},
        {"then description", "\"description\":\"D\",\"other\":\"o\"", NULL, "D", ">other<",
         ">description<"},
        {"then alertname", "\"other\":\"o\"", NULL, "A", ">other<", NULL},
        {"zh-cn: summaryCn before message", "\"message\":\"M\",\"summaryCn\":\"C\"", "zh-cn", "C",
         ">message<", ">summaryCn<"},
    };
    for (size_t i = 0; i < ND_ARRAY_LEN(cases); i++) {
        char buf[1024];
        snprintf(buf, sizeof buf, GROUP(ALERT("firing", "\"alertname\":\"A\"", "%s", "")),
                 cases[i].annotations);
        const char *html = render(buf, cases[i].language);
        is_str(heading(html), cases[i].want, "summary, %s", cases[i].name);
        has_str(html, cases[i].row, "summary, %s: other annotations listed", cases[i].name);
        if (cases[i].gone_row)
            ok(html && strstr(html, cases[i].gone_row) == NULL,
               "summary, %s: the annotation used as summary is not repeated", cases[i].name);
    }
    /* labels are listed, names translated in zh-cn */
    const char *html = render(
        GROUP(ALERT("firing", "\"alertname\":\"A\",\"namespace\":\"ns1\"", "", "")), "zh-cn");
    has_str(html, ">项目</td><td style=\"padding: 2px 0; white-space: pre-wrap;\">ns1</td>",
            "zh-cn: label names translated");
    has_str(html, ">触发中</span>", "zh-cn: status badge translated");
}

int main(void)
{
    test_status_colours();
    test_escaping();
    test_links();
    test_summary();
    return done_testing();
}
