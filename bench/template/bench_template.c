/* bench_template.c - renders per second of nm.default.text (issue 3).
 *
 * Two groups, built once from webhook payloads: 1 alert and 100 alerts,
 * with the labels and annotations of a typical Kubernetes alert. Each case
 * renders for a fixed time on the calling thread (pin it with taskset) and
 * reports renders/s. "render" is what a receiver pays per notification once
 * the data exists (nd_template_text: parse of the invocation, execution,
 * trailing-blank trim); "data+render" also builds the template data from
 * the JSON each time (what `notifyd template render` does).
 *
 * usage: bench_template [--seconds S] [--check]
 *   --check  exits 1 unless the 1-alert render reaches 50,000 renders/s
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "notifyd/buf.h"
#include "notifyd/template.h"
#include "notifyd/util.h"

#define TARGET_1ALERT 50000.0

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void add_alert(struct nd_buf *b, int i)
{
    nd_buf_printf(b,
                  "%s{\"status\":\"%s\",\"labels\":{\"alertname\":\"KubePodCrashLooping\","
                  "\"cluster\":\"prod-eu-1\",\"container\":\"api\",\"namespace\":\"shop\","
                  "\"pod\":\"api-7d9f8c-%05d\",\"severity\":\"critical\","
                  "\"job\":\"kube-state-metrics\",\"receiver\":\"ops\"},"
                  "\"annotations\":{\"message\":\"Pod shop/api-7d9f8c-%05d (api) is restarting "
                  "2.5 times / 10 minutes.\",\"runbook_url\":\"https://runbooks.example/"
                  "KubePodCrashLooping\",\"summary\":\"Pod is crash looping.\"},"
                  "\"startsAt\":\"2026-11-26T10:%02d:00Z\",\"endsAt\":\"0001-01-01T00:00:00Z\","
                  "\"generatorURL\":\"http://prometheus:9090/graph?g0.expr=up\","
                  "\"fingerprint\":\"%016x\"}",
                  i ? "," : "", i % 10 == 9 ? "resolved" : "firing", i, i, i % 60,
                  (unsigned)(0x9e3779b9u * (unsigned)(i + 1)));
}

static char *payload(int nalerts)
{
    struct nd_buf b;
    nd_buf_init(&b, (size_t)-1);
    nd_buf_adds(&b, "{\"receiver\":\"ops\",\"status\":\"firing\",\"alerts\":[");
    for (int i = 0; i < nalerts; i++)
        add_alert(&b, i);
    nd_buf_adds(&b, "],\"groupLabels\":{\"alertname\":\"KubePodCrashLooping\","
                    "\"namespace\":\"shop\"},\"commonLabels\":{\"alertname\":"
                    "\"KubePodCrashLooping\",\"namespace\":\"shop\",\"receiver\":\"ops\"},"
                    "\"commonAnnotations\":{},\"externalURL\":\"http://alertmanager:9093\"}");
    char *s = nd_xstrdup(nd_buf_cstr(&b));
    nd_buf_deinit(&b);
    return s;
}

struct result {
    double rate, us;
    size_t bytes;
};

static int run_case(const struct nd_template_set *set, const char *json, bool with_data,
                    double seconds, struct result *r)
{
    char err[ND_ERRLEN];
    struct nd_template_data *d = nd_template_data_from_json(json, strlen(json), err);
    struct nd_buf out;
    long n = 0;

    if (!d) {
        fprintf(stderr, "data: %s\n", err);
        return -1;
    }
    nd_buf_init(&out, 16u << 20);
    double t0 = now_s(), t;
    do {
        for (int k = 0; k < 64; k++, n++) {
            struct nd_template_data *dd = d;
            if (with_data) {
                dd = nd_template_data_from_json(json, strlen(json), err);
                if (!dd)
                    abort();
            }
            nd_buf_reset(&out);
            if (nd_template_text(set, "nm.default.text", dd, &out, err) != ND_OK) {
                fprintf(stderr, "render: %s\n", err);
                abort();
            }
            if (with_data)
                nd_template_data_free(dd);
        }
        t = now_s() - t0;
    } while (t < seconds);
    r->rate = (double)n / t;
    r->us = t * 1e6 / (double)n;
    r->bytes = out.len;
    nd_buf_deinit(&out);
    nd_template_data_free(d);
    return 0;
}

int main(int argc, char **argv)
{
    double seconds = 2.0;
    bool check = false;
    char err[ND_ERRLEN];

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--check") == 0)
            check = true;
        else {
            fprintf(stderr, "usage: bench_template [--seconds S] [--check]\n");
            return 2;
        }
    }
    struct nd_template_set *set = nd_template_set_new();
    if (nd_template_set_add_defaults(set, err) != ND_OK) {
        fprintf(stderr, "defaults: %s\n", err);
        return 1;
    }
    static const int sizes[] = {1, 100};
    double one_alert = 0;
    printf("| case | alerts | renders/s | µs/render | output bytes |\n");
    printf("|---|---:|---:|---:|---:|\n");
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        char *json = payload(sizes[s]);
        for (int wd = 0; wd < 2; wd++) {
            struct result r;
            if (run_case(set, json, wd, seconds, &r) != 0)
                return 1;
            if (sizes[s] == 1 && !wd)
                one_alert = r.rate;
            printf("| nm.default.text %s | %d | %.0f | %.2f | %zu |\n",
                   wd ? "data+render" : "render", sizes[s], r.rate, r.us, r.bytes);
            fflush(stdout);
        }
        free(json);
    }
    nd_template_set_free(set);
    if (check && one_alert < TARGET_1ALERT) {
        printf("FAIL: %.0f renders/s of a 1-alert group, target %.0f\n", one_alert, TARGET_1ALERT);
        return 1;
    }
    return 0;
}
