/* payload.h - the bodies the built-in receivers send.
 *
 * Both functions append to a caller's bounded buffer and return ND_OK, or
 * ND_ETOOBIG when the buffer's limit was hit (the buffer then holds a
 * prefix and must not be sent).
 */
#ifndef NOTIFYD_PAYLOAD_H
#define NOTIFYD_PAYLOAD_H

#include "notifyd/buf.h"
#include "notifyd/notification.h"

/* NM's webhook JSON (template.Data), keys in this order, maps sorted by key,
 * Go's escaping, and the trailing "\n" of Go's json.Encoder:
 * {"alerts":[{"id","status","labels","annotations","startsAt","endsAt",
 * "generatorURL","fingerprint"}],"groupLabels","commonLabels","commonAnnotations"} */
int nd_payload_webhook_json(const struct nd_notification *n, struct nd_buf *out);
/* The same, with members of the caller's after each alert's own: extra(ud,
 * i, j) writes keys and values into alert i's object (NM's history adds
 * notificationTime and receiver). */
struct nd_json;
typedef void nd_payload_alert_fn(void *ud, size_t i, struct nd_json *j);
int nd_payload_webhook_json_x(const struct nd_notification *n, nd_payload_alert_fn *extra, void *ud,
                              struct nd_buf *out);

/* A readable multi-line text form (for logs and tests; the console receiver
 * renders nm.default.text instead), e.g.
 *   [firing] receiver=ops alerts=1
 *     group: alertname=Disk
 *     - [firing] alertname=Disk instance=a receiver=ops
 *         summary: disk full                 (one line per annotation)
 *         starts: <RFC3339Nano>  ends: <RFC3339Nano>
 *         generator: http://...              (only when set)
 * followed by an empty line (indents are 2, 4 and 6 spaces). */
int nd_payload_text(const struct nd_notification *n, struct nd_buf *out);

#endif
