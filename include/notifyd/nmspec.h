/* nmspec.h - the bodies of Notification Manager's POST /api/v2/notifications
 * and POST /api/v2/verify turned into receiver sections and alerts.
 *
 * A body is {"receiver": <Receiver object>, "config": <Config object,
 * optional>, "alert": <Alertmanager payload>} (no "alert" for verify).
 * Each type present in receiver.spec (webhook, dingtalk, wechat, feishu,
 * slack, discord, telegram, pushover, email, sms) becomes one receiver
 * section whose keys are the INI keys of that type (docs/api.md has the
 * table), built with the receiver's own configure code (nd_receiver_new), so
 * that a request is validated exactly as a config file is. The Config
 * object's spec.<type> supplies the type's credentials and server settings,
 * as NM's Config does.
 *
 * Credentials: NM's {value: "..."} is taken literally (never as env:VAR or
 * file:PATH: the sections are marked literal_secrets); a valueFrom
 * (secretKeyRef, configMapKeyRef) cannot be resolved without Kubernetes and
 * is a 400 naming the field, as are Kubernetes services, template
 * configmaps (tmplText) and inline TLS material (the INI keys take files).
 * An unknown field is an error naming it; alertSelector and the
 * *ConfigSelector fields are accepted and ignored (NM's handlers apply
 * neither).
 */
#ifndef NOTIFYD_NMSPEC_H
#define NOTIFYD_NMSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "notifyd/config.h"
#include "notifyd/ingest.h"

struct nd_alert;

/* One receiver section of a request. Errors of nd_receiver_new on it read
 * "request:N: [spec.TYPE] key: ..." where N - 1 indexes `paths`: pass them
 * through nd_nmspec_explain. */
struct nd_nmspec_receiver {
    struct nd_receiver_config rc; /* file "request", section "spec.TYPE", literal_secrets */
    char **paths;                 /* parallel to rc.kvs: the request field of each key */
};

struct nd_nmspec {
    char *name; /* receiver.metadata.name ("api" when absent) */
    size_t nreceivers;
    struct nd_nmspec_receiver *receivers; /* enabled types, in the order of spec */
    struct nd_alert **alerts;             /* want_alert: alert.alerts, one reference each */
    size_t nalerts;
};

struct nd_nmspec_opts {
    bool want_alert;             /* /notifications: "alert" is required */
    struct nd_ingest_opts alert; /* how the alerts are parsed (cluster NULL: none added) */
    uint32_t max_depth;          /* nesting limit of the body; 0 = 64 */
};

/* Longest metadata.name. */
#define ND_NMSPEC_NAME_MAX 253

/* Parses and maps a body. ND_OK with *out set (free it with
 * nd_nmspec_free), or ND_EINVAL with the message in err (ND_ERRLEN) naming
 * the field: "receiver.spec.webhook.service: ...", NM's "Receiver is nil",
 * "alert is nil" and "no receivers provided". */
int nd_nmspec_parse(const char *body, size_t len, const struct nd_nmspec_opts *o,
                    struct nd_nmspec **out, char *err);
void nd_nmspec_free(struct nd_nmspec *s);

/* A config error message about r's section, with the INI key replaced by
 * the request field it came from ("receiver.spec.webhook.url: ..."). */
void nd_nmspec_explain(const struct nd_nmspec_receiver *r, const char *msg, char *out,
                       size_t outsz);

#endif
