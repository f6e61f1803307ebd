/* fuzz_ingest_json.c - the body of POST /api/v2/alerts (src/ingest/json.c):
 * both shapes, the Alertmanager webhook payload {"alerts":[...]} and the
 * Prometheus-style array [...], and the webhook payload as the template layer
 * reads it (`notifyd template render --data`).
 *
 * Checks beyond "no crash, no leak": the whole-body parse and the streaming
 * parse fed in pieces (the pieces' length taken from the input, so that cuts
 * fall everywhere, inside tokens and UTF-8 sequences) agree on the outcome,
 * the reason and every alert; each alert has a label and the cluster label;
 * and the string table is back to where it was once the alerts are freed.
 */
#include <string.h>

#include "fuzz.h"
#include "notifyd/alert.h"
#include "notifyd/ingest.h"
#include "notifyd/intern.h"
#include "notifyd/template.h"
#include "notifyd/util.h"

static const struct nd_ingest_opts opts = {
    .cluster = "fuzz",
    .max_depth = 32,
    .now_ns = INT64_C(1767225600) * 1000000000, /* fixed: the outcome is the input's alone */
    .max_alert_bytes = 64u << 10,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

void fuzz_cleanup(void)
{
}

static void check_alert(const struct nd_alert *a)
{
    FUZZ_CHECK(a->nlabels >= 1, "an alert without labels");
    const char *cl = nd_alert_label(a, "cluster");
    FUZZ_CHECK(cl != NULL, "no cluster label");
    FUZZ_CHECK(a->status == ND_ALERT_FIRING || a->status == ND_ALERT_RESOLVED, "status %u",
               (unsigned)a->status);
    for (size_t i = 1; i < a->nlabels; i++) {
        struct nd_kv p = nd_alert_label_at(a, i - 1), q = nd_alert_label_at(a, i);
        FUZZ_CHECK(strcmp(p.name, q.name) < 0, "labels not sorted and unique: %s, %s", p.name,
                   q.name);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t interned = nd_intern_count();
    struct nd_alert **whole = NULL, **streamed = NULL;
    size_t nwhole = 0, nstreamed = 0;
    enum nd_reject_reason why1 = ND_REJECT_INVALID_JSON, why2 = ND_REJECT_INVALID_JSON;
    char err1[ND_ERRLEN] = "", err2[ND_ERRLEN] = "";

    int rc1 = nd_ingest_parse(&opts, data, size, &whole, &nwhole, &why1, err1);

    size_t step = size ? (size_t)data[size - 1] % 17 + 1 : 1;
    struct nd_ingest_stream *st = nd_ingest_stream_new(&opts);
    for (size_t off = 0; off < size; off += step)
        nd_ingest_stream_feed(st, data + off, size - off < step ? size - off : step);
    int rc2 = nd_ingest_stream_end(st, &streamed, &nstreamed, &why2, err2);

    FUZZ_CHECK(rc1 == rc2, "whole %d (%s), in pieces of %zu %d (%s)", rc1, err1, step, rc2, err2);
    if (rc1 == ND_OK) {
        FUZZ_CHECK(nwhole == nstreamed, "%zu alerts whole, %zu in pieces", nwhole, nstreamed);
        for (size_t i = 0; i < nwhole; i++) {
            check_alert(whole[i]);
            FUZZ_CHECK(nd_alert_id(whole[i]) == nd_alert_id(streamed[i]) &&
                           whole[i]->size == streamed[i]->size,
                       "alert %zu differs whole and in pieces", i);
        }
    } else {
        FUZZ_CHECK(whole == NULL && nwhole == 0 && streamed == NULL && nstreamed == 0,
                   "alerts left after an error");
        FUZZ_CHECK(why1 == why2, "reason %d whole, %d in pieces", (int)why1, (int)why2);
        FUZZ_CHECK(err1[0] != '\0', "an error without a message");
    }
    nd_ingest_alerts_free(whole, nwhole);
    nd_ingest_alerts_free(streamed, nstreamed);
    FUZZ_CHECK(nd_intern_count() == interned, "string table: %zu entries before, %zu after",
               interned, nd_intern_count());

    char err[ND_ERRLEN];
    struct nd_template_data *d = nd_template_data_from_json((const char *)data, size, err);
    nd_template_data_free(d);
    return 0;
}
