/* testrcv.c - `notifyd test-receiver`: one verification notification
 * through one configured receiver, on a loop of its own.
 *
 * The same engine and receiver code as the daemon, so every receiver type
 * is covered without code of its own here: load the config, build only the
 * named receiver, submit one notification made of Notification Manager's
 * verify alert (its POST /api/v2/verify handler), run the loop until the
 * engine reports that notification's outcome, print it.
 */
#include "notifyd/daemon.h"

#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "notifyd/alert.h"
#include "notifyd/config.h"
#include "notifyd/engine.h"
#include "notifyd/log.h"
#include "notifyd/notification.h"
#include "notifyd/parse.h"
#include "notifyd/template.h"
#include "notifyd/util.h"
#include "daemon_int.h"

/* Notification Manager's verify annotation, word for word. */
#define VERIFY_MESSAGE "Congratulations, your notification configuration is correct!"

struct testrcv {
    struct event_base *base;
    int done;
    int delivered;
    char reason[512];
};

static void on_outcome(void *ud, const struct nd_receiver *r, const struct nd_notification *n,
                       const char *failure)
{
    struct testrcv *t = ud;
    (void)r;
    (void)n;
    t->done = 1;
    t->delivered = failure == NULL;
    if (failure)
        snprintf(t->reason, sizeof t->reason, "%s", failure);
    event_base_loopbreak(t->base);
}

/* Go's time.Now().Local().String() (what NM puts in alerttime):
 * "2006-01-02 15:04:05.999999999 -0700 MST", the fraction without its
 * trailing zeros and left out when zero. */
static void go_local_time(int64_t ns, char *out, size_t cap)
{
    time_t sec = (time_t)(ns / ND_NS_PER_S);
    long nsec = (long)(ns % ND_NS_PER_S);
    struct tm tm;
    char date[64], frac[16] = "", zone[64];

    tzset();
    localtime_r(&sec, &tm);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
    if (nsec) {
        snprintf(frac, sizeof frac, ".%09ld", nsec);
        size_t k = strlen(frac);
        while (frac[k - 1] == '0')
            frac[--k] = '\0';
    }
    strftime(zone, sizeof zone, "%z %Z", &tm);
    snprintf(out, cap, "%s%s %s", date, frac, zone);
}

/* NM's verify alert (labels alertname, alerttype, alerttime; the
 * congratulation annotation; startsAt = endsAt = now) as a one-alert
 * notification for `receiver`. NM leaves its status empty, which notifyd's
 * alerts cannot be: it is firing here, so that a receiver does not take it
 * for a resolved one. */
struct nd_notification *nd__verify_notification(const char *receiver)
{
    struct nd_alert_builder b;
    char when[128], err[ND_ERRLEN];
    int64_t now = nd_now_wall_ns();

    go_local_time(now, when, sizeof when);
    nd_alert_builder_init(&b, 1 << 16);
    nd_alert_builder_add_label(&b, "alertname", 9, "verify", 6);
    nd_alert_builder_add_label(&b, "alerttype", 9, "verify", 6);
    nd_alert_builder_add_label(&b, "alerttime", 9, when, strlen(when));
    nd_alert_builder_add_annotation(&b, "message", 7, VERIFY_MESSAGE, strlen(VERIFY_MESSAGE));
    struct nd_time t = nd_time_from_unix_ns(now);
    nd_alert_builder_set_times(&b, &t, &t);
    nd_alert_builder_set_status(&b, ND_ALERT_FIRING);
    /* No cluster label: the verify alert has exactly its three. */
    struct nd_alert *a = nd_alert_builder_finish(&b, NULL, now, err);
    nd_alert_builder_deinit(&b);
    if (!a)
        abort(); /* three fixed, non-empty labels: cannot happen */

    /* One alert whose annotations are non-empty: the derived form, whose
     * common labels are the alert's plus the virtual receiver label. */
    struct nd_notification *n = nd_notification_new_derived(0);
    n->alerts[0] = a;
    n->ncommon_labels = a->nlabels + (nd_alert_label(a, "receiver") ? 0 : 1);
    n->ncommon_annotations = a->nannotations;
    n->receiver = receiver;
    n->status = ND_ALERT_FIRING;
    n->created_ns = now;
    return n;
}

/* Forces the number of attempts: the receiver's own key, when it has one,
 * would override the [delivery] default. */
static void force_attempts(struct nd_config *cfg, struct nd_receiver_config *rc, uint32_t attempts)
{
    char v[16];
    snprintf(v, sizeof v, "%u", (unsigned)attempts);
    cfg->delivery.retry_max_attempts = attempts;
    struct nd_config_kv *kv = nd_receiver_config_get(rc, "retry_max_attempts");
    if (kv) {
        free(kv->value);
        kv->value = nd_xstrdup(v);
    }
}

int nd_daemon_test_receiver(const char *path, const char *name, unsigned retries, FILE *out,
                            FILE *errout)
{
    /* Every problem of the file, as --check-config prints them. */
    if (path && nd_daemon_check_config(path, errout) != 0)
        return 2;

    struct nd_config *cfg = NULL;
    struct nd_config_errors errs;
    nd_config_errors_init(&errs);
    int rc = path ? nd_config_load_file(path, &cfg, &errs)
                  : nd_config_load_string(nd_config_default_text, "<default>", &cfg, &errs);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(errout, "%s\n", errs.msgs[i]);
    nd_config_errors_deinit(&errs);
    if (rc != 0)
        return 2;

    struct nd_receiver_config *rcfg = NULL;
    for (size_t i = 0; i < cfg->nreceivers; i++) {
        if (strcmp(cfg->receivers[i].name, name) == 0)
            rcfg = &cfg->receivers[i];
    }
    if (!rcfg) {
        fprintf(errout, "notifyd: %s: no receiver named '%s'; configured:", cfg->path, name);
        for (size_t i = 0; i < cfg->nreceivers; i++)
            fprintf(errout, "%s %s", i ? "," : "", cfg->receivers[i].name);
        fprintf(errout, "%s\n", cfg->nreceivers ? "" : " none");
        nd_config_free(cfg);
        return 2;
    }
    force_attempts(cfg, rcfg, retries + 1);

    nd_log_set_level((enum nd_log_level)cfg->log_level);
    nd_log_set_format((enum nd_log_format)cfg->log_format);
    signal(SIGPIPE, SIG_IGN);

    struct testrcv t;
    memset(&t, 0, sizeof t);
    struct nd_template_set *tmpl = NULL;
    struct nd_engine *e = NULL;
    struct nd_receiver *r = NULL;
    char err[ND_ERRLEN];
    int status = 2;

    t.base = event_base_new();
    if (!t.base) {
        fprintf(errout, "notifyd: cannot create the event loop\n");
        goto out;
    }
    nd_config_errors_init(&errs);
    tmpl = nd_template_set_from_config(cfg, &errs);
    if (tmpl) {
        e = nd_engine_new(t.base, tmpl, err);
        if (!e)
            fprintf(errout, "notifyd: cannot start the delivery engine: %s\n", err);
    }
    if (e)
        r = nd_receiver_new(e, rcfg, &cfg->delivery, &errs);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(errout, "%s\n", errs.msgs[i]);
    nd_config_errors_deinit(&errs);
    if (!r)
        goto out;

    nd_engine_set_outcome(e, on_outcome, &t);
    nd_receiver_submit_take(r, nd__verify_notification(nd_receiver_name(r)));
    /* Bounded by the receiver: each attempt by its timeout, the attempts
     * by --retries and its retry_max_age. */
    event_base_dispatch(t.base);
    if (!t.done) {
        fprintf(errout, "notifyd: the event loop ended without an outcome\n");
        status = 1;
    } else if (t.delivered) {
        fprintf(out, "%s (%s): delivered\n", nd_receiver_name(r), nd_receiver_type(r));
        status = 0;
    } else {
        fprintf(out, "%s (%s): not delivered: %s\n", nd_receiver_name(r), nd_receiver_type(r),
                t.reason);
        status = 1;
    }
    fflush(out);

out:
    if (e)
        nd_engine_free(e);
    nd_template_set_free(tmpl);
    if (t.base)
        event_base_free(t.base);
    nd_config_free(cfg);
    return status;
}
