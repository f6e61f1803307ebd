/* bench_payload.c - webhook JSON bodies per second, without the network.
 *
 *   bench_payload [-n BODIES] [-k ALERTS] [-t] [-d FILE]
 *
 * Builds POOL (64) notifications of ALERTS alerts each (default 5, about
 * what bench/run.sh's ingest load makes per webhook), with the alerts of
 * bench/alerts.lua: 8 labels (alertname, severity, namespace, pod, instance,
 * job, container, cluster), a summary and a description templated from the
 * labels (so they are stored with back-references, as ingest stores them),
 * a Prometheus generatorURL, all firing at the same startsAt. Each
 * notification comes out of the aggregator (group labels alertname and
 * namespace, receiver "bench"), as in the daemon. Then it renders BODIES
 * bodies (default 100,000) with nd_payload_webhook_json, cycling through the
 * pool into one reused buffer, and prints CPU ns per body and per alert.
 *
 * For a comparison that the other load of a shared machine does not blur,
 * count instructions: valgrind --tool=callgrind BUILD/bench_payload (see
 * bench/RESULTS.md). As a test (-t), it renders a few bodies and checks each
 * one (complete, one fingerprint per alert, the trailing newline); it
 * asserts no timing. -d writes the pool's bodies to FILE, one after the
 * other, to compare the bytes of two builds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "notifyd/aggregate.h"
#include "notifyd/alert.h"
#include "notifyd/notification.h"
#include "notifyd/payload.h"
#include "notifyd/util.h"

#define POOL 64

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

static void add(struct nd_alert_builder *b, int label, const char *name, const char *value)
{
    if (label)
        nd_alert_builder_add_label(b, name, strlen(name), value, strlen(value));
    else
        nd_alert_builder_add_annotation(b, name, strlen(name), value, strlen(value));
}

/* Alert number n of group g (alertname and namespace come from g). */
static struct nd_alert *mk_alert(unsigned g, unsigned n)
{
    const char *an = alertnames[g % 10], *ctr = containers[n % 4];
    char ns[16], pod[80], inst[80], cl[32], sum[160], desc[400], err[ND_ERRLEN];
    static const char gen[] = "http://prometheus-k8s-0.monitoring.svc:9090/graph?g0.expr="
                              "rate%28kube_pod_container_status_restarts_total%5B15m%5D%29+%3E+0&"
                              "g0.tab=1";
    struct nd_alert_builder b;
    struct nd_time st;
    struct nd_alert *a;

    snprintf(ns, sizeof ns, "team-%02u", g % 20);
    snprintf(pod, sizeof pod, "%s-%s-%08x", deployments[n % 8], "bench", n);
    snprintf(inst, sizeof inst, "node-%06x.%s:9100", n, "bench");
    snprintf(cl, sizeof cl, "bench-cluster-%u", n % 3);
    snprintf(sum, sizeof sum, "%s on %s/%s", an, ns, pod);
    snprintf(desc, sizeof desc,
             "Pod %s/%s (container %s) has been degraded for more than 15 minutes; check "
             "recent deploys and limits. Runbook: https://runbooks.example.com/%s",
             ns, pod, ctr, an);
    nd_alert_builder_init(&b, 1 << 20);
    add(&b, 1, "alertname", an);
    add(&b, 1, "severity", severities[n % 3]);
    add(&b, 1, "namespace", ns);
    add(&b, 1, "pod", pod);
    add(&b, 1, "instance", inst);
    add(&b, 1, "job", "kube-state-metrics");
    add(&b, 1, "container", ctr);
    add(&b, 1, "cluster", cl);
    add(&b, 0, "summary", sum);
    add(&b, 0, "description", desc);
    if (nd_time_parse_rfc3339("2026-11-26T12:00:00Z", 20, &st) != ND_OK)
        abort();
    nd_alert_builder_set_times(&b, &st, NULL);
    nd_alert_builder_set_generator_url(&b, gen, sizeof gen - 1);
    nd_alert_builder_set_status(&b, ND_ALERT_FIRING);
    a = nd_alert_builder_finish(&b, NULL, 0, err);
    nd_alert_builder_deinit(&b);
    if (!a) {
        fprintf(stderr, "bench_payload: %s\n", err);
        exit(1);
    }
    return a;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Occurrences of needle in s. */
static size_t count(const char *s, const char *needle)
{
    size_t c = 0;
    while ((s = strstr(s, needle)) != NULL) {
        c++;
        s += strlen(needle);
    }
    return c;
}

int main(int argc, char **argv)
{
    unsigned bodies = 100000, k = 5, test = 0;
    static const char *const gl[] = {"alertname", "namespace"};
    struct nd_notification *pool[POOL];
    struct nd_alert **alerts;
    struct nd_aggregator *ag;
    struct nd_buf b;
    size_t bytes = 0, bad = 0;
    double t0, t;
    const char *dump = NULL;
    int opt;

    while ((opt = getopt(argc, argv, "n:k:td:")) != -1) {
        if (opt == 'n')
            bodies = (unsigned)strtoul(optarg, NULL, 10);
        else if (opt == 'k')
            k = (unsigned)strtoul(optarg, NULL, 10);
        else if (opt == 't')
            test = 1;
        else if (opt == 'd')
            dump = optarg;
        else {
            fprintf(stderr, "usage: bench_payload [-n BODIES] [-k ALERTS] [-t] [-d FILE]\n");
            return 2;
        }
    }
    if (k == 0 || k > 10000) {
        fprintf(stderr, "bench_payload: -k must be 1..10000\n");
        return 2;
    }
    if (test)
        bodies = 2 * POOL;

    ag = nd_aggregator_new(gl, 2);
    alerts = nd_xcalloc(k, sizeof(*alerts));
    for (unsigned g = 0; g < POOL; g++) {
        struct nd_notification **ns;
        size_t m;

        for (unsigned i = 0; i < k; i++)
            alerts[i] = mk_alert(g, g * k + i);
        m = nd_aggregator_run(ag, "bench", alerts, k, 0, &ns);
        if (m != 1) {
            fprintf(stderr, "bench_payload: %zu notifications for one group\n", m);
            return 1;
        }
        pool[g] = ns[0];
        free(ns);
        for (unsigned i = 0; i < k; i++)
            nd_alert_unref(alerts[i]);
    }
    free(alerts);
    nd_aggregator_free(ag);

    nd_buf_init(&b, 64u << 20);
    if (dump) {
        FILE *f = fopen(dump, "w");
        for (unsigned g = 0; f && g < POOL; g++) {
            nd_buf_reset(&b);
            if (nd_payload_webhook_json(pool[g], &b) == ND_OK)
                fwrite(b.data, 1, b.len, f);
        }
        if (!f || fclose(f) != 0) {
            fprintf(stderr, "bench_payload: cannot write %s\n", dump);
            return 1;
        }
    }
    t0 = cpu_s();
    for (unsigned i = 0; i < bodies; i++) {
        nd_buf_reset(&b);
        if (nd_payload_webhook_json(pool[i % POOL], &b) != ND_OK) {
            bad++;
            continue;
        }
        bytes += b.len;
        if (test && (count(nd_buf_cstr(&b), "\"fingerprint\":\"") != k || b.len < 2 ||
                     strcmp(b.data + b.len - 2, "}\n") != 0 ||
                     strncmp(b.data, "{\"alerts\":[{\"id\":\"", 18) != 0))
            bad++;
    }
    t = cpu_s() - t0;
    nd_buf_deinit(&b);
    for (unsigned g = 0; g < POOL; g++)
        nd_notification_unref(pool[g]);

    if (test) {
        printf("1..1\n%s 1 - %u bodies of %u alerts rendered and complete (%zu bad)\n",
               bad ? "not ok" : "ok", bodies, k, bad);
        return bad ? 1 : 0;
    }
    printf("bodies %u  alerts/body %u  bytes/body %.0f  cpu %.3f s  ns/body %.0f  ns/alert %.0f"
           "%s\n",
           bodies, k, bodies ? (double)bytes / bodies : 0.0, t, bodies ? t * 1e9 / bodies : 0.0,
           bodies ? t * 1e9 / bodies / k : 0.0, bad ? "  (SOME BODIES FAILED)" : "");
    return bad ? 1 : 0;
}
