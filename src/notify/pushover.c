/* pushover.c - the Pushover receiver: POST <api_url>/messages.json with an
 * application token, one request per recipient (a user or group key with
 * its devices and sound) and message chunk (https://pushover.net/api).
 *
 * Keys are in docs/receivers.md. Recipients come from `user_keys` (sharing
 * the receiver's `devices` and `sound`) and from `profile.NAME.*` keys, one
 * per profile of Notification Manager (user key, devices, sound). Each
 * recipient is one fan-out lane.
 *
 * The body is JSON, as Notification Manager sends it, with Go's escaping.
 * A notification is split by whole alerts so that each message, counted
 * JSON-escaped, stays below max_message_size (Pushover accepts 1024
 * characters; bytes are never fewer than characters). An alert too big on
 * its own is sent alone, cut, ending with ND_CHUNK_MARK. Each chunk has
 * its own title, cut to max_title_size characters (Pushover: 250).
 *
 * Verdict: Pushover answers {"status":1,"request":"..."} with HTTP 200 on
 * success, and a 4xx with "status" other than 1 and an "errors" array when
 * the input is invalid (not to be resent as it is); 5xx are its own
 * trouble (retried). 429 means the application's monthly message limit is
 * used up: retried when the answer says when the limit resets, at that
 * time, which the engine turns into a failure at once when it lies past
 * retry_max_age (the usual case: the limit resets on the first of the
 * month). The token is never put in a reason.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "notifyd/chunks.h"
#include "notifyd/json.h"
#include "notifyd/jsonr.h"
#include "notifyd/parse.h"
#include "notifyd/receiver.h"
#include "notifyd/util.h"

#define DEFAULT_API_URL        "https://api.pushover.net/1"
#define DEFAULT_MAX_SIZE       1024
#define MIN_MAX_SIZE           64
#define DEFAULT_MAX_TITLE      250
#define MIN_MAX_TITLE          32
#define MAX_MAX_TITLE          65536
#define KEY_LEN                30 /* user, group and application keys */
#define DEVICE_MAX             25
#define EMERGENCY              2
#define EMERGENCY_RETRY_MIN_S  30    /* Pushover: retry at least every 30 s */
#define EMERGENCY_EXPIRE_MAX_S 10800 /* Pushover: expire at most 3 h */
#define PROFILE_PREFIX         "profile."

/* The sounds every Pushover client has (https://pushover.net/api#sounds),
 * the list Notification Manager accepts. */
static const char *const sounds[] = {
    "pushover",   "bike",    "bugle",      "cashregister", "classical", "cosmic",
    "falling",    "gamelan", "incoming",   "intermission", "magic",     "mechanical",
    "pianobar",   "siren",   "spacealarm", "tugboat",      "alien",     "climb",
    "persistent", "echo",    "updown",     "vibrate",      "none",
};

/* One recipient: one fan-out lane. */
struct lane {
    char *user;   /* user or group key */
    char *device; /* devices comma-joined; NULL = all of the user's devices */
    char *sound;  /* NULL = the user's default */
};

struct pushover {
    char *token; /* secret */
    struct lane *lanes;
    size_t nlanes;
    char *url; /* <api_url>/messages.json */
    char *tmpl, *title_tmpl;
    const struct nd_template_set *set;
    uint64_t max_size, max_title;
    int priority;
    int64_t retry_s, expire_s; /* emergency priority only */
    struct curl_slist *headers;
};

static void pushover_free(void *p)
{
    struct pushover *s = p;
    size_t i;

    if (!s)
        return;
    nd_secret_free(s->token);
    for (i = 0; i < s->nlanes; i++) {
        free(s->lanes[i].user);
        free(s->lanes[i].device);
        free(s->lanes[i].sound);
    }
    free(s->lanes);
    free(s->url);
    free(s->tmpl);
    free(s->title_tmpl);
    if (s->headers)
        curl_slist_free_all(s->headers);
    free(s);
}

static bool http_url(const char *u)
{
    return strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0;
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ^[A-Za-z0-9]{30}$: user, group and application keys. */
static bool valid_key(const char *k)
{
    size_t i;

    for (i = 0; k[i]; i++)
        if (!is_alnum(k[i]))
            return false;
    return i == KEY_LEN;
}

/* ^[A-Za-z0-9_-]{1,25}$: a device name. */
static bool valid_device(const char *d)
{
    size_t i;

    for (i = 0; d[i]; i++)
        if (!is_alnum(d[i]) && d[i] != '_' && d[i] != '-')
            return false;
    return i >= 1 && i <= DEVICE_MAX;
}

static bool valid_sound(const char *s)
{
    size_t i;

    for (i = 0; i < ND_ARRAY_LEN(sounds); i++)
        if (strcmp(sounds[i], s) == 0)
            return true;
    return false;
}

static void key_error(struct nd_receiver_config *rc, const char *key, struct nd_config_errors *errs,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void key_error(struct nd_receiver_config *rc, const char *key, struct nd_config_errors *errs,
                      const char *fmt, ...)
{
    char msg[ND_ERRLEN * 2];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, key), rc->section, key, "%s",
                        msg);
}

static void opt_template(struct nd_receiver_config *rc, const struct nd_template_set *set,
                         const char *key, const char *def, char **out,
                         struct nd_config_errors *errs)
{
    struct nd_config_kv *kv = nd_receiver_config_get(rc, key);
    char err[ND_ERRLEN];

    if (kv && nd_template_check_ref(set, kv->value, err) != ND_OK)
        nd_config_error_add(errs, rc->file, kv->line, rc->section, key, "%s", err);
    *out = nd_xstrdup(kv ? kv->value : def);
}

/* Reads the devices and the sound of a recipient from the given keys into
 * l->device and l->sound. */
static void read_recipient(struct nd_receiver_config *rc, const char *devices_key,
                           const char *sound_key, struct lane *l, struct nd_config_errors *errs)
{
    struct nd_strlist devs = {0};
    const char *sound = NULL;
    size_t i, len = 0;

    nd_receiver_config_list(rc, devices_key, &devs);
    for (i = 0; i < devs.n; i++) {
        if (!valid_device(devs.v[i]))
            key_error(rc, devices_key, errs,
                      "invalid device name \"%.60s\": want 1 to 25 letters, digits, '_' or '-'",
                      devs.v[i]);
        len += strlen(devs.v[i]) + 1;
    }
    if (devs.n) {
        char *p = l->device = nd_xmalloc(len);

        for (i = 0; i < devs.n; i++) {
            size_t n = strlen(devs.v[i]);

            memcpy(p, devs.v[i], n);
            p[n] = i + 1 < devs.n ? ',' : '\0';
            p += n + 1;
        }
    }
    nd_strlist_deinit(&devs);

    nd_receiver_config_string(rc, sound_key, &sound);
    if (sound && sound[0]) {
        if (!valid_sound(sound))
            key_error(rc, sound_key, errs,
                      "unknown sound \"%.60s\": want one of Pushover's sounds (pushover, bike, "
                      "bugle, cashregister, classical, cosmic, falling, gamelan, incoming, "
                      "intermission, magic, mechanical, pianobar, siren, spacealarm, tugboat, "
                      "alien, climb, persistent, echo, updown, vibrate, none)",
                      sound);
        l->sound = nd_xstrdup(sound);
    }
}

static struct lane *add_lane(struct pushover *s)
{
    struct lane *l;

    s->lanes = nd_xrealloc(s->lanes, (s->nlanes + 1) * sizeof(*s->lanes));
    l = &s->lanes[s->nlanes++];
    memset(l, 0, sizeof(*l));
    return l;
}

/* The name of a profile key "profile.NAME.FIELD" for a FIELD this type
 * knows, copied into name; false for any other key (left unused, so that
 * the engine reports it as unknown). */
static bool profile_key(const char *key, char *name, size_t namelen)
{
    static const char *const fields[] = {".user_key", ".devices", ".sound"};
    size_t plen = strlen(PROFILE_PREFIX), klen = strlen(key), i;

    if (strncmp(key, PROFILE_PREFIX, plen) != 0)
        return false;
    for (i = 0; i < ND_ARRAY_LEN(fields); i++) {
        size_t flen = strlen(fields[i]);

        if (klen > plen + flen && strcmp(key + klen - flen, fields[i]) == 0 &&
            klen - flen - plen < namelen) {
            memcpy(name, key + plen, klen - flen - plen);
            name[klen - flen - plen] = '\0';
            return true;
        }
    }
    return false;
}

static bool valid_profile_name(const char *n)
{
    size_t i;

    for (i = 0; n[i]; i++)
        if (!is_alnum(n[i]) && n[i] != '_' && n[i] != '-')
            return false;
    return i > 0;
}

/* One lane per profile, in the order of each profile's first key. */
static void configure_profiles(struct pushover *s, struct nd_receiver_config *rc,
                               struct nd_config_errors *errs)
{
    struct nd_strlist seen = {0};
    char name[ND_CONFIG_NAME_MAX + 1];
    size_t i, j;

    for (i = 0; i < rc->nkvs; i++) {
        char *uk, *dk, *sk;
        const char *user = NULL;
        struct lane *l;

        if (!profile_key(rc->kvs[i].key, name, sizeof(name)))
            continue;
        for (j = 0; j < seen.n && strcmp(seen.v[j], name) != 0; j++)
            ;
        if (j < seen.n)
            continue;
        nd_strlist_add(&seen, name, strlen(name));
        uk = nd_xasprintf(PROFILE_PREFIX "%s.user_key", name);
        dk = nd_xasprintf(PROFILE_PREFIX "%s.devices", name);
        sk = nd_xasprintf(PROFILE_PREFIX "%s.sound", name);
        if (!valid_profile_name(name))
            nd_config_error_add(errs, rc->file, rc->kvs[i].line, rc->section, rc->kvs[i].key,
                                "invalid profile name \"%s\": want letters, digits, '_' or '-'",
                                name);
        l = add_lane(s);
        nd_receiver_config_string(rc, uk, &user);
        if (!user)
            nd_config_error_add(errs, rc->file, rc->kvs[i].line, rc->section, uk,
                                "missing key: profile %s needs a user or group key", name);
        else if (!valid_key(user))
            key_error(rc, uk, errs,
                      "invalid user key \"%.60s\": want 30 letters and digits (a Pushover user "
                      "or group key)",
                      user);
        l->user = nd_xstrdup(user ? user : "");
        read_recipient(rc, dk, sk, l, errs);
        free(uk);
        free(dk);
        free(sk);
    }
    nd_strlist_deinit(&seen);
}

static void configure_priority(struct pushover *s, struct nd_receiver_config *rc,
                               struct nd_config_errors *errs)
{
    struct nd_config_kv *kv = nd_receiver_config_get(rc, "priority");
    int64_t retry = -1, expire = -1;

    if (kv) {
        static const char *const ok[] = {"-2", "-1", "0", "1", "2"};
        size_t i;

        for (i = 0; i < ND_ARRAY_LEN(ok) && strcmp(kv->value, ok[i]) != 0; i++)
            ;
        if (i < ND_ARRAY_LEN(ok))
            s->priority = (int)i - 2;
        else
            nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key,
                                "invalid value \"%.60s\": want -2, -1, 0, 1 or 2", kv->value);
    }
    if (nd_receiver_config_duration(rc, "retry", &retry, errs) != ND_OK ||
        nd_receiver_config_duration(rc, "expire", &expire, errs) != ND_OK)
        return;
    if (s->priority != EMERGENCY) {
        if (retry >= 0)
            key_error(rc, "retry", errs, "%s", "only with priority = 2 (emergency)");
        if (expire >= 0)
            key_error(rc, "expire", errs, "%s", "only with priority = 2 (emergency)");
        return;
    }
    /* A missing key is reported on the line of the priority that needs it. */
    if (retry < 0)
        nd_config_error_add(errs, rc->file, kv->line, rc->section, "retry",
                            "missing key: priority = 2 (emergency) needs retry and expire");
    else if (retry % ND_NS_PER_S != 0 || retry < EMERGENCY_RETRY_MIN_S * ND_NS_PER_S)
        key_error(rc, "retry", errs, "%s", "want whole seconds, at least 30s");
    if (expire < 0)
        nd_config_error_add(errs, rc->file, kv->line, rc->section, "expire",
                            "missing key: priority = 2 (emergency) needs retry and expire");
    else if (expire % ND_NS_PER_S != 0 || expire < ND_NS_PER_S ||
             expire > EMERGENCY_EXPIRE_MAX_S * ND_NS_PER_S)
        key_error(rc, "expire", errs, "%s", "want whole seconds, from 1s to 3h (10800s)");
    s->retry_s = retry / ND_NS_PER_S;
    s->expire_s = expire / ND_NS_PER_S;
}

static int pushover_configure(struct nd_receiver_config *rc,
                              const struct nd_template_set *templates, void **state,
                              struct nd_config_errors *errs)
{
    size_t before = errs->total;
    struct pushover *s = nd_xcalloc(1, sizeof(*s));
    struct nd_strlist users = {0};
    struct lane shared = {0};
    char *api;
    size_t i, j;

    s->set = templates;
    s->token = nd_receiver_config_secret(rc, "token", false, errs);
    if (!s->token && errs->total == before)
        key_error(rc, "token", errs, "%s", "missing key: want the application's API token");
    else if (s->token && !valid_key(s->token))
        key_error(rc, "token", errs, "%s", "invalid application token: want 30 letters and digits");

    nd_receiver_config_list(rc, "user_keys", &users);
    read_recipient(rc, "devices", "sound", &shared, errs);
    for (i = 0; i < users.n; i++) {
        struct lane *l;

        if (!valid_key(users.v[i]))
            key_error(rc, "user_keys", errs,
                      "invalid user key \"%.60s\": want 30 letters and digits (a Pushover user "
                      "or group key)",
                      users.v[i]);
        for (j = 0; j < i; j++)
            if (strcmp(users.v[j], users.v[i]) == 0)
                key_error(rc, "user_keys", errs, "user key \"%.60s\" listed twice", users.v[i]);
        l = add_lane(s);
        l->user = nd_xstrdup(users.v[i]);
        l->device = shared.device ? nd_xstrdup(shared.device) : NULL;
        l->sound = shared.sound ? nd_xstrdup(shared.sound) : NULL;
    }
    if (!users.n && shared.device)
        key_error(rc, "devices", errs, "%s",
                  "applies to user_keys, which is not set (a profile has its own "
                  "profile.NAME.devices)");
    if (!users.n && shared.sound)
        key_error(rc, "sound", errs, "%s",
                  "applies to user_keys, which is not set (a profile has its own "
                  "profile.NAME.sound)");
    free(shared.device);
    free(shared.sound);
    nd_strlist_deinit(&users);
    configure_profiles(s, rc, errs);
    if (s->nlanes == 0)
        nd_config_error_add(errs, rc->file, rc->line, rc->section, "user_keys",
                            "missing key: want user_keys or profile.NAME.user_key");
    else if (s->nlanes > ND_PARTS_LANES_MAX)
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "user_keys"), rc->section,
                            "user_keys", "at most %u recipients (user keys and profiles)",
                            ND_PARTS_LANES_MAX);

    configure_priority(s, rc, errs);
    opt_template(rc, templates, "template", "nm.default.text", &s->tmpl, errs);
    opt_template(rc, templates, "title_template", "nm.default.subject", &s->title_tmpl, errs);

    s->max_size = DEFAULT_MAX_SIZE;
    if (nd_receiver_config_uint(rc, "max_message_size", ND_REQUEST_BODY_MAX / 8, &s->max_size,
                                errs) == ND_OK &&
        s->max_size < MIN_MAX_SIZE)
        key_error(rc, "max_message_size", errs, "%s", "want at least 64 bytes");
    s->max_title = DEFAULT_MAX_TITLE;
    if (nd_receiver_config_uint(rc, "max_title_size", MAX_MAX_TITLE, &s->max_title, errs) ==
            ND_OK &&
        s->max_title < MIN_MAX_TITLE)
        key_error(rc, "max_title_size", errs, "%s", "want at least 32 characters");

    api = nd_receiver_config_strdup(rc, "api_url");
    if (!api)
        api = nd_xstrdup(DEFAULT_API_URL);
    else if (!http_url(api))
        key_error(rc, "api_url", errs, "%s", "want an http:// or https:// URL");
    while (strlen(api) > 0 && api[strlen(api) - 1] == '/')
        api[strlen(api) - 1] = '\0';
    s->url = nd_xasprintf("%s/messages.json", api);
    free(api);

    if (errs->total != before) {
        pushover_free(s);
        *state = NULL;
        return ND_EINVAL;
    }
    s->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (s->headers)
        s->headers = curl_slist_append(s->headers, "Expect:");
    if (!s->headers)
        abort(); /* curl_slist_append fails only on OOM */
    *state = s;
    return ND_OK;
}

struct render_ctx {
    struct pushover *s;
    const struct nd_notification *n;
};

/* Renders the message and the title of alerts[0..k) as if they were the
 * whole notification: the group and common labels stay true for a subset. */
static int render_alerts(void *ctx, struct nd_alert *const *alerts, size_t k, struct nd_buf *msg,
                         struct nd_buf *title, char err[ND_ERRLEN])
{
    struct render_ctx *c = ctx;
    struct nd_notification sub = *c->n;
    struct nd_template_data *data;
    char e[ND_ERRLEN];
    size_t i;
    int rc;

    sub.alerts = (struct nd_alert **)alerts;
    sub.nalerts = k;
    sub.status = ND_ALERT_RESOLVED;
    for (i = 0; i < k; i++)
        if (alerts[i]->status == ND_ALERT_FIRING)
            sub.status = ND_ALERT_FIRING;
    data = nd_template_data_from_notification(&sub, nd_now_wall_ns());
    rc = nd_template_text(c->s->set, c->s->tmpl, data, msg, e);
    if (rc != ND_OK) {
        nd_template_data_free(data);
        return nd_seterr(err, rc, "template %s: %s", c->s->tmpl, e);
    }
    if (title && (rc = nd_template_text(c->s->set, c->s->title_tmpl, data, title, e)) != ND_OK) {
        nd_template_data_free(data);
        return nd_seterr(err, rc, "title_template %s: %s", c->s->title_tmpl, e);
    }
    nd_template_data_free(data);
    return ND_OK;
}

/* Cuts a title of more than `max` characters (code points, as Pushover
 * counts them) so that with ND_CHUNK_MARK it has exactly `max`. */
static void cut_title(char **title, size_t max)
{
    static const size_t mark_chars = 12; /* U+2026 and "[truncated]" */
    const char *t = *title;
    size_t chars = 0, i, keep = 0;
    char *out;

    for (i = 0; t[i]; i++) {
        if (((unsigned char)t[i] & 0xc0) != 0x80) {
            if (chars == max - mark_chars)
                keep = i;
            chars++;
        }
    }
    if (chars <= max)
        return;
    out = nd_xmalloc(keep + sizeof(ND_CHUNK_MARK));
    memcpy(out, t, keep);
    memcpy(out + keep, ND_CHUNK_MARK, sizeof(ND_CHUNK_MARK));
    free(*title);
    *title = out;
}

static int pushover_parts(void *state, const struct nd_notification *n, struct nd_parts *out,
                          char *err)
{
    struct pushover *s = state;
    struct render_ctx ctx = {s, n};
    struct nd_chunks_spec spec = {
        .limit = s->max_size, .with_title = true, .render = render_alerts, .ctx = &ctx};
    struct nd_chunks *c;
    size_t i;
    int rc;

    rc = nd_chunks_split(n->alerts, n->nalerts, &spec, &c, err);
    if (rc != ND_OK)
        return rc;
    for (i = 0; i < c->n; i++) {
        if (c->v[i].len == 0) {
            nd_chunks_free(c);
            return nd_seterr(err, ND_EINVAL,
                             "template %s rendered an empty message (Pushover refuses a blank "
                             "message)",
                             s->tmpl);
        }
        cut_title(&c->v[i].title, s->max_title);
    }
    out->lanes = (uint32_t)s->nlanes;
    out->chunks = (uint32_t)c->n;
    out->ud = c;
    return ND_OK;
}

static int pushover_build_part(void *state, const struct nd_notification *n,
                               const struct nd_part *part, const char *prepared,
                               struct nd_request *req, char *err)
{
    struct pushover *s = state;
    struct nd_chunks *c = part->ud;
    const struct nd_chunk *k = &c->v[part->chunk];
    const struct lane *l = &s->lanes[part->lane];
    struct nd_json j;
    int rc;

    ND_UNUSED(n);
    ND_UNUSED(prepared);
    /* The members in the order Notification Manager's encoder writes them. */
    nd_json_init(&j, &req->body, ND_JSON_HTML);
    nd_json_obj_open(&j);
    nd_json_kstr(&j, "token", s->token);
    nd_json_kstr(&j, "user", l->user);
    nd_json_key(&j, "message");
    nd_json_strn(&j, k->text, k->len);
    if (l->device)
        nd_json_kstr(&j, "device", l->device);
    if (k->title && k->title[0])
        nd_json_kstr(&j, "title", k->title);
    if (s->priority != 0)
        nd_json_kint(&j, "priority", s->priority);
    if (l->sound)
        nd_json_kstr(&j, "sound", l->sound);
    if (s->priority == EMERGENCY) {
        nd_json_kint(&j, "retry", s->retry_s);
        nd_json_kint(&j, "expire", s->expire_s);
    }
    nd_json_obj_close(&j);
    rc = nd_json_finish(&j, err);
    if (rc != ND_OK)
        return rc;
    req->url = nd_xstrdup(s->url);
    req->method = "POST";
    return ND_OK;
}

static int pushover_build(void *state, const struct nd_notification *n, const char *prepared,
                          struct nd_request *req, char *err)
{
    ND_UNUSED(state);
    ND_UNUSED(n);
    ND_UNUSED(prepared);
    ND_UNUSED(req);
    return nd_seterr(err, ND_EINVAL, "pushover sends through parts");
}

static int pushover_setopt(void *state, CURL *easy, struct nd_request *req, char *err)
{
    struct pushover *s = state;

    ND_UNUSED(req);
    ND_UNUSED(err);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, s->headers);
    return ND_OK;
}

/* The answer's "errors" strings joined by "; " (as Notification Manager
 * joins them), non-printable bytes as blanks; "" when there are none. */
static void join_errors(const struct nd_jsonr *doc, char *out, size_t outlen)
{
    size_t n = 0, i, len = 0;

    out[0] = '\0';
    if (!doc || nd_jsonr_len(doc, "errors", &n) != ND_OK ||
        nd_jsonr_type(doc, "errors") != ND_JSONR_ARRAY)
        return;
    for (i = 0; i < n && len + 1 < outlen; i++) {
        char path[32];
        const char *e;
        size_t p;

        snprintf(path, sizeof(path), "errors.%zu", i);
        if (nd_jsonr_str(doc, path, &e) != ND_OK)
            continue;
        if (len > 0)
            len += (size_t)snprintf(out + len, outlen - len, "; ");
        for (p = 0; e[p] && len + 1 < outlen; p++) {
            unsigned char ch = (unsigned char)e[p];

            out[len++] = (ch >= 0x20 && ch != 0x7f) ? (char)ch : ' ';
        }
        out[len < outlen ? len : outlen - 1] = '\0';
    }
}

/* "<token>" for every occurrence of the token: a proxy or a stand-in may
 * echo the request. */
static void scrub(const struct pushover *s, char *reason)
{
    static const char repl[] = "<token>";
    size_t tl = strlen(s->token);
    char *p;

    while ((p = strstr(reason, s->token)) != NULL) {
        memcpy(p, repl, sizeof(repl) - 1);
        memmove(p + sizeof(repl) - 1, p + tl, strlen(p + tl) + 1);
    }
}

/* When the application's message limit resets (X-Limit-App-Reset, Unix
 * seconds): the wait in *delay_ns and the time as text; false when the
 * header is absent, unreadable or not in the future. */
static bool limit_reset(const struct nd_response *r, int64_t *delay_ns, char *when, size_t whenlen)
{
    char v[32];
    char *end;
    long long secs;
    time_t t;
    struct tm tm;

    if (!nd_response_header(r, "X-Limit-App-Reset", v, sizeof(v)))
        return false;
    secs = strtoll(v, &end, 10);
    if (end == v || *end || secs <= 0 || secs > INT64_MAX / ND_NS_PER_S ||
        secs * ND_NS_PER_S <= r->now_wall_ns)
        return false;
    *delay_ns = secs * ND_NS_PER_S - r->now_wall_ns;
    t = (time_t)secs;
    if (!gmtime_r(&t, &tm) || strftime(when, whenlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(when, whenlen, "%lld", secs);
    return true;
}

static void pushover_classify(void *state, const struct nd_response *r, struct nd_verdict *v)
{
    struct pushover *s = state;
    struct nd_jsonr *doc = NULL;
    char err[ND_ERRLEN], errors[200];
    int64_t status = 0;
    bool ok;

    nd_classify_http(r, v);
    if (r->curl_code != 0)
        return;
    if (nd_jsonr_parse(r->body->data ? r->body->data : "", r->body->len, &doc, err) != ND_OK)
        doc = NULL;
    ok = doc && nd_jsonr_int(doc, "status", &status) == ND_OK && status == 1;
    join_errors(doc, errors, sizeof(errors));
    nd_jsonr_free(doc);

    if (r->status >= 200 && r->status <= 299) {
        if (ok) {
            v->kind = ND_VERDICT_DELIVERED;
            return;
        }
        v->kind = ND_VERDICT_FAILED;
        if (errors[0])
            snprintf(v->reason, sizeof(v->reason), "status %ld: %s", r->status, errors);
        else
            snprintf(v->reason, sizeof(v->reason), "status %ld without \"status\": 1", r->status);
    } else if (r->status == 429) {
        char when[40];
        int64_t d;

        v->kind = ND_VERDICT_RETRY;
        if (limit_reset(r, &d, when, sizeof(when))) {
            if (v->delay_ns < 0)
                v->delay_ns = d;
            snprintf(v->reason, sizeof(v->reason),
                     "status 429: application message limit reached, resets at %s%s%s", when,
                     errors[0] ? ": " : "", errors);
        } else if (errors[0]) {
            snprintf(v->reason, sizeof(v->reason), "status 429: %s", errors);
        }
    } else if (errors[0]) {
        /* The generic rule decided (5xx and 408 retried, other 4xx failed);
         * Pushover's own words replace the body excerpt. */
        snprintf(v->reason, sizeof(v->reason), "status %ld: %s", r->status, errors);
    }
    scrub(s, v->reason);
}

const struct nd_receiver_type nd_receiver_type_pushover = {
    .name = "pushover",
    .configure = pushover_configure,
    .free_state = pushover_free,
    .build = pushover_build,
    .setopt = pushover_setopt,
    .classify = pushover_classify,
    .parts = pushover_parts,
    .build_part = pushover_build_part,
    .free_parts = nd_chunks_free_parts,
};
