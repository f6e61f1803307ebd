/* tmpl_test.h - helpers for the template unit tests: render a text against
 * a JSON payload and get the output or the error message. */
#ifndef NOTIFYD_TMPL_TEST_H
#define NOTIFYD_TMPL_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/template.h"
#include "notifyd/util.h"

/* A small payload: two alerts, one firing, one resolved. */
static const char TT_DATA[] =
    "{\"receiver\":\"team-x\",\"status\":\"firing\",\"alerts\":["
    "{\"status\":\"firing\",\"labels\":{\"alertname\":\"HighCPU\",\"severity\":\"critical\","
    "\"rule_id\":\"r1\",\"b\":\"2\",\"a\":\"1\"},"
    "\"annotations\":{\"message\":\"cpu high\",\"summary\":\"sum\",\"runbook_url\":\"u\"},"
    "\"startsAt\":\"2024-05-01T10:00:00.123456789+08:00\",\"endsAt\":\"0001-01-01T00:00:00Z\","
    "\"generatorURL\":\"http://g\",\"fingerprint\":\"fp1\"},"
    "{\"status\":\"resolved\",\"labels\":{\"alertname\":\"Disk\"},"
    "\"annotations\":{\"summary\":\"disk full\",\"summaryCn\":\"cn\"},"
    "\"startsAt\":\"2024-05-01T02:00:00Z\",\"endsAt\":\"2024-05-01T03:04:05.5Z\"}],"
    "\"groupLabels\":{\"alertname\":\"HighCPU\"},"
    "\"commonLabels\":{\"alertname\":\"HighCPU\",\"severity\":\"critical\"},"
    "\"commonAnnotations\":{},\"externalURL\":\"http://am\"}";

static char tt_out[1 << 16];
static char tt_err[ND_ERRLEN];

/* Parses `defs` (may be NULL) as file "defs", then renders `text` as the
 * anonymous template "" over `json` (TT_DATA when NULL). Returns the output,
 * or "ERR: <message>". */
static const char *tt_render_full(const char *defs, const char *text, const char *json,
                                  size_t limit)
{
    struct nd_template_set *s = nd_template_set_new();
    struct nd_template_data *d = NULL;
    struct nd_buf out;
    nd_buf_init(&out, limit);
    tt_err[0] = '\0';
    int rc = ND_OK;
    if (defs)
        rc = nd_template_set_parse(s, "defs", defs, strlen(defs), tt_err);
    if (rc == ND_OK) {
        const char *j = json ? json : TT_DATA;
        d = nd_template_data_from_json(j, strlen(j), tt_err);
        if (!d)
            rc = ND_EINVAL;
    }
    if (rc == ND_OK)
        rc = nd_template_execute_text(s, "", text, strlen(text), d, &out, tt_err);
    if (rc == ND_OK)
        snprintf(tt_out, sizeof tt_out, "%s", nd_buf_cstr(&out));
    else
        snprintf(tt_out, sizeof tt_out, "ERR: %s", tt_err);
    nd_buf_deinit(&out);
    nd_template_data_free(d);
    nd_template_set_free(s);
    return tt_out;
}

static const char *tt_render(const char *text)
{
    return tt_render_full(NULL, text, NULL, 1 << 20);
}

#define T_IS(text, want) is_str(tt_render(text), want, "%s", "" text)

struct tt_case {
    const char *text;
    const char *want; /* Go's output, or "ERR: " and Go's error message */
};

static inline void tt_run_cases(const struct tt_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        /* TAP names are one line: show newlines as \n */
        char name[256];
        size_t k = 0;
        for (const char *p = c[i].text; *p && k + 3 < sizeof name; p++) {
            if (*p == '\n') {
                name[k++] = '\\';
                name[k++] = 'n';
            } else {
                name[k++] = *p == '#' ? '_' : *p;
            }
        }
        name[k] = '\0';
        is_str(tt_render(c[i].text), c[i].want, "go: %s", name);
    }
}

#endif
