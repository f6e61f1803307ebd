/* sms.c - the SMS receiver: one notification as a text message to a list
 * of phone numbers through one provider (Aliyun, Tencent Cloud, Huawei
 * Cloud or AWS SNS).
 *
 * Keys are in docs/receivers.md. The common part lives here: the keys
 * provider, phone_numbers, template, batch_size and max_message_size, the
 * rendering (once per notification, in parts()), and the cut of the phone
 * numbers into batches of at most the provider's limit. Each batch is one
 * fan-out lane with one chunk, so that batches are sent side by side and
 * retried on their own. The providers (sms_<name>.c, sms_int.h) read their
 * own keys, sign and build each attempt's request, and judge the answers.
 *
 * A key of a provider other than the configured one is an error: the
 * receiver would silently ignore it otherwise.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/random.h>

#include "notifyd/crypto.h"
#include "notifyd/parse.h"
#include "notifyd/receiver.h"
#include "notifyd/util.h"
#include "sms_int.h"

#define DEFAULT_TEMPLATE "nm.default.text"
#define DEFAULT_MAX_SIZE 65536
#define MIN_MAX_SIZE     64
#define MAX_MAX_SIZE     (ND_REQUEST_BODY_MAX / 8)
#define RENDER_MAX       (ND_REQUEST_BODY_MAX / 4)

static const struct sms_provider *const providers[] = {
    &nd_sms_aliyun,
    &nd_sms_tencent,
    &nd_sms_huawei,
    &nd_sms_aws,
};

struct sms {
    const struct sms_provider *prov;
    void *p; /* the provider's state */
    struct nd_strlist numbers;
    uint32_t batch;
    uint64_t max_size;
    struct nd_receiver_template tmpl;
};

static void sms_free(void *state)
{
    struct sms *s = state;

    if (!s)
        return;
    if (s->prov && s->p)
        s->prov->free(s->p);
    nd_strlist_deinit(&s->numbers);
    nd_receiver_template_deinit(&s->tmpl);
    free(s);
}

char *nd_sms_required(struct nd_receiver_config *rc, const char *provider, const char *key,
                      bool secret, struct nd_config_errors *errs)
{
    size_t before = errs->total;
    char *v = secret ? nd_receiver_config_secret(rc, key, false, errs)
                     : nd_receiver_config_strdup(rc, key);

    if (!v && errs->total == before)
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, key), rc->section, key,
                            "missing key (provider %s needs it)", provider);
    return v;
}

void nd_sms_url_free(struct sms_url *u)
{
    free(u->url);
    free(u->host);
    free(u->path);
    memset(u, 0, sizeof(*u));
}

/* A part of a parsed URL, heap; NULL when absent. */
static char *url_part(CURLU *h, CURLUPart what)
{
    char *v = NULL, *out;

    if (curl_url_get(h, what, &v, 0) != CURLUE_OK || !v)
        return NULL;
    out = nd_xstrdup(v);
    curl_free(v);
    return out;
}

int nd_sms_url(struct nd_receiver_config *rc, const char *def, struct sms_url *u,
               struct nd_config_errors *errs)
{
    const char *v = NULL;
    char *trimmed, *scheme = NULL, *query = NULL, *frag = NULL, *user = NULL, *port = NULL;
    const char *why = NULL;
    CURLU *h;
    CURLUcode uc;
    size_t len;

    memset(u, 0, sizeof(*u));
    nd_receiver_config_string(rc, "api_url", &v);
    if (!v || !v[0])
        v = def;
    trimmed = nd_xstrdup(v);
    len = strlen(trimmed);
    while (len > 0 && trimmed[len - 1] == '/')
        trimmed[--len] = '\0';
    h = curl_url();
    if (!h)
        abort(); /* curl_url fails only on OOM */
    uc = curl_url_set(h, CURLUPART_URL, trimmed, 0);
    if (uc != CURLUE_OK) {
        why = curl_url_strerror(uc);
    } else {
        scheme = url_part(h, CURLUPART_SCHEME);
        query = url_part(h, CURLUPART_QUERY);
        frag = url_part(h, CURLUPART_FRAGMENT);
        user = url_part(h, CURLUPART_USER);
        port = url_part(h, CURLUPART_PORT);
        u->host = url_part(h, CURLUPART_HOST);
        u->path = url_part(h, CURLUPART_PATH);
        if (!scheme || (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
            why = "want an http:// or https:// URL";
        else if (!u->host || !u->host[0])
            why = "no host";
        else if (query || frag)
            why = "a query or fragment is not allowed (the receiver builds its own)";
        else if (user)
            why = "user info is not allowed";
    }
    if (why) {
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "api_url"), rc->section,
                            "api_url", "invalid value \"%s\": %s", v, why);
    } else {
        if (port) {
            char *hp = nd_xasprintf("%s:%s", u->host, port);
            free(u->host);
            u->host = hp;
        }
        if (!u->path || !u->path[0] || strcmp(u->path, "/") == 0) {
            free(u->path);
            u->path = nd_xstrdup("/");
            u->url = nd_xasprintf("%s/", trimmed);
        } else {
            u->url = nd_xstrdup(trimmed);
        }
    }
    curl_url_cleanup(h);
    free(trimmed);
    free(scheme);
    free(query);
    free(frag);
    free(user);
    free(port);
    return why ? ND_EINVAL : ND_OK;
}

void nd_sms_header_value(struct nd_receiver_config *rc, const char *key, const char *value,
                         struct nd_config_errors *errs)
{
    const char *why = NULL;

    if (!value)
        return;
    if (strlen(value) > 4096)
        why = "over 4096 bytes";
    for (const char *p = value; !why && *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            why = "a control character (it is sent in a header)";
    if (why)
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, key), rc->section, key,
                            "invalid value: %s", why);
}

void nd_sms_utc(int64_t sec, enum nd_sms_time_fmt f, char out[32])
{
    time_t t = (time_t)sec;
    struct tm tm;

    if (!gmtime_r(&t, &tm)) {
        out[0] = '\0';
        return;
    }
    if (f == ND_SMS_DATE)
        snprintf(out, 32, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    else
        snprintf(out, 32,
                 f == ND_SMS_AMZ ? "%04d%02d%02dT%02d%02d%02dZ" : "%04d-%02d-%02dT%02d:%02d:%02dZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

struct curl_slist *nd_sms_header(struct curl_slist *l, const char *fmt, ...)
{
    struct curl_slist *n;
    char *h = NULL;
    va_list ap;
    int len;

    va_start(ap, fmt);
    len = vasprintf(&h, fmt, ap);
    va_end(ap);
    if (len < 0)
        abort(); /* out of memory, as nd_xasprintf */
    n = curl_slist_append(l, h);
    free(h);
    if (!n)
        abort(); /* curl_slist_append fails only on OOM */
    return n;
}

bool nd_sms_prefix(const char *s, const char *const *prefixes)
{
    for (size_t i = 0; s && prefixes[i]; i++)
        if (strncmp(s, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

/* The length of p[0..n) without a UTF-8 sequence cut at its end. */
static size_t utf8_cut(const char *p, size_t n)
{
    size_t k = n, back = 0, want;
    unsigned char lead;

    while (k > 0 && back < 3 && ((unsigned char)p[k - 1] & 0xc0) == 0x80) {
        k--;
        back++;
    }
    if (k == 0 || ((unsigned char)p[k - 1] & 0xc0) != 0xc0)
        return n; /* ASCII last, or stray continuation bytes: nothing to cut */
    lead = (unsigned char)p[k - 1];
    want = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    return back + 1 >= want ? n : k - 1;
}

/* Copies at most outlen - 1 bytes of s for a log line: control characters
 * as blanks, cut on a UTF-8 boundary. */
static void reason_text(char *out, size_t outlen, const char *s)
{
    size_t n = 0;

    for (; s[n] && n + 1 < outlen; n++)
        out[n] = ((unsigned char)s[n] < 0x20 || s[n] == 0x7f) ? ' ' : s[n];
    if (s[n])
        n = utf8_cut(out, n);
    out[n] = '\0';
}

void nd_sms_judge(const struct nd_response *r, struct nd_verdict *v, bool ok, const char *code,
                  const char *msg, bool retry)
{
    bool ok2xx = r->status >= 200 && r->status <= 299;
    char c[72], m[160];

    if (ok2xx && ok) {
        v->kind = ND_VERDICT_DELIVERED;
        snprintf(v->reason, sizeof(v->reason), "status %ld", r->status);
        return;
    }
    if (code) {
        reason_text(c, sizeof(c), code);
        reason_text(m, sizeof(m), msg ? msg : "");
        snprintf(v->reason, sizeof(v->reason), "status %ld, code %s: %s", r->status, c, m);
    } else if (ok2xx) {
        reason_text(m, sizeof(m), r->body && r->body->data ? r->body->data : "");
        snprintf(v->reason, sizeof(v->reason), "status %ld, answer without a code: %s", r->status,
                 m);
    }
    /* Otherwise the generic reason stays: the status and the body's start. */
    if (retry || (!ok2xx && v->kind == ND_VERDICT_RETRY))
        v->kind = ND_VERDICT_RETRY;
    else
        v->kind = ND_VERDICT_FAILED;
}

static const struct sms_provider *provider_find(const char *name)
{
    for (size_t i = 0; i < ND_ARRAY_LEN(providers); i++)
        if (strcmp(providers[i]->name, name) == 0)
            return providers[i];
    return NULL;
}

static bool in_list(const char *const *l, const char *key)
{
    for (size_t i = 0; l[i]; i++)
        if (strcmp(l[i], key) == 0)
            return true;
    return false;
}

/* Keys of the other providers that this one does not share: one error per
 * key, naming every provider that has it. */
static void other_keys(struct sms *s, struct nd_receiver_config *rc, struct nd_config_errors *errs)
{
    for (size_t i = 0; i < ND_ARRAY_LEN(providers); i++) {
        const struct sms_provider *q = providers[i];

        if (q == s->prov)
            continue;
        for (size_t k = 0; q->keys[k]; k++) {
            const char *key = q->keys[k];
            struct nd_config_kv *kv;
            char names[64] = "";
            bool seen = false;

            if (in_list(s->prov->keys, key))
                continue;
            for (size_t e = 0; e < i; e++)
                if (providers[e] != s->prov && in_list(providers[e]->keys, key))
                    seen = true;
            if (seen || !(kv = nd_receiver_config_get(rc, key)))
                continue;
            for (size_t o = i; o < ND_ARRAY_LEN(providers); o++)
                if (providers[o] != s->prov && in_list(providers[o]->keys, key)) {
                    size_t len = strlen(names);
                    snprintf(names + len, sizeof(names) - len, "%s%s", len ? ", " : "",
                             providers[o]->name);
                }
            nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key,
                                "unknown key for provider %s (a key of provider %s)", s->prov->name,
                                names);
        }
    }
}

/* ^\+?[0-9]+$ */
static bool phone_ok(const char *p)
{
    if (*p == '+')
        p++;
    if (!*p)
        return false;
    for (; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

static void configure_numbers(struct sms *s, struct nd_receiver_config *rc,
                              struct nd_config_errors *errs)
{
    int line = nd_receiver_config_line(rc, "phone_numbers");

    nd_receiver_config_list(rc, "phone_numbers", &s->numbers);
    if (s->numbers.n == 0) {
        nd_config_error_add(errs, rc->file, line, rc->section, "phone_numbers",
                            "missing key: want at least one phone number");
        return;
    }
    for (size_t i = 0; i < s->numbers.n; i++)
        if (!phone_ok(s->numbers.v[i]))
            nd_config_error_add(errs, rc->file, line, rc->section, "phone_numbers",
                                "invalid phone number \"%s\": want digits with an optional "
                                "leading +",
                                s->numbers.v[i]);
}

static void configure_provider(struct sms *s, struct nd_receiver_config *rc,
                               struct nd_config_errors *errs)
{
    uint64_t batch = s->prov->max_batch;
    size_t requests;

    if (nd_receiver_config_uint(rc, "batch_size", s->prov->max_batch, &batch, errs) == ND_OK &&
        batch < 1)
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "batch_size"), rc->section,
                            "batch_size", "must be >= 1");
    s->batch = batch >= 1 ? (uint32_t)batch : 1;
    s->prov->configure(rc, &s->p, errs);
    other_keys(s, rc, errs);
    requests = (s->numbers.n + s->batch - 1) / s->batch;
    if (requests > ND_PARTS_LANES_MAX)
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "phone_numbers"),
                            rc->section, "phone_numbers",
                            "%zu phone numbers in batches of %u make %zu requests, at most %u",
                            s->numbers.n, s->batch, requests, ND_PARTS_LANES_MAX);
    if (s->prov->cn_default)
        for (size_t i = 0; i < s->numbers.n; i++)
            if (s->numbers.v[i][0] != '+') {
                char *p = nd_xasprintf("+86%s", s->numbers.v[i]);
                free(s->numbers.v[i]);
                s->numbers.v[i] = p;
            }
}

static int sms_configure(struct nd_receiver_config *rc, const struct nd_template_set *templates,
                         void **state, struct nd_config_errors *errs)
{
    size_t before = errs->total;
    struct sms *s = nd_xcalloc(1, sizeof(*s));
    struct nd_config_kv *kv;
    char err[ND_ERRLEN];

    kv = nd_receiver_config_get(rc, "provider");
    if (!kv)
        nd_config_error_add(errs, rc->file, rc->line, rc->section, "provider",
                            "missing key: want aliyun, tencent, huawei or aws");
    else if (!(s->prov = provider_find(kv->value)))
        nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key,
                            "invalid value \"%s\": want aliyun, tencent, huawei or aws", kv->value);
    configure_numbers(s, rc, errs);

    s->tmpl.set = templates;
    s->tmpl.mode = ND_TEMPLATE_TEXT;
    kv = nd_receiver_config_get(rc, "template");
    if (kv && nd_template_check_ref(templates, kv->value, err) != ND_OK)
        nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key, "%s", err);
    s->tmpl.name = nd_xstrdup(kv ? kv->value : DEFAULT_TEMPLATE);

    s->max_size = DEFAULT_MAX_SIZE;
    if (nd_receiver_config_uint(rc, "max_message_size", MAX_MAX_SIZE, &s->max_size, errs) ==
            ND_OK &&
        s->max_size < MIN_MAX_SIZE)
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "max_message_size"),
                            rc->section, "max_message_size", "want at least %d bytes",
                            MIN_MAX_SIZE);

    if (s->prov) {
        configure_provider(s, rc, errs);
    } else {
        /* Without a provider its keys cannot be judged: no "unknown key"
         * noise on top of the provider error. */
        nd_receiver_config_get(rc, "batch_size");
        for (size_t i = 0; i < ND_ARRAY_LEN(providers); i++)
            for (size_t k = 0; providers[i]->keys[k]; k++)
                nd_receiver_config_get(rc, providers[i]->keys[k]);
    }
    if (errs->total != before) {
        sms_free(s);
        *state = NULL;
        return ND_EINVAL;
    }
    *state = s;
    return ND_OK;
}

static void msg_free(void *state, void *ud)
{
    struct sms_msg *m = ud;

    ND_UNUSED(state);
    if (!m)
        return;
    free(m->text);
    free(m->param);
    free(m);
}

static int sms_parts(void *state, const struct nd_notification *n, struct nd_parts *out, char *err)
{
    struct sms *s = state;
    struct sms_msg *m = nd_xcalloc(1, sizeof(*m));
    struct nd_buf b;
    int rc;

    nd_buf_init(&b, RENDER_MAX);
    rc = nd_receiver_template_render(&s->tmpl, n, &b, err);
    /* A message over max_message_size keeps its start, cut on a UTF-8
     * boundary: a text message is read from its start. Rendering stops at
     * RENDER_MAX, which is past any max_message_size. */
    if (rc == ND_ETOOBIG)
        rc = ND_OK;
    if (rc == ND_OK && b.len > s->max_size) {
        b.len = utf8_cut(b.data, s->max_size);
        b.data[b.len] = '\0';
    }
    if (rc != ND_OK) {
        nd_buf_deinit(&b);
        free(m);
        return rc;
    }
    m->text = nd_buf_take(&b, NULL);
    nd_buf_deinit(&b);
    if (s->prov->param && !(m->param = s->prov->param(m->text, err))) {
        msg_free(s, m);
        return ND_EINVAL;
    }
    out->lanes = (uint32_t)((s->numbers.n + s->batch - 1) / s->batch);
    out->chunks = 1;
    out->ud = m;
    return ND_OK;
}

/* 32 hex digits from the kernel's random source. Should it fail (no
 * getrandom), the nonce is still unique: the clocks, the pid and a counter
 * mixed together, which is all that a nonce against replays needs. */
static void make_nonce(char out[33])
{
    static uint64_t counter;
    uint64_t r[2];

    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        counter++;
        r[0] = nd_hash_mix64((uint64_t)nd_now_wall_ns() ^ ((uint64_t)getpid() << 32));
        r[1] = nd_hash_mix64((uint64_t)nd_now_mono_ns() + counter);
    }
    nd_crypto_hex(r, sizeof(r), out);
}

static int sms_build_part(void *state, const struct nd_notification *n, const struct nd_part *part,
                          const char *prepared, struct nd_request *req, char *err)
{
    struct sms *s = state;
    const struct sms_msg *m = part->ud;
    size_t first = (size_t)part->lane * s->batch;
    struct sms_batch b;
    struct sms_attempt a;

    ND_UNUSED(n);
    ND_UNUSED(prepared);
    if (first >= s->numbers.n)
        return nd_seterr(err, ND_EINVAL, "no phone number for request %u", part->lane + 1);
    b.numbers = &s->numbers.v[first];
    b.n = s->numbers.n - first < s->batch ? s->numbers.n - first : s->batch;
    a.now_ns = nd_now_wall_ns();
    make_nonce(a.nonce);
    return s->prov->build(s->p, m, &b, &a, req, err);
}

static int sms_build(void *state, const struct nd_notification *n, const char *prepared,
                     struct nd_request *req, char *err)
{
    ND_UNUSED(state);
    ND_UNUSED(n);
    ND_UNUSED(prepared);
    ND_UNUSED(req);
    return nd_seterr(err, ND_EINVAL, "sms sends through parts");
}

static void sms_classify(void *state, const struct nd_response *r, struct nd_verdict *v)
{
    struct sms *s = state;

    s->prov->classify(s->p, r, v);
}

const struct nd_receiver_type nd_receiver_type_sms = {
    .name = "sms",
    .configure = sms_configure,
    .free_state = sms_free,
    .build = sms_build,
    .classify = sms_classify,
    .parts = sms_parts,
    .build_part = sms_build_part,
    .free_parts = msg_free,
};
