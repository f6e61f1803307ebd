/* sms_int.h - what the sms receiver (sms.c) and its providers
 * (sms_aliyun.c, sms_tencent.c, sms_huawei.c, sms_aws.c) share. Only the
 * files of src/notify and their unit tests include it.
 *
 * sms.c owns the common keys (provider, phone_numbers, template,
 * batch_size, max_message_size), renders the message once per
 * notification (parts()) and cuts the phone numbers into batches: one
 * fan-out lane per batch, one chunk. A provider reads its own keys, builds
 * and signs the request of one batch on each attempt (with that attempt's
 * clock and nonce), and judges its platform's answer.
 */
#ifndef NOTIFYD_SMS_INT_H
#define NOTIFYD_SMS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "notifyd/config.h"
#include "notifyd/receiver.h"

/* An api_url taken apart once at configure time. */
struct sms_url {
    char *url;  /* as configured (or the default), trailing '/'s removed */
    char *host; /* the Host header: host, plus ":port" when the URL names one */
    char *path; /* the URL's path, "/" when it has none */
};

/* What changes on every attempt: signatures carry the time and a nonce. */
struct sms_attempt {
    int64_t now_ns; /* wall clock, Unix ns */
    char nonce[33]; /* 32 random lowercase hex digits */
};

/* One notification's message (nd_parts.ud). */
struct sms_msg {
    char *text;  /* the rendered template */
    char *param; /* the provider's form of it (param()), or NULL */
};

/* The phone numbers of one request. */
struct sms_batch {
    char *const *numbers;
    size_t n;
};

struct sms_provider {
    const char *name;
    uint32_t max_batch; /* numbers per request the platform takes */
    /* Numbers without a leading '+' get "+86" (mainland China), as the
     * platform wants E.164 and NM assumed Chinese numbers. */
    bool cn_default;
    const char *const *keys; /* its own keys, NULL-terminated */
    /* Reads the provider's keys (nd_receiver_config_*), adds errors naming
     * file:line:key; *p is its state (also on error, may be NULL). */
    int (*configure)(struct nd_receiver_config *rc, void **p, struct nd_config_errors *errs);
    void (*free)(void *p);
    /* Optional: the message as the platform's template parameter, once per
     * notification. NULL with err set fails the notification. */
    char *(*param)(const char *text, char *err);
    int (*build)(const void *p, const struct sms_msg *m, const struct sms_batch *b,
                 const struct sms_attempt *a, struct nd_request *req, char *err);
    void (*classify)(const void *p, const struct nd_response *r, struct nd_verdict *v);
};

extern const struct sms_provider nd_sms_aliyun;
extern const struct sms_provider nd_sms_tencent;
extern const struct sms_provider nd_sms_huawei;
extern const struct sms_provider nd_sms_aws;

/* A required key: its value (a secret through nd_receiver_config_secret
 * when `secret`), heap; NULL after adding "missing key" or the secret's
 * error. */
char *nd_sms_required(struct nd_receiver_config *rc, const char *provider, const char *key,
                      bool secret, struct nd_config_errors *errs);
/* The api_url key (or `def`): http:// or https://, a host, no query,
 * fragment or user info. ND_OK, or ND_EINVAL after an error naming the
 * key; *u is filled either way (free it with nd_sms_url_free). */
int nd_sms_url(struct nd_receiver_config *rc, const char *def, struct sms_url *u,
               struct nd_config_errors *errs);
void nd_sms_url_free(struct sms_url *u);
/* Adds an error naming `key` when `value` (NULL is fine) has a control
 * character or is over 4096 bytes: it goes into a request header. The
 * value itself is not repeated (it may be a secret). */
void nd_sms_header_value(struct nd_receiver_config *rc, const char *key, const char *value,
                         struct nd_config_errors *errs);
/* A Unix time in seconds as UTC text: ND_SMS_ISO8601 "2006-01-02T15:04:05Z",
 * ND_SMS_AMZ "20060102T150405Z", ND_SMS_DATE "2006-01-02". out has 32
 * bytes. */
enum nd_sms_time_fmt { ND_SMS_ISO8601, ND_SMS_AMZ, ND_SMS_DATE };
void nd_sms_utc(int64_t sec, enum nd_sms_time_fmt f, char out[32]);
/* Appends "Name: value" to a header list (aborts on OOM like nd_x*). */
struct curl_slist *nd_sms_header(struct curl_slist *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The verdict on a platform's answer once its code is read. The caller
 * ran nd_classify_http(r, v) first and returns at once on a transport
 * error. `ok`: the answer says sent (only a 2xx counts). `code`, `msg`:
 * the platform's error code and text (NULL when none). `retry`: the code
 * is one of the platform's throttling or transient codes. A non-2xx the
 * generic rule retries (408, 429, 5xx) is retried whatever the code. */
void nd_sms_judge(const struct nd_response *r, struct nd_verdict *v, bool ok, const char *code,
                  const char *msg, bool retry);
/* s starts with one of the prefixes (NULL-terminated list). */
bool nd_sms_prefix(const char *s, const char *const *prefixes);

/* Huawei's ten template parameters, extracted from the message as NM
 * does (sms_huawei.c documents the rules): the templateParas value, a JSON
 * array of strings. Heap. */
char *nd_sms_huawei_params(const char *text);

#endif
