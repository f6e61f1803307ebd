/* bench_ingest.c - parse speed and memory per alert without the network.
 *
 *   bench_ingest [-n ROUNDS] [-k ALERTS] [-p POOL] [-m HELD] [-u] [-s BYTES]
 *
 * Builds request bodies like bench/alerts.lua (8 labels, summary and
 * description, about 830 bytes of JSON per alert, distinct label sets): POOL
 * bodies of ALERTS alerts (200 x 100 by default, as wrk cycles through
 * them), and parses ROUNDS bodies in turn, dropping the alerts each time:
 * alerts/s is the parser alone. -u writes the summary and description in
 * Chinese (UTF-8, as a zh-cn template would): the non-ASCII case of the
 * lexer. -s feeds each body to the streaming parser in pieces of BYTES, as
 * the HTTP server does with what each read returns (at most 65536). With
 * -m, it then parses HELD distinct alerts and keeps
 * them, and reports heap and RSS growth per held alert. Run under taskset
 * for stable figures (times are CPU time of the process, so that other load
 * on the machine matters less). As a test (`-t`), it runs a few rounds and checks
 * that every alert parsed and that the string table is empty at the end;
 * it asserts no timing.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "notifyd/alert.h"
#include "notifyd/ingest.h"
#include "notifyd/intern.h"
#include "notifyd/util.h"

static const char *const alertnames[] = {
    "KubePodCrashLooping", "KubeContainerWaiting", "KubeDeploymentReplicasMismatch",
    "CPUThrottlingHigh",   "KubeJobFailed",        "NodeFilesystemSpaceFillingUp",
    "TargetDown",          "KubeMemoryOvercommit", "KubePersistentVolumeFillingUp",
    "KubeHpaMaxedOut"};
static const char *const severities[] = {"warning", "critical", "info"};
static const char *const deployments[] = {"api-gateway",  "checkout",       "payments",
                                          "inventory",    "search-indexer", "notification-worker",
                                          "user-profile", "frontend"};
static const char *const containers[] = {"app", "sidecar", "envoy", "metrics-exporter"};

static int utf8; /* -u */

static void add_alert(struct nd_buf *b, unsigned n)
{
    const char *an = alertnames[n % 10], *ctr = containers[n % 4];
    char ns[16], pod[80], inst[80];
    snprintf(ns, sizeof ns, "team-%02u", n % 20);
    snprintf(pod, sizeof pod, "%s-%s-%08x", deployments[n % 8], "bench", n);
    snprintf(inst, sizeof inst, "node-%06x.%s:9100", n, "bench");
    if (utf8)
        nd_buf_printf(b,
                      "{\"status\":\"firing\",\"labels\":{\"alertname\":\"%s\",\"severity\":\"%s\","
                      "\"namespace\":\"%s\",\"pod\":\"%s\",\"instance\":\"%s\","
                      "\"job\":\"kube-state-metrics\",\"container\":\"%s\","
                      "\"cluster\":\"bench-cluster-%u\"},"
                      "\"annotations\":{\"summary\":\"%s：%s/%s 异常\",\"description\":\"容器组 "
                      "%s/%s（容器 %s）已降级超过 15 分钟；请检查最近的发布和资源限制。"
                      "处理手册：https://runbooks.example.com/%s\"},"
                      "\"startsAt\":\"2026-11-26T12:00:00Z\",\"endsAt\":\"0001-01-01T00:00:00Z\","
                      "\"generatorURL\":\"http://prometheus-k8s-0.monitoring.svc:9090/graph?g0."
                      "expr=rate%%28kube_pod_container_status_restarts_total%%5B15m%%5D%%29+%%3E+0&"
                      "g0.tab=1\",\"fingerprint\":\"%016x\"}",
                      an, severities[n % 3], ns, pod, inst, ctr, n % 3, an, ns, pod, ns, pod, ctr,
                      an, n);
    else
        nd_buf_printf(
            b,
            "{\"status\":\"firing\",\"labels\":{\"alertname\":\"%s\",\"severity\":\"%s\","
            "\"namespace\":\"%s\",\"pod\":\"%s\",\"instance\":\"%s\","
            "\"job\":\"kube-state-metrics\",\"container\":\"%s\","
            "\"cluster\":\"bench-cluster-%u\"},"
            "\"annotations\":{\"summary\":\"%s on %s/%s\",\"description\":\"Pod %s/%s "
            "(container %s) has been degraded for more than 15 minutes; check recent "
            "deploys and limits. Runbook: https://runbooks.example.com/%s\"},"
            "\"startsAt\":\"2026-11-26T12:00:00Z\",\"endsAt\":\"0001-01-01T00:00:00Z\","
            "\"generatorURL\":\"http://prometheus-k8s-0.monitoring.svc:9090/graph?g0.expr="
            "rate%%28kube_pod_container_status_restarts_total%%5B15m%%5D%%29+%%3E+0&g0.tab="
            "1\",\"fingerprint\":\"%016x\"}",
            an, severities[n % 3], ns, pod, inst, ctr, n % 3, an, ns, pod, ns, pod, ctr, an, n);
}

static void make_body(struct nd_buf *b, unsigned first, unsigned k)
{
    nd_buf_reset(b);
    nd_buf_adds(b, "{\"version\":\"4\",\"groupKey\":\"{}:{alertname=\\\"bench\\\"}\","
                   "\"truncatedAlerts\":0,\"status\":\"firing\",\"receiver\":\"bench\","
                   "\"groupLabels\":{},\"commonLabels\":{},\"commonAnnotations\":{},"
                   "\"externalURL\":\"http://alertmanager:9093\",\"alerts\":[");
    for (unsigned i = 0; i < k; i++) {
        if (i)
            nd_buf_addc(b, ',');
        add_alert(b, first + i);
    }
    nd_buf_adds(b, "]}");
}

static size_t step; /* -s: stream in pieces of this many bytes; 0 = whole bodies */

static int parse(const struct nd_ingest_opts *o, const struct nd_buf *b, struct nd_alert ***al,
                 size_t *n, char *err)
{
    if (!step)
        return nd_ingest_parse(o, b->data, b->len, al, n, NULL, err);
    struct nd_ingest_stream *st = nd_ingest_stream_new(o);
    for (size_t i = 0; i < b->len; i += step)
        nd_ingest_stream_feed(st, b->data + i, b->len - i < step ? b->len - i : step);
    return nd_ingest_stream_end(st, al, n, NULL, err);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

int main(int argc, char **argv)
{
    unsigned rounds = 20000, k = 100, held = 0, pool = 200;
    int test = 0, opt;
    while ((opt = getopt(argc, argv, "n:k:m:p:s:tu")) != -1) {
        if (opt == 'n')
            rounds = (unsigned)strtoul(optarg, NULL, 10);
        else if (opt == 'k')
            k = (unsigned)strtoul(optarg, NULL, 10);
        else if (opt == 'p')
            pool = (unsigned)strtoul(optarg, NULL, 10);
        else if (opt == 'm')
            held = (unsigned)strtoul(optarg, NULL, 10);
        else if (opt == 't')
            test = 1;
        else if (opt == 'u')
            utf8 = 1;
        else if (opt == 's')
            step = (size_t)strtoul(optarg, NULL, 10);
        else
            return 2;
    }
    if (test) {
        rounds = 3;
        pool = 2;
        held = 1000;
    }
    if (k == 0)
        k = 1;
    if (pool == 0)
        pool = 1;
    struct nd_ingest_opts o = {"c", 0, INT64_C(1800000000000000000), 0};
    struct nd_buf body, *bodies = nd_xmalloc(pool * sizeof *bodies);
    nd_buf_init(&body, (size_t)1 << 30);
    for (unsigned i = 0; i < pool; i++) {
        nd_buf_init(&bodies[i], (size_t)1 << 30);
        make_body(&bodies[i], 1000000000u + i * k, k);
    }
    char err[ND_ERRLEN];
    int failed = 0;
    double t0 = now_s();
    for (unsigned r = 0; r < rounds; r++) {
        struct nd_alert **al;
        size_t n;
        const struct nd_buf *bb = &bodies[r % pool];
        if (parse(&o, bb, &al, &n, err) != ND_OK || n != k) {
            fprintf(stderr, "parse failed: %s\n", err);
            failed = 1;
            break;
        }
        nd_ingest_alerts_free(al, n);
    }
    double dt = now_s() - t0;
    if (!test && rounds)
        printf("parse: %u x %u alerts (%zu bytes) in %.3f s: %.0f alerts/s, %.1f MB/s\n", rounds, k,
               bodies[0].len, dt, (double)rounds * k / dt,
               (double)rounds * (double)bodies[0].len / dt / 1e6);

    if (held) {
        struct nd_alert **all = nd_xmalloc(held * sizeof *all);
        size_t have = 0;
        long rss0 = rss_kb();
        struct mallinfo2 m0 = mallinfo2();
        while (have < held && !failed) {
            unsigned kk = held - have < k ? (unsigned)(held - have) : k;
            make_body(&body, (unsigned)have, kk);
            struct nd_alert **al;
            size_t n;
            if (parse(&o, &body, &al, &n, err) != ND_OK || n != kk) {
                fprintf(stderr, "parse failed: %s\n", err);
                failed = 1;
                break;
            }
            memcpy(all + have, al, n * sizeof *al);
            have += n;
            free(al);
        }
        struct mallinfo2 m1 = mallinfo2();
        long rss1 = rss_kb();
        uint64_t cost = 0;
        for (size_t i = 0; i < have; i++)
            cost += all[i]->size;
        if (!test && have)
            printf("held %zu alerts: accounted %.0f B/alert, heap %.0f B/alert, RSS %.0f "
                   "B/alert; string table: %zu entries, %zu bytes\n",
                   have, (double)cost / (double)have,
                   (double)(m1.uordblks - m0.uordblks) / (double)have,
                   (double)(rss1 - rss0) * 1024.0 / (double)have, nd_intern_count(),
                   nd_intern_bytes());
        for (size_t i = 0; i < have; i++)
            nd_alert_unref(all[i]);
        free(all);
        long rss2 = rss_kb();
        malloc_trim(0);
        if (!test && have)
            printf("after freeing them: RSS %+ld KiB over the start; after malloc_trim: %+ld KiB\n",
                   rss2 - rss0, rss_kb() - rss0);
    }
    nd_buf_deinit(&body);
    for (unsigned i = 0; i < pool; i++)
        nd_buf_deinit(&bodies[i]);
    free(bodies);
    if (test) {
        printf("%sok 1 - bench bodies parse\n", failed ? "not " : "");
        printf("%sok 2 - string table empty after the last alert\n",
               nd_intern_count() == 0 && nd_intern_capacity() == 0 ? "" : "not ");
        printf("1..2\n");
        return failed || nd_intern_count() != 0;
    }
    return failed;
}
