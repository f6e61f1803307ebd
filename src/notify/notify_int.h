/* notify_int.h - internals shared by the files of src/notify only.
 *
 * curlev: the curl multi handle driven by libevent through the
 * multi_socket API (curl_multi_socket_action(3); the rules are in curlev.c).
 * A transfer (struct nd_xfer) is embedded in whoever issues it (the
 * engine's per-attempt state, or a one-off fetch), never in a waiting job;
 * its completion callback runs from the drain, after the easy handle has
 * been removed from the multi and put back on the curlev's idle list
 * (reused by a later transfer), so the callback may free it.
 */
#ifndef NOTIFYD_NOTIFY_INT_H
#define NOTIFYD_NOTIFY_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>

#include "notifyd/buf.h"
#include "notifyd/pipeline.h"
#include "notifyd/receiver.h"

struct event_base;
struct nd_curlev;
struct nd_engine;
struct nd_receiver;
struct nd_xfer;

typedef void nd_xfer_done_fn(struct nd_xfer *x, const struct nd_response *r);

struct nd_xfer {
    struct nd_curlev *cv;      /* set by nd_xfer_setup: takes the handle back */
    CURL *easy;                /* non-NULL from setup until done/cancel */
    struct nd_request req;     /* owned: url, headers and body must live until done */
    struct nd_buf rsp_body;    /* first ND_RESPONSE_BODY_MAX bytes */
    struct nd_buf rsp_headers; /* header lines of the last response */
    char errbuf[CURL_ERROR_SIZE];
    nd_xfer_done_fn *done;
    void *ud;
    bool added; /* in the multi */
};

struct nd_curlev *nd_curlev_new(struct event_base *base, char *err);
/* Every transfer must have been finished or cancelled before. */
void nd_curlev_free(struct nd_curlev *cv);

/* Size of the pool of idle connections (CURLMOPT_MAXCONNECTS). */
void nd_curlev_set_maxconnects(struct nd_curlev *cv, long n);

/* Easy handles created so far, and idle ones kept for reuse. A handle goes
 * back to the idle list only once it is out of the multi (done or
 * cancelled), and is curl_easy_reset before its next use. */
unsigned long nd_curlev_handles_created(const struct nd_curlev *cv);
size_t nd_curlev_handles_idle(const struct nd_curlev *cv);

/* Initialises x (the caller has filled x->req, done, ud) and creates its
 * easy handle with the common options. ND_OK, or ND_ERR with err set (x is
 * then deinitialised except for req, which stays the caller's). */
int nd_xfer_setup(struct nd_curlev *cv, struct nd_xfer *x, int64_t timeout_ns, char *err);
/* Adds a set-up transfer to the multi; done() will be called once, later.
 * ND_OK or ND_ERR (then call nd_xfer_deinit). */
int nd_xfer_start(struct nd_curlev *cv, struct nd_xfer *x, char *err);
/* Removes a transfer that has not finished; done() is not called. Only
 * from a libevent callback or plain code, never from a curl callback. */
void nd_xfer_cancel(struct nd_curlev *cv, struct nd_xfer *x);
/* Frees the easy handle (if any), the request and the response buffers. */
void nd_xfer_deinit(struct nd_xfer *x);

/* Engine internals used by receiver.c. */
/* Validates a receiver section completely (type, generic delivery keys, the
 * routing keys of pipeline.h into *keys, the type's own keys, unknown keys). On ND_OK *type_out,
 * *cfg and *state_out (the type's state, owned by the caller) are set; otherwise errors are
 * appended and nothing is left to free. */
int nd__receiver_configure(struct nd_receiver_config *rc, const struct nd_delivery_config *defaults,
                           const struct nd_template_set *templates,
                           const struct nd_receiver_type **type_out, struct nd_delivery_config *cfg,
                           void **state_out, struct nd_target_keys *keys,
                           struct nd_config_errors *errs);
int nd__receiver_generic_config(struct nd_receiver_config *rc,
                                const struct nd_delivery_config *defaults,
                                struct nd_delivery_config *out, struct nd_config_errors *errs);

/* Test probes of engine.c. */
/* Replaces the engine's monotonic clock (NULL restores nd_now_mono_ns):
 * retry due times, latency, prepare expiry and admit() all read it; the
 * libevent timers still run on real time, so a due time the clock has not
 * reached keeps a job waiting. Before any job is submitted. */
void nd__engine_set_clock(struct nd_engine *e, int64_t (*now)(void));
/* sizeof(struct job): what every queued or waiting notification costs. */
size_t nd__job_size(void);
/* A fanned-out notification costs sizeof(struct fanout) + lanes *
 * sizeof(struct part_job). */
void nd__fanout_sizes(size_t *fanout, size_t *part_job);
/* Jobs in the receiver's retry heap, and the heap array's capacity. */
size_t nd__receiver_retry_waiting(const struct nd_receiver *r);
size_t nd__receiver_retry_capacity(const struct nd_receiver *r);
/* Receivers the engine holds (retired ones until they are freed). */
size_t nd__engine_receivers(const struct nd_engine *e);
/* Attempts holding a slot (every receiver) and spare ones kept for reuse. */
void nd__engine_attempts(const struct nd_engine *e, size_t *live, size_t *spare);

#endif
