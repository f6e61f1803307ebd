/* receiver.h - the interface every receiver type implements.
 *
 * A receiver type (webhook, console, DingTalk, Slack, email, later WeCom,
 * Feishu, SMS) is a constant struct nd_receiver_type of function pointers.
 * The engine (engine.h) owns the delivery job: queueing, concurrency,
 * timeouts, retries, counters. A type only says how to
 *   - validate its config keys and build its private state (configure),
 *   - turn a notification into one HTTP(S)/SMTP request (build, setopt),
 *   - judge the response (classify),
 * A type that renders text gets the config's compiled template set
 * (template.h) at configure time; it may keep the pointer, the set
 * outlives the engine. The `template` / `template_type` keys are handled
 * the same way by every such type: nd_receiver_template_config() below.
 * and optionally
 *   - obtain a shared value first, e.g. an access token (prepare),
 *   - pace its sends, e.g. 20 messages a minute (admit),
 *   - deliver locally without curl (sink: console),
 *   - send one notification as several requests (parts, build_part).
 * The lifecycle of a job is in docs/delivery.md.
 *
 * Every hook is called from the event loop, never from inside a curl
 * callback, so a hook may call any engine function except nd_engine_free().
 */
#ifndef NOTIFYD_RECEIVER_H
#define NOTIFYD_RECEIVER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <curl/curl.h>

#include "notifyd/buf.h"
#include "notifyd/config.h"
#include "notifyd/notification.h"
#include "notifyd/template.h"

struct nd_engine;
struct nd_prep;

/* Request bodies and response bodies are bounded. */
#define ND_REQUEST_BODY_MAX     (4u * 1024 * 1024)
#define ND_RESPONSE_BODY_MAX    (64u * 1024) /* more is read and dropped */
#define ND_RESPONSE_HEADERS_MAX (32u * 1024) /* more is read and dropped */

/* What a type builds for one attempt. The engine owns it after build()
 * returns, whatever the status, and frees it when the attempt ends. */
struct nd_request {
    char *url;                  /* heap; required */
    const char *method;         /* static string; NULL = POST when there is a body, else GET */
    struct curl_slist *headers; /* heap, freed with curl_slist_free_all */
    struct nd_buf body;         /* initialised by the engine with ND_REQUEST_BODY_MAX */
    /* SMTP (email): the recipients for CURLOPT_MAIL_RCPT (heap, freed with
     * curl_slist_free_all), and how much of `body` curl has read through
     * the type's CURLOPT_READFUNCTION (0 after build). */
    struct curl_slist *mail_rcpt;
    size_t upload_pos;
};

/* What came back from one attempt. Borrowed by classify(). */
struct nd_response {
    int curl_code;                /* CURLcode: 0 = a response was received */
    const char *curl_error;       /* curl's error text, "" when none */
    long status;                  /* HTTP status, 0 when none */
    long reply_code;              /* CURLINFO_RESPONSE_CODE also when curl_code != 0: the
                                     last SMTP reply of a failed session; 0 when none */
    const struct nd_buf *body;    /* first ND_RESPONSE_BODY_MAX bytes */
    const struct nd_buf *headers; /* raw header lines of the final response */
    int64_t now_wall_ns;          /* when the attempt ended (for HTTP dates) */
};

/* Value of a response header (case-insensitive name), copied into `out`
 * with surrounding blanks trimmed; NULL when absent. */
const char *nd_response_header(const struct nd_response *r, const char *name, char *out,
                               size_t outlen);

enum nd_verdict_kind {
    ND_VERDICT_DELIVERED = 0,
    ND_VERDICT_RETRY,  /* try again after the backoff, or after delay_ns when >= 0 */
    ND_VERDICT_FAILED, /* give up now */
};

struct nd_verdict {
    enum nd_verdict_kind kind;
    int64_t delay_ns; /* RETRY: -1 = use the backoff schedule; else this delay (capped) */
    /* Drop the cached prepare value (e.g. token expired). Once per job: a
     * job's second RETRY with it is turned into FAILED. */
    bool reprepare;
    char reason[256]; /* for the log: "status 404: <first bytes of body>", "timeout" */
};

/* The generic HTTP rule: a response with any 2xx = delivered; curl errors
 * (connection, DNS, timeout, TLS handshake...) = retry; 408, 429 and 5xx =
 * retry, honouring Retry-After on 429 and 503; other statuses = failed. */
void nd_classify_http(const struct nd_response *r, struct nd_verdict *v);

/* Shared prepare: one value (e.g. an access token) per key, cached until it
 * expires, fetched once at a time: jobs that need it while a fetch is in
 * flight wait for it. prepare_start() must eventually call nd_prep_done()
 * exactly once for the struct nd_prep it got (it may do so before it
 * returns). */
void nd_prep_done(struct nd_prep *p, const char *value, int64_t ttl_ns, const char *err);
const char *nd_prep_key(const struct nd_prep *p);

/* A one-off request through the engine's curl multi, for prepare steps
 * (token fetch). Takes `req` (built by the caller; its body is initialised
 * by nd_request_init). `done` is called once, later, from the loop, with a
 * response borrowed for the call. During nd_engine_free() it is called
 * with curl_code CURLE_ABORTED_BY_CALLBACK. */
typedef void nd_fetch_cb(const struct nd_response *r, void *ud);
void nd_request_init(struct nd_request *req);
void nd_request_deinit(struct nd_request *req);
void nd_engine_fetch_take(struct nd_engine *e, struct nd_request *req, int64_t timeout_ns,
                          nd_fetch_cb *done, void *ud);

/* Fan-out: one notification sent as lanes x chunks requests. A lane is a
 * recipient batch or target (WeCom users by the 1000, one Slack channel,
 * one Pushover profile); a chunk is one ordered piece of the message (the
 * type splits its text, e.g. with nd_tmpl_split). Every lane gets every
 * chunk. The limits bound the engine's per-notification array. */
#define ND_PARTS_LANES_MAX  1024u
#define ND_PARTS_CHUNKS_MAX 256u

struct nd_parts {
    uint32_t lanes;  /* 1..ND_PARTS_LANES_MAX */
    uint32_t chunks; /* 1..ND_PARTS_CHUNKS_MAX */
    void *ud;        /* the type's (e.g. the chunk texts); freed by free_parts */
};

/* The request build_part() is asked for. */
struct nd_part {
    uint32_t lane, chunk; /* 0-based */
    uint32_t lanes, chunks;
    void *ud; /* nd_parts.ud */
};

struct nd_receiver_type {
    const char *name; /* the `type` key */

    /* Validates the type's own keys (get them with nd_receiver_config_*,
     * which marks them used), appends errors naming file:line, and returns
     * a heap state in *state (ND_OK) or ND_EINVAL. Generic keys (timeout,
     * max_in_flight, retry_*) are handled by the engine before. `templates`
     * is the config's compiled set (never NULL), borrowed for the life of
     * the state. */
    int (*configure)(struct nd_receiver_config *rc, const struct nd_template_set *templates,
                     void **state, struct nd_config_errors *errs);
    void (*free_state)(void *state);

    /* Local delivery, no HTTP: when set, build/setopt/classify are unused.
     * Fills *v (DELIVERED, RETRY or FAILED). */
    void (*sink)(void *state, const struct nd_notification *n, struct nd_verdict *v);

    /* Builds the request for one attempt. `prepared` is the prepare value
     * (NULL when the type has no prepare). ND_OK, or an error with `err`
     * set: the job fails without a retry (the payload will not change). */
    int (*build)(void *state, const struct nd_notification *n, const char *prepared,
                 struct nd_request *req, char *err);
    /* Optional: extra curl options (TLS files, auth, proxy, SMTP MAIL_FROM /
     * MAIL_RCPT / UPLOAD + READFUNCTION...). Pointers given to curl must
     * live in `state` or `req`. ND_OK or fail the job with `err`. */
    int (*setopt)(void *state, CURL *easy, struct nd_request *req, char *err);
    /* Optional: judges the response. NULL = nd_classify_http. A type that
     * parses a platform code from the body typically calls
     * nd_classify_http first and refines the verdict. *v arrives as
     * DELIVERED with delay_ns = -1 (the backoff), reprepare false and an
     * empty reason: a RETRY that sets no delay waits for the backoff. */
    void (*classify)(void *state, const struct nd_response *r, struct nd_verdict *v);

    /* Optional prepare step. prepare_key() returns the cache key (e.g.
     * "wecom:<corp>:<app>"), or NULL when this state needs none; equal keys
     * share one value across receivers. prepare_start() starts getting the
     * value and reports through nd_prep_done(p, ...). */
    const char *(*prepare_key)(void *state);
    void (*prepare_start)(void *state, struct nd_engine *e, struct nd_prep *p);

    /* Optional throttle: called before each send; returns 0 to send now
     * (and counts the send), or the delay in ns before asking again. */
    int64_t (*admit)(void *state, int64_t now_mono_ns);

    /* Optional fan-out. When `parts` is set, `build_part` is required and
     * `build` is unused (a sink type has no parts). parts() is called once
     * per notification, at submission: it fills *out and returns ND_OK, or
     * fails the notification (no retry) with `err`. Each (lane, chunk) is
     * its own job with its own attempts, backoff, admit() and prepare.
     * Chunks of one lane are sent one after another: chunk k+1 is queued
     * only once chunk k is delivered; lanes run side by side within
     * max_in_flight. The notification is delivered when every part is;
     * it is failed (counted once) as soon as one part is given up, and
     * that lane's later chunks are not sent; the other lanes go on and a
     * part of theirs given up later is logged, not counted again.
     * free_parts(state, out->ud) is called once when the last part ends
     * (also on shutdown and nd_engine_free), when ud is not NULL. */
    int (*parts)(void *state, const struct nd_notification *n, struct nd_parts *out, char *err);
    /* As build(), for one part. */
    int (*build_part)(void *state, const struct nd_notification *n, const struct nd_part *part,
                      const char *prepared, struct nd_request *req, char *err);
    void (*free_parts)(void *state, void *ud);
};

/* The `template` key (a template name, or a full {{ template "x" . }}
 * invocation as in NM) and the `template_type` key (text, the default, or
 * html), for the types that render. */
struct nd_receiver_template {
    const struct nd_template_set *set; /* borrowed */
    char *name;                        /* as configured; NULL = none and no default */
    enum nd_template_mode mode;
};
/* Reads both keys (marking them used), falls back to `def` (NULL = no
 * template) when `template` is absent, and checks that every template the
 * value names exists: an error names the key's line. ND_OK or ND_EINVAL;
 * out is initialised either way (deinit it). */
int nd_receiver_template_config(struct nd_receiver_config *rc, const struct nd_template_set *set,
                                const char *def, struct nd_receiver_template *out,
                                struct nd_config_errors *errs);
void nd_receiver_template_deinit(struct nd_receiver_template *t);
/* Renders the notification with NM's Text()/Html() semantics (trailing
 * spaces and newlines trimmed), appending to `out`. ND_OK, or an error
 * with err = "template NAME: <the engine's message>". */
int nd_receiver_template_render(const struct nd_receiver_template *t,
                                const struct nd_notification *n, struct nd_buf *out, char *err);

/* The built-in types. */
extern const struct nd_receiver_type nd_receiver_type_webhook;
extern const struct nd_receiver_type nd_receiver_type_console;
extern const struct nd_receiver_type nd_receiver_type_dingtalk;
extern const struct nd_receiver_type nd_receiver_type_discord;
extern const struct nd_receiver_type nd_receiver_type_slack;
extern const struct nd_receiver_type nd_receiver_type_telegram;
extern const struct nd_receiver_type nd_receiver_type_pushover;
extern const struct nd_receiver_type nd_receiver_type_wechat;
extern const struct nd_receiver_type nd_receiver_type_email;

/* Looks a type up by name among the built-in and registered ones. */
const struct nd_receiver_type *nd_receiver_type_find(const char *name);
/* Adds a type (tests; later plug-ins). The struct must outlive the engine.
 * At most 32 registered types; ND_ETOOBIG past it; ND_EINVAL for a type
 * with `parts` but no `build_part`, or with `parts` and `sink`. */
int nd_receiver_type_register(const struct nd_receiver_type *t);

/* The console receiver writes to stdout; tests point it at a memory
 * stream. NULL restores stdout. Process-wide, set before the loop runs. */
void nd_console_set_stream(FILE *f);

#endif
