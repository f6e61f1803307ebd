/* reload.c - comparisons between two configs for a reload (reload.h). */
#include "notifyd/reload.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/buf.h"
#include "notifyd/config.h"
#include "notifyd/util.h"

/* Template and language files are small; a larger one is hashed up to
 * here and its size noted, enough to see a change. */
#define FP_FILE_MAX (64u * 1024 * 1024)

/* The buffers have no ceiling of their own: what goes in is bounded by
 * the config file's size and FP_FILE_MAX per hashed file. */
static void put(struct nd_buf *b, const char *s)
{
    nd_buf_adds(b, s);
}

/* Values may hold any byte but NUL: length-prefixed, so that no value can
 * imitate a separator. */
static void put_str(struct nd_buf *b, const char *s)
{
    if (!s)
        s = "";
    nd_buf_printf(b, "%zu:", strlen(s));
    put(b, s);
    put(b, ";");
}

static char *take(struct nd_buf *b)
{
    return nd_buf_take(b, NULL);
}

char *nd_reload_receiver_fp(const struct nd_receiver_config *rc, const struct nd_delivery_config *d)
{
    struct nd_buf b;
    nd_buf_init(&b, SIZE_MAX);
    put_str(&b, rc->type);
    for (size_t i = 0; i < rc->nkvs; i++) {
        put_str(&b, rc->kvs[i].key);
        put_str(&b, rc->kvs[i].value);
    }
    nd_buf_printf(
        &b, "|%" PRId64 ",%" PRIu32 ",%" PRIu32 ",%" PRId64 ",%" PRId64 ",%.17g,%" PRId64 ",%.17g",
        d->timeout_ns, d->max_in_flight, d->retry_max_attempts, d->retry_max_age_ns,
        d->retry_initial_ns, d->retry_factor, d->retry_max_ns, d->retry_jitter);
    return take(&b);
}

static void put_file(struct nd_buf *b, const char *path)
{
    FILE *f = fopen(path, "rb");
    uint64_t h = 1469598103934665603ull; /* FNV-1a 64 */
    size_t total = 0, n;
    unsigned char chunk[8192];

    put_str(b, path);
    if (!f) {
        put(b, "unreadable;");
        return;
    }
    while (total < FP_FILE_MAX && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        for (size_t i = 0; i < n; i++) {
            h ^= chunk[i];
            h *= 1099511628211ull;
        }
        total += n;
    }
    fclose(f);
    nd_buf_printf(b, "%zu/%016" PRIx64 ";", total, h);
}

char *nd_reload_template_fp(const struct nd_template_config *t)
{
    struct nd_buf b;
    nd_buf_init(&b, SIZE_MAX);
    put_str(&b, t->language);
    put(&b, "files;");
    for (size_t i = 0; i < t->nfiles; i++)
        put_file(&b, t->files[i]);
    put(&b, "language_files;");
    for (size_t i = 0; i < t->nlanguage_files; i++)
        put_file(&b, t->language_files[i]);
    return take(&b);
}

static int str_differs(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") != 0;
}

size_t nd_reload_restart_keys(const struct nd_config *a, const struct nd_config *b,
                              const char **keys, size_t max)
{
    size_t n = 0;
#define DIFF(cond, name)                                                                           \
    do {                                                                                           \
        if ((cond) && n < max)                                                                     \
            keys[n++] = (name);                                                                    \
    } while (0)
    DIFF(str_differs(a->listen_host, b->listen_host) || a->listen_port != b->listen_port,
         "[server] listen");
    DIFF(a->max_body_size != b->max_body_size, "[server] max_body_size");
    DIFF(str_differs(a->cluster, b->cluster), "[server] cluster");
    DIFF(a->max_headers_size != b->max_headers_size, "[server] max_headers_size");
    DIFF(a->read_timeout_ns != b->read_timeout_ns, "[server] read_timeout");
    DIFF(a->listen_backlog != b->listen_backlog, "[server] listen_backlog");
    DIFF(a->max_connections != b->max_connections, "[server] max_connections");
    DIFF(a->retry_after_ns != b->retry_after_ns, "[server] retry_after");
    DIFF(a->max_depth != b->max_depth, "[queue] max_depth");
    /* The log, the API silence store and the history module live as long
     * as the process. */
    DIFF(str_differs(a->wal_dir, b->wal_dir), "[queue] wal_dir");
    DIFF(a->wal_fsync != b->wal_fsync, "[queue] fsync");
    DIFF(a->wal_fsync_interval_ns != b->wal_fsync_interval_ns, "[queue] fsync_interval");
    DIFF(a->wal_segment_size != b->wal_segment_size, "[queue] wal_segment_size");
    DIFF(str_differs(a->routing.silence_file, b->routing.silence_file), "[routing] silence_file");
    DIFF(a->routing.silence_retention_ns != b->routing.silence_retention_ns,
         "[routing] silence_retention");
    DIFF(a->routing.max_silences != b->routing.max_silences, "[routing] max_silences");
    DIFF(a->routing.max_silence_matchers != b->routing.max_silence_matchers,
         "[routing] max_silence_matchers");
    DIFF(a->routing.max_silence_size != b->routing.max_silence_size, "[routing] max_silence_size");
    DIFF(str_differs(a->history_receiver, b->history_receiver), "[history] receiver");
    DIFF(a->history_max_pending != b->history_max_pending, "[history] max_pending");
    DIFF(a->history_max_wait_ns != b->history_max_wait_ns, "[history] max_wait");
#undef DIFF
    return n;
}
