/* silstore.h - silences set at run time through Alertmanager's v2 silence
 * API, kept in memory and in a JSON file.
 *
 * A silence is Alertmanager's: an ID (a random UUID v4), matchers
 * {name, value, isRegex, isEqual}, startsAt, endsAt, createdBy, comment,
 * updatedAt, and a state derived from the clock:
 *
 *   now < startsAt               pending
 *   startsAt <= now < endsAt     active   (mutes the alerts it matches)
 *   endsAt <= now                expired  (dropped `retention` after endsAt)
 *
 * A regex matcher is anchored (the whole label value must match,
 * "^(?:RE)$", RE2 syntax on regex.h); isEqual = false negates the matcher.
 * An absent label matches as the empty value. A silence matches an alert
 * when all its matchers do.
 *
 * Changes follow Alertmanager's Silences.Set(): posting with the ID of a
 * silence updates it in place when its matchers are unchanged and
 *   active:  startsAt is unchanged and the new endsAt is not in the past
 *   pending: the new startsAt is not in the past
 * otherwise the old silence is expired (unless it already is) and a new one
 * with a new ID is created. A new silence whose startsAt is in the past
 * starts now. Expiring sets endsAt (and, when pending, startsAt) to now.
 *
 * Bounds: at most max_silences kept (expired ones included: when the store
 * is full, the expired silence that ended first makes room), at most
 * max_matchers per silence, at most max_size bytes of strings per silence.
 *
 * Persistence: with a path, the whole set is written after every change as
 * a JSON array of silences in the API's shape (temporary file in the same
 * directory, fsync, rename, fsync of the directory); a change that cannot be
 * written is undone and reported. The file is read by nd_silstore_new.
 *
 * All calls run on the event loop's thread; nothing here blocks but the
 * file write of a change.
 */
#ifndef NOTIFYD_SILSTORE_H
#define NOTIFYD_SILSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "notifyd/buf.h"
#include "notifyd/util.h"

struct nd_alert;
struct nd_silstore;

/* No silence has this ID (HTTP 404). */
#define ND_SILSTORE_ENOTFOUND (-30)

/* A UUID's text and its NUL. */
#define ND_SILSTORE_IDLEN 37

/* Defaults of the [routing] keys (docs/config.md). */
#define ND_SILSTORE_DEFAULT_RETENTION_NS (INT64_C(120) * 3600 * 1000000000)
#define ND_SILSTORE_DEFAULT_MAX          1000u
#define ND_SILSTORE_DEFAULT_MAX_MATCHERS 32u
#define ND_SILSTORE_DEFAULT_MAX_SIZE     16384u
/* The most bytes nd_silstore_new reads from the file. */
#define ND_SILSTORE_MAX_FILE (UINT64_C(256) << 20)

struct nd_silstore_opts {
    const char *path;     /* silence_file; NULL or "" = memory only */
    int64_t retention_ns; /* keep expired silences this long; 0 = the default */
    size_t max_silences;  /* 0 = the default */
    size_t max_matchers;  /* per silence; 0 = the default */
    size_t max_size;      /* bytes of one silence's strings; 0 = the default */
};

/* Creates the store and reads opts->path when it exists (a missing file is
 * an empty store). Silences expired for longer than the retention at now_ns
 * are dropped. ND_OK with *out set, or an error naming the file (and what
 * is wrong in it) with *out NULL. */
int nd_silstore_new(const struct nd_silstore_opts *opts, int64_t now_ns, struct nd_silstore **out,
                    char err[ND_ERRLEN]);
void nd_silstore_free(struct nd_silstore *s);
size_t nd_silstore_count(const struct nd_silstore *s);

/* POST /api/v2/silences: creates or updates from a PostableSilence body.
 * ND_OK with the silence's ID in id; ND_EINVAL (400) with Alertmanager's
 * kind of message in err; ND_SILSTORE_ENOTFOUND (404) for an unknown ID;
 * ND_ERR (500) when the file could not be written (nothing changed). */
int nd_silstore_post(struct nd_silstore *s, const char *body, size_t len, int64_t now_ns,
                     char id[ND_SILSTORE_IDLEN], char err[ND_ERRLEN]);
/* DELETE /api/v2/silence/{id}. ND_OK, ND_SILSTORE_ENOTFOUND, ND_EINVAL
 * (already expired) or ND_ERR (the file could not be written). */
int nd_silstore_expire(struct nd_silstore *s, const char *id, int64_t now_ns, char err[ND_ERRLEN]);

/* Appends the GettableSilence of `id` as JSON. ND_OK or
 * ND_SILSTORE_ENOTFOUND. */
int nd_silstore_get_json(struct nd_silstore *s, const char *id, int64_t now_ns, struct nd_buf *out);

/* A parsed filter= of GET /api/v2/silences: label matchers in Prometheus'
 * syntax (name="v", name!="v", name=~"re", name!~"re"; quotes optional), as
 * amtool sends them. A silence is listed when, for every filter matcher,
 * it has a matcher of that name whose value the filter matches. */
struct nd_silstore_filter;
/* Parses one filter= value (a matcher, or several in "{a="1",b="2"}") and
 * adds it to *f (allocated on first use). ND_OK or ND_EINVAL with err. */
int nd_silstore_filter_add(struct nd_silstore_filter **f, const char *text, char err[ND_ERRLEN]);
void nd_silstore_filter_free(struct nd_silstore_filter *f);

/* Appends the JSON array of the silences (Alertmanager's order: active by
 * endsAt, pending by startsAt, expired by endsAt, latest first) that pass f
 * (NULL = all) and, when active_only, are active. ND_OK, or ND_ETOOBIG when
 * out's ceiling was hit. */
int nd_silstore_list_json(struct nd_silstore *s, const struct nd_silstore_filter *f,
                          bool active_only, int64_t now_ns, struct nd_buf *out);

/* Drops the silences expired for longer than the retention. Returns how
 * many went. The file is rewritten at the next change (and nd_silstore_new
 * drops them again on reading). */
size_t nd_silstore_gc(struct nd_silstore *s, int64_t now_ns);

/* The silence stage: decides which silences are active at now_ns (call
 * once per batch) and returns how many. */
size_t nd_silstore_begin(struct nd_silstore *s, int64_t now_ns);
/* Whether an active silence (as of the last begin) matches the alert.
 * Allocates nothing. */
bool nd_silstore_mute(struct nd_silstore *s, const struct nd_alert *a);

/* Silences by state at now_ns. */
void nd_silstore_counts(const struct nd_silstore *s, int64_t now_ns, size_t *pending,
                        size_t *active, size_t *expired);

#endif
