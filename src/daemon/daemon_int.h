/* daemon_int.h - what the files of src/daemon share. */
#ifndef NOTIFYD_DAEMON_INT_H
#define NOTIFYD_DAEMON_INT_H

struct nd_notification;

/* Notification Manager's verify alert (its POST /api/v2/verify handler:
 * labels alertname = alerttype = "verify" and alerttime, the congratulation
 * annotation, startsAt = endsAt = now) as a one-alert notification for
 * `receiver` (borrowed: it must outlive the notification). The caller owns
 * the one reference. testrcv.c. */
struct nd_notification *nd__verify_notification(const char *receiver);

#endif
