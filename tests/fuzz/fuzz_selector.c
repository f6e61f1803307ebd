/* fuzz_selector.c - the label selector parser and matcher (selector.h).
 *
 * One input is a selector text, then after the first newline a label set,
 * one "name=value" per line (a line without '=' is a name with an empty
 * value). The selector is parsed; when it parses it is matched against the
 * label set twice, through a lookup callback and as an alert built from the
 * same labels (nd_alert_builder: a name given twice keeps the last value,
 * an empty value is an absent label; the callback reads them the same way),
 * and its canonical text (nd_selector_format) is parsed again.
 *
 * Checks: a refused text has a message and a column within the text (one
 * past its end at most); an accepted one has at most ND_SELECTOR_MAX_REQS
 * requirements; both matchers agree; the canonical text parses (unless
 * quoting made it longer than ND_SELECTOR_MAX_LEN) into a selector with the
 * same count, the same canonical text and the same match result.
 */
#include <string.h>

#include "fuzz.h"
#include "notifyd/alert.h"
#include "notifyd/buf.h"
#include "notifyd/selector.h"
#include "notifyd/util.h"

#define MAX_LABELS 64

struct labels {
    const char *name[MAX_LABELS];
    const char *value[MAX_LABELS];
    size_t n;
};

/* The last value given for the name, NULL when it is absent or empty (as
 * the alert builder keeps it). */
static const char *lookup(const void *ud, const char *name)
{
    const struct labels *l = ud;
    for (size_t i = l->n; i-- > 0;)
        if (strcmp(l->name[i], name) == 0)
            return l->value[i][0] ? l->value[i] : NULL;
    return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

void fuzz_cleanup(void)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > ND_SELECTOR_MAX_LEN + 4096)
        return 0;
    char *text = nd_xmalloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    size_t tlen = strlen(text); /* cut at the first NUL, as a config value is */

    struct labels l = {.n = 0};
    char *nl = strchr(text, '\n');
    if (nl) {
        *nl = '\0';
        char *p = nl + 1;
        while (*p && l.n < MAX_LABELS) {
            char *end = strchr(p, '\n');
            if (end)
                *end = '\0';
            char *eq = strchr(p, '=');
            if (eq)
                *eq = '\0';
            if (*p) {
                l.name[l.n] = p;
                l.value[l.n] = eq ? eq + 1 : "";
                l.n++;
            }
            if (!end)
                break;
            p = end + 1;
        }
        tlen = strlen(text);
    }

    struct nd_selector *s = NULL;
    size_t col = 0;
    char err[ND_ERRLEN];
    err[0] = '\0';
    if (nd_selector_parse(text, &s, &col, err) != ND_OK) {
        FUZZ_CHECK(s == NULL, "refused with a selector");
        FUZZ_CHECK(err[0] != '\0', "refused without a message");
        FUZZ_CHECK(col >= 1 && col <= tlen + 1, "column %zu outside 1..%zu", col, tlen + 1);
        free(text);
        return 0;
    }
    FUZZ_CHECK(s != NULL, "accepted without a selector");
    FUZZ_CHECK(nd_selector_count(s) <= ND_SELECTOR_MAX_REQS, "%zu requirements",
               nd_selector_count(s));

    bool m = nd_selector_matches(s, lookup, &l);

    /* The same labels as an alert (the builder wants one label at least). */
    struct nd_alert_builder b;
    char aerr[ND_ERRLEN];
    nd_alert_builder_init(&b, 1 << 20);
    for (size_t i = 0; i < l.n; i++)
        nd_alert_builder_add_label(&b, l.name[i], strlen(l.name[i]), l.value[i],
                                   strlen(l.value[i]));
    nd_alert_builder_add_label(&b, "zz_fuzz", 7, "1", 1);
    struct nd_alert *a = nd_alert_builder_finish(&b, NULL, 0, aerr);
    nd_alert_builder_deinit(&b);
    FUZZ_CHECK(a != NULL, "alert: %s", aerr);
    if (!lookup(&l, "zz_fuzz")) {
        /* zz_fuzz is the one label the callback does not see. */
        struct labels l2 = l;
        if (l2.n < MAX_LABELS) {
            l2.name[l2.n] = "zz_fuzz";
            l2.value[l2.n] = "1";
            l2.n++;
            bool ma = nd_selector_matches_alert(s, a);
            FUZZ_CHECK(ma == nd_selector_matches(s, lookup, &l2), "alert and callback disagree: %d",
                       ma);
        }
    }
    nd_alert_unref(a);

    struct nd_buf canon, canon2;
    nd_buf_init(&canon, SIZE_MAX / 2);
    nd_buf_init(&canon2, SIZE_MAX / 2);
    FUZZ_CHECK(nd_selector_format(s, &canon) == ND_OK, "format failed");
    if (canon.len <= ND_SELECTOR_MAX_LEN) {
        struct nd_selector *s2 = NULL;
        int rc = nd_selector_parse(nd_buf_cstr(&canon), &s2, &col, err);
        FUZZ_CHECK(rc == ND_OK, "canonical text refused at column %zu: %s: %s", col, err,
                   nd_buf_cstr(&canon));
        FUZZ_CHECK(nd_selector_count(s2) == nd_selector_count(s), "count %zu != %zu",
                   nd_selector_count(s2), nd_selector_count(s));
        nd_selector_format(s2, &canon2);
        FUZZ_CHECK(strcmp(nd_buf_cstr(&canon), nd_buf_cstr(&canon2)) == 0,
                   "canonical text not stable: '%s' then '%s'", nd_buf_cstr(&canon),
                   nd_buf_cstr(&canon2));
        FUZZ_CHECK(nd_selector_matches(s2, lookup, &l) == m, "canonical selector matches %d", !m);
        nd_selector_free(s2);
    }
    nd_buf_deinit(&canon);
    nd_buf_deinit(&canon2);
    nd_selector_free(s);
    free(text);
    return 0;
}
