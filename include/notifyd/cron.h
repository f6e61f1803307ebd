/* cron.h - cron schedules for scheduled silences, with the syntax and the
 * "next activation" rule of the scheduler Notification Manager uses
 * (robfig/cron v3, ParseStandard).
 *
 * Syntax: five fields, minute hour day-of-month month day-of-week, each a
 * comma list of `*`, `?` (as `*`), N, N-M, with an optional /STEP (`N/S`
 * means N-max/S); months JAN-DEC and weekdays SUN-SAT by name, any case;
 * weekdays 0-6 (0 = Sunday). When both day fields are restricted a day
 * matches either; when one is `*` (or `?`, without a step above 1) both
 * must match. Descriptors: @yearly (@annually), @monthly, @weekly,
 * @daily (@midnight), @hourly, and `@every DURATION` (a Go duration,
 * rounded down to whole seconds, at least 1s). An optional `CRON_TZ=ZONE `
 * or `TZ=ZONE ` prefix evaluates the schedule in that IANA zone (read from
 * /usr/share/zoneinfo); without it, in the process's local zone.
 *
 * Times are Unix seconds. Activations are on whole minutes (second 0).
 */
#ifndef NOTIFYD_CRON_H
#define NOTIFYD_CRON_H

#include <stdint.h>

#include "notifyd/util.h"

/* No activation within this many years after a time: nd_cron_next gives
 * ND_CRON_NEVER (e.g. "0 0 30 2 *"), as the original's 5-year search. */
#define ND_CRON_SEARCH_YEARS 5
#define ND_CRON_NEVER        INT64_MAX

struct nd_cron;

/* ND_OK with *out set, or ND_EINVAL with the reason in err (naming the
 * field) and *out NULL. */
int nd_cron_parse(const char *spec, struct nd_cron **out, char err[ND_ERRLEN]);
void nd_cron_free(struct nd_cron *c);

/* The first activation strictly after t, or ND_CRON_NEVER. */
int64_t nd_cron_next(const struct nd_cron *c, int64_t t);

#endif
