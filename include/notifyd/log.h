/* log.h - structured logs on stderr, logfmt (default) or JSON.
 *
 *   nd_log(ND_LOG_WARN, "delivery failed", "receiver", name, "status", "404", NULL);
 *   -> ts=2026-11-26T11:00:00.123Z level=warn msg="delivery failed" receiver=ops status=404
 *
 * Fields are pairs of const char * (key, value) ending with NULL. Values are
 * quoted when they need it. Secrets must never be passed as values.
 * The logger state is process-wide: a log line has no other owner, and the
 * only setters are called once at startup.
 */
#ifndef NOTIFYD_LOG_H
#define NOTIFYD_LOG_H

#include <stdio.h>

enum nd_log_level { ND_LOG_DEBUG = 0, ND_LOG_INFO, ND_LOG_WARN, ND_LOG_ERROR };
enum nd_log_format { ND_LOG_LOGFMT = 0, ND_LOG_JSON };

/* "debug" | "info" | "warn" | "error" -> level; returns -1 when unknown. */
int nd_log_level_parse(const char *s);
/* "logfmt" | "json" -> format; returns -1 when unknown. */
int nd_log_format_parse(const char *s);
void nd_log_set_level(enum nd_log_level lvl);
void nd_log_set_format(enum nd_log_format fmt);
/* Tests point the logger at a memory stream; NULL restores stderr. */
void nd_log_set_stream(FILE *f);
int nd_log_enabled(enum nd_log_level lvl);
void nd_log(enum nd_log_level lvl, const char *msg, ...) __attribute__((sentinel));

#endif
