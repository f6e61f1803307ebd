/* config.h - the INI configuration: [server], [queue], [batch], [delivery],
 * [template], [history] and one [receiver.NAME] section per receiver.
 *
 * The loader checks the syntax and the keys of the fixed sections. Receiver
 * sections are kept as raw key/values with their line numbers: each receiver
 * type validates its own keys (notify/receiver.c), marks what it used, and a
 * key nobody used is reported as unknown. Every error names file, line and
 * key; the loader reports all errors, not just the first.
 */
#ifndef NOTIFYD_CONFIG_H
#define NOTIFYD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "notifyd/util.h"

/* Names of sections and receivers: ^[a-z0-9_-]{1,40}$ (inih would cut longer ones). */
#define ND_CONFIG_NAME_MAX 40
/* Longest line in bytes, without its line end, with Debian's libinih (whose
 * line length is a runtime setting) and the inih the build falls back to
 * (built with this length, see meson.build). Another system inih keeps its
 * compiled length: the loader reports longer lines with the real limit. */
#define ND_CONFIG_LINE_MAX 65536

/* [queue] fsync: when the write-ahead log is flushed to disk (docs/wal.md). */
enum nd_fsync_policy { ND_FSYNC_ALWAYS = 0, ND_FSYNC_BATCH = 1, ND_FSYNC_NONE = 2 };

/* The messages are capped (100, then one "too many errors" line), so n stops
 * growing: to know whether a call reported a problem, compare `total`
 * before and after it, never n. */
struct nd_config_errors {
    char **msgs;  /* "FILE:LINE: [section] key: message" */
    size_t n;     /* messages in msgs */
    size_t total; /* every error added, listed or beyond the cap */
};
void nd_config_errors_init(struct nd_config_errors *e);
void nd_config_errors_deinit(struct nd_config_errors *e);
/* line 0 = no line (e.g. a missing key: then the section's line is given). */
void nd_config_error_add(struct nd_config_errors *e, const char *file, int line,
                         const char *section, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

struct nd_config_kv {
    char *key;
    char *value; /* continuation lines joined with '\n' */
    int line;    /* line of the key */
    bool used;   /* set by whoever consumed it */
    bool secret; /* read as a secret (nd_receiver_config_secret): never shown */
};

/* A named section kept raw for the module that owns it: [receiver.NAME],
 * and [silence.NAME], [inhibit.NAME], [tenant.NAME], [router.NAME] (whose
 * `type` is always NULL). The nd_receiver_config_*
 * helpers below read any of them. */
struct nd_receiver_config {
    char *name;       /* after the dot */
    char *type;       /* the `type` key; NULL if missing (an error) */
    char *section;    /* "receiver.NAME" */
    int line;         /* line of the section header */
    int type_line;    /* line of the `type` key (0 when it is missing) */
    const char *file; /* borrowed from nd_config.path */
    size_t nkvs;
    struct nd_config_kv *kvs; /* every key but `type`, in file order */
    /* Secrets are taken as written, never as env:VAR or file:PATH: set for
     * receivers built from an API request, whose sender must not read the
     * daemon's environment or files. */
    bool literal_secrets;
};

/* The range of the delivery durations (timeout, retry_max_age,
 * retry_initial, retry_max), in [delivery] and in receiver sections alike:
 * at least 1 ns, at most 9.2e18 ns (about 292 years). The upper bound
 * stays below INT64_MAX so that a duration converts to double and back
 * (the backoff computes in double) and added to a clock leaves room. */
#define ND_DELIVERY_DURATION_MIN_NS 1.0
#define ND_DELIVERY_DURATION_MAX_NS 9.2e18

/* What a receiver does when a new notification finds its backlog full
 * (max_backlog, docs/delivery.md). */
enum nd_overflow {
    ND_OVERFLOW_BACKPRESSURE = 0, /* ingest answers 503 naming the receiver */
    ND_OVERFLOW_DROP_OLDEST,      /* its oldest waiting notifications are given up */
    ND_OVERFLOW_SPILL,            /* the overflow stays in the write-ahead log, read back later */
};
/* "backpressure", "drop_oldest" or "spill" into *out: ND_OK, else ND_EINVAL
 * with `err` saying what is accepted. Whether spill has a write-ahead log
 * is checked later (the loader, and nd_delivery_config.wal). */
int nd_overflow_parse(const char *s, enum nd_overflow *out, char *err);
const char *nd_overflow_name(enum nd_overflow o);

/* Defaults for every receiver; each may override them in its section. */
struct nd_delivery_config {
    int64_t timeout_ns;          /* timeout = 5s: one attempt */
    uint32_t max_in_flight;      /* max_in_flight = 8 */
    uint32_t retry_max_attempts; /* retry_max_attempts = 10 (attempts, first included) */
    int64_t retry_max_age_ns;    /* retry_max_age = 10m, from the first attempt */
    int64_t retry_initial_ns;    /* retry_initial = 500ms */
    double retry_factor;         /* retry_factor = 2 */
    int64_t retry_max_ns;        /* retry_max = 60s: cap of one backoff */
    double retry_jitter;         /* retry_jitter = 0.2: +-20 % */
    uint64_t max_backlog;        /* max_backlog = 0: alerts one receiver holds; 0 = no limit
                                    of its own ([queue] max_alerts bounds it) */
    enum nd_overflow overflow;   /* overflow = backpressure */
    uint64_t spill_max_alerts;   /* spill_max_alerts = 1000000: alerts one receiver may owe on
                                    disk (overflow = spill) before its oldest are given up */
    /* Not a key: [queue] max_alerts, copied by the loader so that a receiver
     * can check its max_backlog against it (0 = unknown, not checked). */
    uint64_t queue_max_alerts;
    /* Not a key: whether [queue] wal_dir is set (overflow = spill needs it). */
    bool wal;
};

/* [template]: where templates and language packs come from. The loader
 * expands the file lists (glob patterns, paths relative to the config
 * file's directory) and checks that the files exist; compiling them is the
 * template layer's job (nd_template_set_from_config in template.h). */
struct nd_template_config {
    int line; /* of the section header; 0 when there is none */
    size_t nfiles;
    char **files;   /* files = ...: expanded, in order (each pattern's matches sorted) */
    int files_line; /* of the `files` key (0 when absent) */
    char *language; /* language = English */
    int language_line;
    size_t nlanguage_files;
    char **language_files; /* language_files = ...: expanded like files */
    int language_files_line;
};

/* [routing] policy: who gets an alert besides the routers' receivers
 * (docs/routing.md). */
enum nd_route_policy {
    ND_ROUTE_POLICY_ALL = 0,      /* router receivers + tenant and global receivers */
    ND_ROUTE_POLICY_ROUTER_FIRST, /* router receivers if any matched, else the default */
    ND_ROUTE_POLICY_ROUTER_ONLY,  /* router receivers only */
};

struct nd_config {
    char *path; /* file name, or "<default>" for the built-in config */
    /* [server] */
    char *listen_host; /* "" = all interfaces */
    int listen_port;   /* 0 = pick a free one (logged at startup) */
    uint64_t max_body_size;
    char *cluster;
    int64_t shutdown_timeout_ns;
    uint64_t max_headers_size; /* request line + headers, 16KiB */
    int64_t read_timeout_ns;   /* idle keep-alive / incomplete request, 30s */
    uint32_t listen_backlog;   /* listen() backlog, 1024 */
    uint32_t max_connections;  /* open HTTP connections, 1024 (lowered to the fd limit) */
    int64_t retry_after_ns;    /* Retry-After of a queue-full 503, 1s */
    int64_t api_timeout_ns;    /* longest wait of /api/v2/notifications and /verify, 30s */
    uint32_t api_max_requests; /* of those answered later, at most this many at once, 64 */
    int log_level;             /* enum nd_log_level */
    int log_format;            /* enum nd_log_format */
    /* [queue] */
    uint64_t max_alerts;
    uint64_t max_bytes;
    uint32_t max_depth;           /* JSON nesting limit of a request, max_depth = 64 */
    uint64_t max_inhibit_sources; /* source alerts inhibition remembers, 100000 */
    char *wal_dir;                /* "" = no write-ahead log (memory only) */
    int wal_fsync;                /* enum nd_fsync_policy */
    int64_t wal_fsync_interval_ns;
    uint64_t wal_segment_size;
    /* [batch] */
    uint32_t batch_max_size;
    int64_t batch_max_wait_ns;
    size_t ngroup_labels;
    char **group_labels;
    /* [delivery] */
    struct nd_delivery_config delivery;
    /* [template] */
    struct nd_template_config tmpl;
    /* [routing]: API silences (silstore.h) */
    struct {
        char *silence_file;            /* NULL or "" = memory only */
        int silence_file_line;         /* of that key, for errors (0 when absent) */
        int64_t silence_retention_ns;  /* keep expired silences, 120h */
        uint32_t max_silences;         /* 1000, expired ones included */
        uint32_t max_silence_matchers; /* 32 */
        uint64_t max_silence_size;     /* bytes of one silence's strings, 16KiB */
        /* the tenant sidecar (sidecar.h) */
        char *tenant_sidecar_url;          /* NULL or "" = none */
        int tenant_sidecar_url_line;       /* of that key, for errors (0 when absent) */
        int64_t tenant_cache_ttl_ns;       /* 30s */
        int64_t tenant_sidecar_timeout_ns; /* 5s */
        int64_t tenant_sidecar_retry_ns;   /* a failure is cached this long, 5s */
        uint32_t tenant_cache_max_entries; /* 4096 */
    } routing;
    /* [history] */
    char *history_receiver;       /* receiver = NAME (a webhook receiver); NULL = none */
    int history_receiver_line;    /* of that key, for errors */
    uint32_t history_max_pending; /* max_pending = 10000: outcomes waiting to be reported */
    int64_t history_max_wait_ns;  /* max_wait = 1s: outcomes gathered into one payload */
    /* [receiver.*] */
    size_t nreceivers;
    struct nd_receiver_config *receivers;
    /* [silence.*]: raw, like receivers (type NULL); silence.h reads them. */
    size_t nsilences;
    struct nd_receiver_config *silences;
    /* [inhibit.*]: raw, like silences; inhibit.h reads them. */
    size_t ninhibits;
    struct nd_receiver_config *inhibits;
    /* [routing] */
    int route_policy;               /* enum nd_route_policy, policy = All */
    bool tenant_by_namespace_label; /* tenant_by_namespace_label = false */
    /* [tenant.*] and [router.*]: raw (type NULL); route.h reads them. */
    size_t ntenants;
    struct nd_receiver_config *tenants;
    size_t nrouters;
    struct nd_receiver_config *routers;
};

/* The built-in default: 127.0.0.1:19093 and one console receiver. */
extern const char nd_config_default_text[];

/* Parse a file. Returns ND_OK with *out set, or ND_ERR with every problem in
 * errs (and *out NULL). Receiver keys other than `type` are not checked here. */
int nd_config_load_file(const char *path, struct nd_config **out, struct nd_config_errors *errs);
/* Like nd_config_load_file, but on ND_ERR *out still holds what could be
 * parsed (NULL only when the file could not be read), so that
 * --check-config can also validate the receiver sections of a file whose
 * fixed sections have errors. The caller frees *out either way. */
int nd_config_load_file_partial(const char *path, struct nd_config **out,
                                struct nd_config_errors *errs);
/* Same from memory; `name` stands for the file name in messages. */
int nd_config_load_string(const char *text, const char *name, struct nd_config **out,
                          struct nd_config_errors *errs);
void nd_config_free(struct nd_config *c);

/* Receiver-section helpers for the receiver types. Each marks the key used.
 * They return the kv or NULL when the key is absent. */
struct nd_config_kv *nd_receiver_config_get(struct nd_receiver_config *rc, const char *key);
/* Parse helpers: on a bad value they add an error naming file:line:key and
 * return ND_EINVAL; absent keys leave *out untouched and return ND_OK. */
int nd_receiver_config_duration(struct nd_receiver_config *rc, const char *key, int64_t *out,
                                struct nd_config_errors *errs);
int nd_receiver_config_uint(struct nd_receiver_config *rc, const char *key, uint64_t max,
                            uint64_t *out, struct nd_config_errors *errs);
int nd_receiver_config_bool(struct nd_receiver_config *rc, const char *key, bool *out,
                            struct nd_config_errors *errs);
int nd_receiver_config_double(struct nd_receiver_config *rc, const char *key, double *out,
                              struct nd_config_errors *errs);
/* A string value; secrets go through nd_config_secret(). *out is borrowed. */
int nd_receiver_config_string(struct nd_receiver_config *rc, const char *key, const char **out);
/* The line of `key` for an error message (the section's line when absent). */
int nd_receiver_config_line(struct nd_receiver_config *rc, const char *key);
/* A heap copy of a string value; NULL when absent or empty. */
char *nd_receiver_config_strdup(struct nd_receiver_config *rc, const char *key);
/* A list value (nd_strlist_split: commas or one item per indented line),
 * appended to `out`; nothing when absent. */
void nd_receiver_config_list(struct nd_receiver_config *rc, const char *key,
                             struct nd_strlist *out);
/* A secret value resolved by nd_config_secret() (heap, the caller frees it);
 * NULL when absent or empty, or after adding an error naming file:line:key
 * when it cannot be read (or resolves to "" and !allow_empty). */
char *nd_receiver_config_secret(struct nd_receiver_config *rc, const char *key, bool allow_empty,
                                struct nd_config_errors *errs);
/* Adds "unknown key" errors for every kv nobody marked used. */
void nd_receiver_config_check_unused(struct nd_receiver_config *rc, struct nd_config_errors *errs);

/* Secrets: "env:VAR" reads the environment, "file:PATH" reads the file
 * (trailing newline stripped, 64 KiB max), anything else is the literal.
 * *out is the caller's to free. ND_OK, or ND_ERR with err set. */
int nd_config_secret(const char *spec, char **out, char *err);

#endif
