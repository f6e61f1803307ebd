/* feishu.c - the Feishu (Lark) receiver: a group's custom bot (webhook) or
 * an app's batch messages to users and departments.
 *
 * Keys are in docs/receivers.md. A notification is split by whole alerts
 * (nd_chunks_split) so that every request body stays within
 * max_message_size; an alert too big on its own is sent alone, cut, ending
 * with ND_CHUNK_MARK, never dropped. Fan-out: one lane for a bot; for an
 * app one lane per batch of at most batch_size user ids and department
 * ids (batch_send takes at most 200 of each), the chunks in order on each.
 *
 * Bot: POST <webhook> with {"msg_type", "content"}; with a secret, each
 * attempt carries a fresh "timestamp" (seconds) and "sign" (feishu.h),
 * since Feishu refuses a timestamp more than an hour old.
 * App: POST <api_url>/auth/v3/tenant_access_token/internal with {app_id,
 * app_secret} through the engine's prepare step (one token per app, shared
 * by receivers), then POST <api_url>/message/v4/batch_send/ with
 * "Authorization: Bearer TOKEN" and {"msg_type", "content", "user_ids",
 * "department_ids"}.
 *
 * A post message is the template's output, a JSON object of languages
 * (nm.feishu.post), checked and written again with the title and the
 * keywords added (nd_feishu_post); a text message is the template's text.
 *
 * Verdict: the HTTP rule first (nd_classify_http), then the answer's "code"
 * ("StatusCode" in older bot answers): 0 is delivered (for an app only when
 * no user or department id came back invalid); 9499, 11232 and 99991400
 * (rate limits) retry after x-ogw-ratelimit-reset seconds, else Retry-After,
 * else the backoff; 99991661, 99991663 and 99991671 (missing or invalid
 * tenant token) on an app drop the token and retry at once; any other code
 * fails at once with the code and msg in the reason.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "notifyd/chunks.h"
#include "notifyd/crypto.h"
#include "notifyd/feishu.h"
#include "notifyd/json.h"
#include "notifyd/jsonr.h"
#include "notifyd/parse.h"
#include "notifyd/receiver.h"
#include "notifyd/tmpl_split.h"
#include "notifyd/util.h"

#define DEFAULT_API_URL  "https://open.feishu.cn/open-apis"
#define DEFAULT_MAX_SIZE 20000
/* The least room a message must have once the body's other fields (ids,
 * keywords, signature) are counted. */
#define MIN_ROOM  256
#define BATCH_MAX 200
#define TITLE_MAX (64 * 1024)
/* Ceiling of one rendering of the template (the chunk is far smaller). */
#define RENDER_MAX             (ND_REQUEST_BODY_MAX / 2)
#define TOKEN_FETCH_TIMEOUT_NS (10 * ND_NS_PER_S)
/* A token is used until `expire` minus this margin (or minus a quarter of
 * `expire` when that is shorter), so that no request carries a token that
 * expires on the way. */
#define TOKEN_MARGIN_NS  (300 * ND_NS_PER_S)
#define RATE_RESET_MAX_S 3600
#define CUT_ROUNDS       64
#define SIGN_PLACEHOLDER "0000000000000000000000000000000000000000000="
#define TS_PLACEHOLDER   "0000000000"

/* Feishu's codes (https://open.feishu.cn/document/server-docs/api-call-guide/
 * generic-error-code, .../frequency-control, the custom bot guide). */
#define CODE_BOT_BAD_REQUEST  9499 /* a bot's "too many request", also a bad request */
#define CODE_BOT_FREQUENCY    11232
#define CODE_FREQUENCY        99991400
#define CODE_TOKEN_MISSING    99991661
#define CODE_TENANT_TOKEN_BAD 99991663
#define CODE_ACCESS_TOKEN_BAD 99991671

struct feishu {
    bool app;
    bool post;
    char *webhook; /* secret: the URL carries the hook's token */
    char *secret;
    struct nd_strlist keywords;
    char *kw; /* "[Keywords] k1,k2", or NULL */
    char *app_id;
    char *app_secret;
    struct nd_strlist users, depts;
    uint64_t batch;
    uint32_t lanes;
    char *api_url; /* without a trailing '/' */
    char *prep_key;
    char *tmpl, *title_tmpl;
    const struct nd_template_set *set;
    uint64_t max_size;
    size_t room; /* the message's share of max_size */
};

/* ---- the signature ---- */

int nd_feishu_sign(const char *secret, int64_t ts_s, struct nd_buf *out, char *err)
{
    unsigned char mac[ND_SHA256_LEN];
    struct nd_buf key;
    int rc;

    nd_buf_init(&key, 64 * 1024 + 32);
    rc = nd_buf_printf(&key, "%" PRId64 "\n%s", ts_s, secret);
    if (rc != ND_OK) {
        nd_buf_deinit(&key);
        return nd_seterr(err, rc, "secret too long");
    }
    /* Feishu's scheme: the string is the HMAC key, the message is empty. */
    rc = nd_crypto_hmac_sha256(key.data, key.len, "", 0, mac, err);
    memset(key.data, 0, key.len);
    nd_buf_deinit(&key);
    if (rc != ND_OK)
        return rc;
    if (nd_crypto_base64(out, mac, sizeof(mac)) != ND_OK)
        return nd_seterr(err, ND_ETOOBIG, "signature does not fit");
    return ND_OK;
}

/* ---- post messages: a walk over the template's JSON (yajl's callback
 * parser: no tree, no recursion) ---- */

enum role { R_ROOT, R_LANG, R_CONTENT, R_PARA, R_ELEM, R_OTHER };
enum keykind { K_OTHER, K_CONTENT, K_TEXT };

struct walk {
    struct nd_json *j; /* NULL: read only */
    const char *title, *keywords;
    struct nd_buf *text; /* NULL: no text wanted */
    char lang[64];       /* the first language's name */
    char cur[64];        /* the language being read, for messages */
    unsigned nlangs;
    unsigned depth;
    enum role role[ND_JSON_MAX_DEPTH];
    enum keykind key;
    bool title_seen, content_seen;
    int rc;
    char err[ND_ERRLEN];
};

/* Records the first error: "post: [language "NAME": ]WHAT". */
static int walk_fail(struct walk *w, int rc, bool in_lang, const char *what)
{
    if (w->rc == ND_OK) {
        w->rc = rc;
        if (in_lang)
            snprintf(w->err, sizeof(w->err), "post: language \"%s\": %s", w->cur, what);
        else
            snprintf(w->err, sizeof(w->err), "post: %s", what);
    }
    return 0; /* stops yajl */
}

static void copy_name(char dst[64], const unsigned char *s, size_t n)
{
    if (n > 63)
        n = 63;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* Checks a value (a container when open_map/open_arr) against its place
 * and returns its role, or -1 after walk_fail. */
static int walk_value(struct walk *w, bool open_map, bool open_arr)
{
    const char *bad = NULL;
    enum role role = R_OTHER;

    if (w->depth == 0) {
        if (!open_map) {
            walk_fail(w, ND_EINVAL, false, "want a JSON object of languages");
            return -1;
        }
        return R_ROOT;
    }
    switch (w->role[w->depth - 1]) {
    case R_ROOT:
        if (!open_map)
            bad = "want an object";
        w->nlangs++;
        w->title_seen = w->content_seen = false;
        if (w->nlangs == 1)
            memcpy(w->lang, w->cur, sizeof(w->lang));
        role = R_LANG;
        break;
    case R_LANG:
        if (w->key == K_CONTENT) {
            if (!open_arr)
                bad = "content: want a list of paragraphs";
            w->content_seen = true;
            role = R_CONTENT;
        }
        break;
    case R_CONTENT:
        if (!open_arr)
            bad = "a paragraph: want a list of elements";
        role = R_PARA;
        break;
    case R_PARA:
        if (!open_map)
            bad = "an element: want an object such as "
                  "{\"tag\":\"text\",\"text\":\"...\"}";
        role = R_ELEM;
        break;
    default:
        break;
    }
    if (bad) {
        walk_fail(w, ND_EINVAL, true, bad);
        return -1;
    }
    return (int)role;
}

static int walk_open(struct walk *w, bool map)
{
    int role = walk_value(w, map, !map);

    if (role < 0)
        return 0;
    if (w->depth >= ND_JSON_MAX_DEPTH)
        return walk_fail(w, ND_ETOOBIG, false, "nested too deep");
    w->role[w->depth++] = (enum role)role;
    if (w->j) {
        if (map)
            nd_json_obj_open(w->j);
        else
            nd_json_arr_open(w->j);
    }
    return 1;
}

static int walk_scalar(struct walk *w)
{
    return walk_value(w, false, false) < 0 ? 0 : 1;
}

static int cb_null(void *ctx)
{
    struct walk *w = ctx;

    if (!walk_scalar(w))
        return 0;
    if (w->j)
        nd_json_null(w->j);
    return 1;
}

static int cb_bool(void *ctx, int b)
{
    struct walk *w = ctx;

    if (!walk_scalar(w))
        return 0;
    if (w->j)
        nd_json_bool(w->j, b != 0);
    return 1;
}

static int cb_number(void *ctx, const char *s, size_t n)
{
    struct walk *w = ctx;

    if (!walk_scalar(w))
        return 0;
    if (w->j)
        nd_json_raw(w->j, s, n); /* yajl checked its syntax */
    return 1;
}

static int cb_string(void *ctx, const unsigned char *s, size_t n)
{
    struct walk *w = ctx;

    if (!walk_scalar(w))
        return 0;
    if (w->text && w->nlangs == 1 && w->role[w->depth - 1] == R_ELEM && w->key == K_TEXT)
        nd_buf_add(w->text, s, n); /* past its ceiling the text is cut anyway */
    if (w->j)
        nd_json_strn(w->j, (const char *)s, n);
    return 1;
}

static int cb_start_map(void *ctx)
{
    return walk_open(ctx, true);
}

static int cb_key(void *ctx, const unsigned char *s, size_t n)
{
    struct walk *w = ctx;
    enum role r = w->role[w->depth - 1];

    w->key = K_OTHER;
    if (r == R_ROOT) {
        copy_name(w->cur, s, n);
    } else if (r == R_LANG && n == 5 && memcmp(s, "title", 5) == 0) {
        w->title_seen = true;
    } else if (r == R_LANG && n == 7 && memcmp(s, "content", 7) == 0) {
        if (w->content_seen)
            return walk_fail(w, ND_EINVAL, true, "content given twice");
        w->key = K_CONTENT;
    } else if (r == R_ELEM && n == 4 && memcmp(s, "text", 4) == 0) {
        w->key = K_TEXT;
    }
    if (w->j)
        nd_json_keyn(w->j, (const char *)s, n);
    return 1;
}

static int cb_end_map(void *ctx)
{
    struct walk *w = ctx;
    enum role r = w->role[--w->depth];

    if (r == R_LANG) {
        if (!w->content_seen)
            return walk_fail(w, ND_EINVAL, true, "no content");
        if (w->j && !w->title_seen && w->title) {
            ND_JSON_KEY_LIT(w->j, "title");
            nd_json_str(w->j, w->title);
        }
    } else if (r == R_ROOT && w->nlangs == 0) {
        return walk_fail(w, ND_EINVAL, false, "no language (want {\"zh_cn\":{\"content\":...}})");
    }
    if (w->j)
        nd_json_obj_close(w->j);
    return 1;
}

static void json_text_paragraph(struct nd_json *j, const char *s, size_t n)
{
    nd_json_arr_open(j);
    nd_json_obj_open(j);
    ND_JSON_KEY_LIT(j, "tag");
    nd_json_str(j, "text");
    ND_JSON_KEY_LIT(j, "text");
    nd_json_strn(j, s, n);
    nd_json_obj_close(j);
    nd_json_arr_close(j);
}

static int cb_end_array(void *ctx)
{
    struct walk *w = ctx;
    enum role r = w->role[--w->depth];

    if (r == R_CONTENT && w->j && w->keywords)
        json_text_paragraph(w->j, w->keywords, strlen(w->keywords));
    if (r == R_PARA && w->text && w->nlangs == 1)
        nd_buf_addc(w->text, '\n');
    if (w->j)
        nd_json_arr_close(w->j);
    return 1;
}

static int cb_start_array(void *ctx)
{
    return walk_open(ctx, false);
}

static const yajl_callbacks walk_callbacks = {
    .yajl_null = cb_null,
    .yajl_boolean = cb_bool,
    .yajl_number = cb_number,
    .yajl_string = cb_string,
    .yajl_start_map = cb_start_map,
    .yajl_map_key = cb_key,
    .yajl_end_map = cb_end_map,
    .yajl_start_array = cb_start_array,
    .yajl_end_array = cb_end_array,
};

static int walk_run(struct walk *w, const char *json, size_t len, bool partial, char *err)
{
    yajl_handle h = yajl_alloc(&walk_callbacks, NULL, w);
    yajl_status st;

    if (!h)
        abort(); /* yajl_alloc fails only on OOM */
    st = yajl_parse(h, (const unsigned char *)json, len);
    if (st == yajl_status_ok && !partial)
        st = yajl_complete_parse(h);
    if (st != yajl_status_ok && w->rc == ND_OK && !(partial && st == yajl_status_error)) {
        unsigned char *m = yajl_get_error(h, 0, (const unsigned char *)json, len);
        char *nl = m ? strchr((char *)m, '\n') : NULL;

        if (nl)
            *nl = '\0';
        w->rc = ND_EINVAL;
        snprintf(w->err, sizeof(w->err), "post: invalid JSON: %s", m ? (char *)m : "parse error");
        if (m)
            yajl_free_error(h, m);
    }
    yajl_free(h);
    if (w->rc != ND_OK)
        return nd_seterr(err, w->rc, "%s", w->err);
    return ND_OK;
}

int nd_feishu_post(const char *json, size_t len, const char *title, const char *keywords,
                   struct nd_buf *out, char *err)
{
    struct walk w;
    struct nd_json j;
    int rc;

    memset(&w, 0, sizeof(w));
    nd_json_init(&j, out, ND_JSON_HTML);
    w.j = &j;
    w.title = title;
    w.keywords = keywords;
    rc = walk_run(&w, json ? json : "", len, false, err);
    if (rc != ND_OK) {
        nd_json_finish(&j, NULL); /* restores out */
        return rc;
    }
    return nd_json_finish(&j, err);
}

int nd_feishu_post_text(const char *json, size_t len, bool partial, struct nd_buf *text,
                        char lang[64], char *err)
{
    struct walk w;
    int rc;

    memset(&w, 0, sizeof(w));
    w.text = text;
    rc = walk_run(&w, json ? json : "", len, partial, err);
    memcpy(lang, w.lang, sizeof(w.lang));
    return rc;
}

/* ---- configuration ---- */

static void feishu_free(void *p)
{
    struct feishu *f = p;

    if (!f)
        return;
    nd_secret_free(f->webhook);
    nd_secret_free(f->secret);
    nd_secret_free(f->app_id);
    nd_secret_free(f->app_secret);
    nd_strlist_deinit(&f->keywords);
    nd_strlist_deinit(&f->users);
    nd_strlist_deinit(&f->depts);
    free(f->kw);
    free(f->api_url);
    free(f->prep_key);
    free(f->tmpl);
    free(f->title_tmpl);
    free(f);
}

static bool http_url(const char *s)
{
    return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
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

/* The keys that make a receiver an app. */
static const char *const app_keys[] = {"app_id", "app_secret", "user", "department", NULL};

/* The first of `keys` present in the section (its name and line), for an
 * error about the app mode; the section's line when none is. */
static const char *first_key(struct nd_receiver_config *rc, const char *const *keys, int *line)
{
    for (; *keys; keys++)
        if (nd_receiver_config_get(rc, *keys)) {
            *line = nd_receiver_config_line(rc, *keys);
            return *keys;
        }
    *line = rc->line;
    return NULL;
}

static size_t count_lanes(const struct feishu *f)
{
    size_t n = f->users.n > f->depts.n ? f->users.n : f->depts.n;

    return n / f->batch + (n % f->batch != 0);
}

static void json_ids(struct nd_json *j, const char *key, const struct nd_strlist *l, size_t from,
                     size_t batch)
{
    size_t i;

    if (from >= l->n)
        return;
    nd_json_key(j, key);
    nd_json_arr_open(j);
    for (i = from; i < l->n && i < from + batch; i++)
        nd_json_str(j, l->v[i]);
    nd_json_arr_close(j);
}

/* The request body of one part: `msg` is the chunk (text, or the post's
 * JSON); ts and sign only for a signed bot. */
static int write_body(struct feishu *f, uint32_t lane, const char *msg, size_t len, const char *ts,
                      const char *sign, struct nd_buf *out, char *err)
{
    struct nd_json j;
    int rc = ND_OK;

    nd_json_init(&j, out, ND_JSON_HTML);
    nd_json_obj_open(&j);
    ND_JSON_KEY_LIT(&j, "msg_type");
    nd_json_str(&j, f->post ? "post" : "text");
    ND_JSON_KEY_LIT(&j, "content");
    nd_json_obj_open(&j);
    if (f->post) {
        ND_JSON_KEY_LIT(&j, "post");
        nd_json_raw(&j, msg, len); /* written by nd_feishu_post */
    } else {
        struct nd_buf t;

        nd_buf_init(&t, ND_REQUEST_BODY_MAX);
        rc = nd_buf_add(&t, msg, len);
        if (rc == ND_OK && f->kw) {
            rc = nd_buf_adds(&t, "\n\n");
            if (rc == ND_OK)
                rc = nd_buf_adds(&t, f->kw);
        }
        ND_JSON_KEY_LIT(&j, "text");
        nd_json_strn(&j, t.len ? t.data : "", t.len);
        nd_buf_deinit(&t);
    }
    nd_json_obj_close(&j);
    if (ts) {
        ND_JSON_KEY_LIT(&j, "timestamp");
        nd_json_str(&j, ts);
        ND_JSON_KEY_LIT(&j, "sign");
        nd_json_str(&j, sign);
    }
    if (f->app) {
        json_ids(&j, "user_ids", &f->users, (size_t)lane * f->batch, f->batch);
        json_ids(&j, "department_ids", &f->depts, (size_t)lane * f->batch, f->batch);
    }
    nd_json_obj_close(&j);
    if (rc != ND_OK) {
        nd_json_finish(&j, NULL);
        return nd_seterr(err, rc, "message too big");
    }
    return nd_json_finish(&j, err);
}

/* The bytes of the largest body besides its message: what max_message_size
 * leaves for the message is the rest. */
static size_t envelope(struct feishu *f)
{
    const char *ts = f->secret ? TS_PLACEHOLDER : NULL;
    const char *msg = f->post ? "{}" : "";
    size_t mlen = f->post ? 2 : 0, most = 0;
    uint32_t lane;

    for (lane = 0; lane < f->lanes; lane++) {
        struct nd_buf b;
        char err[ND_ERRLEN];

        nd_buf_init(&b, ND_REQUEST_BODY_MAX);
        if (write_body(f, lane, msg, mlen, ts, SIGN_PLACEHOLDER, &b, err) != ND_OK)
            most = SIZE_MAX;
        else if (b.len - mlen > most)
            most = b.len - mlen;
        nd_buf_deinit(&b);
    }
    return most;
}

static void configure_app(struct feishu *f, struct nd_receiver_config *rc,
                          struct nd_config_errors *errs)
{
    static const char *const bot_only[] = {"secret", "keywords", NULL};
    size_t lanes;
    int line;

    first_key(rc, app_keys, &line); /* where the app's errors point */
    for (const char *const *b = bot_only; *b; b++)
        if (nd_receiver_config_get(rc, *b))
            nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, *b), rc->section, *b,
                                "only for a bot (webhook); this receiver is an app (app_id)");
    if (!f->app_id)
        nd_config_error_add(errs, rc->file, line, rc->section, "app_id",
                            "missing key (an app needs app_id, app_secret and user or "
                            "department)");
    if (!f->app_secret)
        nd_config_error_add(errs, rc->file, line, rc->section, "app_secret",
                            "missing key (an app needs app_id, app_secret and user or "
                            "department)");
    if (f->users.n == 0 && f->depts.n == 0)
        nd_config_error_add(errs, rc->file, line, rc->section, "user",
                            "missing key: want user or department (or both), comma-separated ids");
    lanes = count_lanes(f);
    if (lanes > ND_PARTS_LANES_MAX) {
        const char *k = f->users.n >= f->depts.n ? "user" : "department";

        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, k), rc->section, k,
                            "%zu ids make more than %u batches of %" PRIu64,
                            f->users.n >= f->depts.n ? f->users.n : f->depts.n, ND_PARTS_LANES_MAX,
                            f->batch);
    } else {
        f->lanes = (uint32_t)lanes;
    }
    if (f->app_id && f->app_secret) {
        unsigned char h[ND_SHA256_LEN];
        char hex[2 * ND_SHA256_LEN + 1];
        /* The key shares a token between receivers of the same app on the
         * same API; the secret is part of it only as a hash. */
        if (nd_crypto_sha256(f->app_secret, strlen(f->app_secret), h, NULL) != ND_OK)
            abort();
        nd_crypto_hex(h, 8, hex);
        f->prep_key = nd_xasprintf("feishu:%s:%s:%s", f->api_url, f->app_id, hex);
    }
}

static int feishu_configure(struct nd_receiver_config *rc, const struct nd_template_set *templates,
                            void **state, struct nd_config_errors *errs)
{
    size_t before = errs->total;
    struct feishu *f = nd_xcalloc(1, sizeof(*f));
    struct nd_config_kv *kv;
    int line;
    const char *appkey;

    f->set = templates;
    f->webhook = nd_receiver_config_secret(rc, "webhook", false, errs);
    f->secret = nd_receiver_config_secret(rc, "secret", false, errs);
    nd_receiver_config_list(rc, "keywords", &f->keywords);
    f->app_id = nd_receiver_config_secret(rc, "app_id", false, errs);
    f->app_secret = nd_receiver_config_secret(rc, "app_secret", false, errs);
    nd_receiver_config_list(rc, "user", &f->users);
    nd_receiver_config_list(rc, "department", &f->depts);
    f->batch = BATCH_MAX;
    nd_receiver_config_uint(rc, "batch_size", BATCH_MAX, &f->batch, errs);
    if (f->batch < 1) {
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "batch_size"), rc->section,
                            "batch_size", "want 1..%d", BATCH_MAX);
        f->batch = BATCH_MAX;
    }
    f->api_url = nd_receiver_config_strdup(rc, "api_url");
    if (!f->api_url)
        f->api_url = nd_xstrdup(DEFAULT_API_URL);
    else if (!http_url(f->api_url))
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "api_url"), rc->section,
                            "api_url", "want an http:// or https:// URL");
    while (strlen(f->api_url) > 0 && f->api_url[strlen(f->api_url) - 1] == '/')
        f->api_url[strlen(f->api_url) - 1] = '\0';

    f->post = true;
    kv = nd_receiver_config_get(rc, "template_type");
    if (kv && strcmp(kv->value, "text") == 0)
        f->post = false;
    else if (kv && strcmp(kv->value, "post") != 0)
        nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key,
                            "invalid value \"%s\": want post or text", kv->value);
    opt_template(rc, templates, "template", f->post ? "nm.feishu.post" : "nm.feishu.text", &f->tmpl,
                 errs);
    opt_template(rc, templates, "title_template", "nm.default.subject", &f->title_tmpl, errs);
    f->max_size = DEFAULT_MAX_SIZE;
    nd_receiver_config_uint(rc, "max_message_size", ND_REQUEST_BODY_MAX / 2, &f->max_size, errs);

    appkey = first_key(rc, app_keys, &line);
    f->app = appkey != NULL;
    if (f->webhook && f->app) {
        nd_config_error_add(errs, rc->file, line, rc->section, appkey,
                            "webhook (bot) and %s (app) in one receiver: use one receiver for "
                            "each",
                            appkey);
    } else if (!f->webhook && !f->app) {
        nd_config_error_add(errs, rc->file, rc->line, rc->section, "webhook",
                            "missing key: want webhook (bot) or app_id, app_secret and user or "
                            "department (app)");
    } else if (f->app) {
        configure_app(f, rc, errs);
    } else {
        f->lanes = 1;
        if (!http_url(f->webhook))
            nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "webhook"), rc->section,
                                "webhook", "want an http:// or https:// URL");
        if (f->keywords.n > 0) {
            struct nd_buf b;
            size_t i;

            nd_buf_init(&b, ND_REQUEST_BODY_MAX);
            nd_buf_adds(&b, "[Keywords] ");
            for (i = 0; i < f->keywords.n; i++) {
                if (i > 0)
                    nd_buf_addc(&b, ',');
                nd_buf_adds(&b, f->keywords.v[i]);
            }
            f->kw = nd_buf_take(&b, NULL);
            nd_buf_deinit(&b);
        }
    }
    if (errs->total == before) {
        size_t env = envelope(f);

        if (env == SIZE_MAX || env + MIN_ROOM > f->max_size)
            nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "max_message_size"),
                                rc->section, "max_message_size",
                                "%" PRIu64 " bytes leave less than %d for the message once the "
                                "body's other fields (%s) are counted",
                                f->max_size, MIN_ROOM,
                                f->app ? "user and department ids" : "keywords, signature");
        else
            f->room = f->max_size - env;
    }
    if (errs->total != before) {
        feishu_free(f);
        *state = NULL;
        return ND_EINVAL;
    }
    *state = f;
    return ND_OK;
}

/* ---- splitting ---- */

struct render_ctx {
    struct feishu *f;
    const struct nd_notification *n;
};

/* The template (and for a post the title) for alerts[0..count), as if they
 * were the whole notification: its group and common labels stay true for
 * any subset. */
static int render_raw(struct render_ctx *c, struct nd_alert *const *alerts, size_t count,
                      struct nd_buf *msg, struct nd_buf *title, char err[ND_ERRLEN])
{
    struct feishu *f = c->f;
    struct nd_notification sub = *c->n;
    struct nd_template_data *data;
    char e[ND_ERRLEN];
    size_t i;
    int rc;

    sub.alerts = (struct nd_alert **)alerts;
    sub.nalerts = count;
    if (count > 0) {
        sub.status = ND_ALERT_RESOLVED;
        for (i = 0; i < count; i++)
            if (alerts[i]->status == ND_ALERT_FIRING)
                sub.status = ND_ALERT_FIRING;
    }
    data = nd_template_data_from_notification(&sub, nd_now_wall_ns());
    rc = nd_template_text(f->set, f->tmpl, data, msg, e);
    if (rc != ND_OK && rc != ND_ETOOBIG) {
        nd_template_data_free(data);
        return nd_seterr(err, rc, "template %s: %s", f->tmpl, e);
    }
    if (title) {
        /* ND_ETOOBIG stays the message's: a title over its ceiling is an
         * error of the template. */
        if (nd_template_text(f->set, f->title_tmpl, data, title, e) != ND_OK) {
            nd_template_data_free(data);
            return nd_seterr(err, ND_EINVAL, "title_template %s: %s", f->title_tmpl, e);
        }
    }
    nd_template_data_free(data);
    if (rc == ND_ETOOBIG)
        return nd_seterr(err, rc, "template %s: over %zu bytes", f->tmpl, msg->limit);
    return ND_OK;
}

/* A post of the lines of `text`, one text paragraph each, under `lang`. */
static int write_text_post(struct feishu *f, const char *lang, const struct nd_buf *title,
                           const struct nd_buf *text, struct nd_buf *out, char *err)
{
    struct nd_json j;
    const char *p = text->len ? text->data : "", *end = p + text->len;

    nd_json_init(&j, out, ND_JSON_HTML);
    nd_json_obj_open(&j);
    nd_json_key(&j, lang);
    nd_json_obj_open(&j);
    ND_JSON_KEY_LIT(&j, "title");
    nd_json_strn(&j, title->len ? title->data : "", title->len);
    ND_JSON_KEY_LIT(&j, "content");
    nd_json_arr_open(&j);
    for (;;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;

        json_text_paragraph(&j, p, (size_t)(e - p));
        if (!nl)
            break;
        p = nl + 1;
    }
    if (f->kw)
        json_text_paragraph(&j, f->kw, strlen(f->kw));
    nd_json_arr_close(&j);
    nd_json_obj_close(&j);
    nd_json_obj_close(&j);
    return nd_json_finish(&j, err);
}

/* An alert too big for one post (or a notification without alerts whose
 * post is): its text, cut to fit `limit` with ND_CHUNK_MARK, as a post of
 * text paragraphs (links and mentions become their text). */
static int post_cut(struct feishu *f, const struct nd_buf *rendered, bool partial,
                    const struct nd_buf *title, size_t limit, struct nd_buf *msg, char *err)
{
    struct nd_buf text, ttl;
    char lang[64], e[ND_ERRLEN];
    size_t budget = limit;
    int rc, round;

    nd_buf_init(&text, RENDER_MAX);
    rc = nd_feishu_post_text(rendered->len ? rendered->data : "", rendered->len, partial, &text,
                             lang, e);
    if (rc != ND_OK) {
        nd_buf_deinit(&text);
        return nd_seterr(err, rc, "template %s: %s", f->tmpl, e);
    }
    if (!lang[0])
        snprintf(lang, sizeof(lang), "zh_cn");
    /* A one-alert title is the alert's message, as long as it may be: it
     * gets at most a quarter of the room. */
    nd_buf_init(&ttl, title->len + 64);
    nd_buf_add(&ttl, title->len ? title->data : "", title->len);
    if (nd_tmpl_json_len(nd_buf_cstr(&ttl), ttl.len) >= limit / 4)
        nd_chunks_cut(&ttl, limit / 4);
    while (text.len > 0 && text.data[text.len - 1] == '\n')
        text.data[--text.len] = '\0';
    /* The post's escaped size grows with the text's, but not in step (a
     * line costs a paragraph, quotes are escaped twice): shrink the text
     * until the post fits. */
    for (round = 0; round < CUT_ROUNDS && budget > 0; round++) {
        struct nd_buf cut;
        size_t len;

        nd_buf_init(&cut, text.len + 64);
        nd_buf_add(&cut, text.len ? text.data : "", text.len);
        nd_chunks_cut(&cut, budget);
        nd_buf_reset(msg);
        rc = write_text_post(f, lang, &ttl, &cut, msg, e);
        nd_buf_deinit(&cut);
        if (rc != ND_OK)
            break;
        len = nd_tmpl_json_len(nd_buf_cstr(msg), msg->len);
        if (len < limit) {
            nd_buf_deinit(&text);
            nd_buf_deinit(&ttl);
            return ND_OK;
        }
        len = len - limit + 1;
        if (round > 0 && len < budget / 32)
            len = budget / 32;
        budget = budget > len ? budget - len : 0;
    }
    nd_buf_deinit(&text);
    nd_buf_deinit(&ttl);
    nd_buf_reset(msg);
    if (rc != ND_OK)
        return nd_seterr(err, rc, "%s", e);
    return nd_seterr(err, ND_ETOOBIG,
                     "the title and keywords leave no room for the alert's text under %zu bytes",
                     limit);
}

static int render_run(void *ctx, struct nd_alert *const *alerts, size_t count, struct nd_buf *msg,
                      struct nd_buf *title, char err[ND_ERRLEN])
{
    struct render_ctx *c = ctx;
    struct feishu *f = c->f;
    struct nd_buf raw, ttl;
    char e[ND_ERRLEN];
    int rc;

    ND_UNUSED(title);
    if (!f->post)
        return render_raw(c, alerts, count, msg, NULL, err);
    nd_buf_init(&raw, msg->limit);
    nd_buf_init(&ttl, TITLE_MAX);
    rc = render_raw(c, alerts, count, &raw, &ttl, err);
    if (rc == ND_OK) {
        rc = nd_feishu_post(raw.len ? raw.data : "", raw.len, nd_buf_cstr(&ttl), f->kw, msg, e);
        if (rc == ND_EINVAL)
            nd_seterr(err, rc, "template %s: %s", f->tmpl, e);
        else if (rc != ND_OK)
            nd_seterr(err, rc, "%s", e);
    }
    /* Without alerts nothing can be split off: a post too big is cut here,
     * since cutting its JSON as text would break it. */
    if (rc == ND_OK && count == 0 && nd_tmpl_json_len(nd_buf_cstr(msg), msg->len) >= f->room)
        rc = post_cut(f, &raw, false, &ttl, f->room, msg, err);
    nd_buf_deinit(&raw);
    nd_buf_deinit(&ttl);
    return rc;
}

static int cut_post_alert(void *ctx, struct nd_alert *const *alert, size_t limit,
                          struct nd_buf *msg, struct nd_buf *title, char err[ND_ERRLEN])
{
    struct render_ctx *c = ctx;
    struct nd_buf raw, ttl;
    bool partial = false;
    int rc;

    ND_UNUSED(title);
    nd_buf_init(&raw, RENDER_MAX);
    nd_buf_init(&ttl, TITLE_MAX);
    rc = render_raw(c, alert, 1, &raw, &ttl, err);
    if (rc == ND_ETOOBIG) {
        partial = true; /* stopped at the ceiling: its start is cut anyway */
        rc = ND_OK;
    }
    if (rc == ND_OK)
        rc = post_cut(c->f, &raw, partial, &ttl, limit, msg, err);
    nd_buf_deinit(&raw);
    nd_buf_deinit(&ttl);
    return rc;
}

static int feishu_parts(void *state, const struct nd_notification *n, struct nd_parts *out,
                        char *err)
{
    struct feishu *f = state;
    struct render_ctx c = {f, n};
    struct nd_chunks_spec spec = {
        .limit = f->room,
        .render_limit = RENDER_MAX,
        .render = render_run,
        .cut = f->post ? cut_post_alert : NULL,
        .ctx = &c,
    };
    struct nd_chunks *p;
    int rc;

    rc = nd_chunks_split(n->alerts, n->nalerts, &spec, &p, err);
    if (rc != ND_OK)
        return rc;
    out->lanes = f->lanes;
    out->chunks = (uint32_t)p->n;
    out->ud = p;
    return ND_OK;
}

/* ---- requests ---- */

static struct curl_slist *headers(const char *token)
{
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8");

    if (h)
        h = curl_slist_append(h, "Expect:");
    if (h && token) {
        char *a = nd_xasprintf("Authorization: Bearer %s", token);
        h = curl_slist_append(h, a);
        memset(a, 0, strlen(a));
        free(a);
    }
    if (!h)
        abort(); /* curl_slist_append fails only on OOM */
    return h;
}

static int feishu_build_part(void *state, const struct nd_notification *n,
                             const struct nd_part *part, const char *prepared,
                             struct nd_request *req, char *err)
{
    struct feishu *f = state;
    const struct nd_chunks *p = part->ud;
    const struct nd_chunk *pc = &p->v[part->chunk];
    char ts[24] = "";
    struct nd_buf sig;
    int rc;

    ND_UNUSED(n);
    if (f->app && !prepared)
        return nd_seterr(err, ND_EINVAL, "no tenant access token");
    nd_buf_init(&sig, 256);
    if (!f->app && f->secret) {
        /* Signed per attempt: Feishu wants the timestamp within an hour. */
        int64_t now = nd_now_wall_ns() / ND_NS_PER_S;

        snprintf(ts, sizeof(ts), "%" PRId64, now);
        rc = nd_feishu_sign(f->secret, now, &sig, err);
        if (rc != ND_OK) {
            nd_buf_deinit(&sig);
            return rc;
        }
    }
    rc = write_body(f, part->lane, pc->text, pc->len, sig.len ? ts : NULL, nd_buf_cstr(&sig),
                    &req->body, err);
    nd_buf_deinit(&sig);
    if (rc != ND_OK)
        return rc;
    req->url =
        f->app ? nd_xasprintf("%s/message/v4/batch_send/", f->api_url) : nd_xstrdup(f->webhook);
    req->method = "POST";
    req->headers = headers(f->app ? prepared : NULL);
    return ND_OK;
}

/* The answer's code: "code", or "StatusCode" in the bot's older answers. */
static bool answer_code(const struct nd_jsonr *doc, int64_t *code, const char **msg)
{
    *msg = "";
    if (nd_jsonr_int(doc, "code", code) == ND_OK) {
        nd_jsonr_str(doc, "msg", msg);
        return true;
    }
    if (nd_jsonr_int(doc, "StatusCode", code) == ND_OK) {
        nd_jsonr_str(doc, "StatusMessage", msg);
        return true;
    }
    return false;
}

/* The ids batch_send names invalid ("data.invalid_user_ids"...), for the
 * reason (as many as fit); false when there are none. */
static bool invalid_ids(const struct nd_jsonr *doc, struct nd_buf *out)
{
    static const char *const keys[] = {"invalid_user_ids", "invalid_department_ids",
                                       "invalid_open_ids"};
    size_t k, i, n;
    bool any = false;

    for (k = 0; k < ND_ARRAY_LEN(keys); k++) {
        char path[64];

        snprintf(path, sizeof(path), "data.%s", keys[k]);
        if (nd_jsonr_len(doc, path, &n) != ND_OK || n == 0)
            continue;
        nd_buf_printf(out, "%s%s:", any ? "; " : "", keys[k]);
        any = true;
        for (i = 0; i < n; i++) {
            const char *id = "?";

            snprintf(path, sizeof(path), "data.%s.%zu", keys[k], i);
            nd_jsonr_str(doc, path, &id);
            if (nd_buf_printf(out, " %s", id) != ND_OK)
                break; /* the rest does not fit in the reason */
        }
    }
    return any;
}

static void feishu_classify(void *state, const struct nd_response *r, struct nd_verdict *v)
{
    struct feishu *f = state;
    struct nd_jsonr *doc = NULL;
    char err[ND_ERRLEN], hv[32];
    int64_t code = -1;
    const char *msg = "";
    bool have;

    nd_classify_http(r, v);
    if (r->curl_code != 0)
        return;
    have = nd_jsonr_parse(r->body->data ? r->body->data : "", r->body->len, &doc, err) == ND_OK &&
           answer_code(doc, &code, &msg);
    if (!have) {
        /* Feishu answers JSON with a code; a 2xx without one is no delivery. */
        if (v->kind == ND_VERDICT_DELIVERED) {
            v->kind = ND_VERDICT_FAILED;
            snprintf(v->reason, sizeof(v->reason), "status %ld without a code in the answer",
                     r->status);
        }
        nd_jsonr_free(doc);
        return;
    }
    if (code == 0) {
        struct nd_buf ids;

        nd_buf_init(&ids, 200);
        /* Retrying would send the message again to the valid ids. */
        if (v->kind == ND_VERDICT_DELIVERED && f->app && invalid_ids(doc, &ids)) {
            v->kind = ND_VERDICT_FAILED;
            snprintf(v->reason, sizeof(v->reason), "code 0 with invalid ids: %s",
                     nd_buf_cstr(&ids));
        }
        nd_buf_deinit(&ids);
        /* A non-2xx with code 0 keeps the HTTP verdict. */
    } else if (code == CODE_BOT_BAD_REQUEST || code == CODE_BOT_FREQUENCY ||
               code == CODE_FREQUENCY) {
        v->kind = ND_VERDICT_RETRY;
        if (nd_response_header(r, "x-ogw-ratelimit-reset", hv, sizeof(hv))) {
            char *end;
            long s = strtol(hv, &end, 10);
            if (end != hv && *end == '\0' && s >= 0) {
                if (s < 1)
                    s = 1;
                if (s > RATE_RESET_MAX_S)
                    s = RATE_RESET_MAX_S;
                v->delay_ns = (int64_t)s * ND_NS_PER_S;
            }
        }
        /* Otherwise the Retry-After of a 429 (nd_classify_http), else the
         * backoff. */
        snprintf(v->reason, sizeof(v->reason), "status %ld, code %" PRId64 ": %.180s", r->status,
                 code, msg);
    } else if (f->app && (code == CODE_TENANT_TOKEN_BAD || code == CODE_ACCESS_TOKEN_BAD ||
                          code == CODE_TOKEN_MISSING)) {
        v->kind = ND_VERDICT_RETRY;
        v->delay_ns = 0;
        v->reprepare = true;
        snprintf(v->reason, sizeof(v->reason), "code %" PRId64 ": %.200s", code, msg);
    } else if (v->kind == ND_VERDICT_RETRY) {
        /* A 5xx or 408 with a code: still the server's trouble. */
        snprintf(v->reason, sizeof(v->reason), "status %ld, code %" PRId64 ": %.180s", r->status,
                 code, msg);
    } else {
        v->kind = ND_VERDICT_FAILED;
        snprintf(v->reason, sizeof(v->reason), "code %" PRId64 ": %.200s", code, msg);
    }
    nd_jsonr_free(doc);
}

/* ---- the tenant access token ---- */

static const char *feishu_prepare_key(void *state)
{
    struct feishu *f = state;

    return f->app ? f->prep_key : NULL;
}

static void on_token(const struct nd_response *r, void *ud)
{
    struct nd_prep *p = ud;
    struct nd_jsonr *doc = NULL;
    char err[ND_ERRLEN], m[ND_ERRLEN];
    const char *token = NULL, *msg = "";
    int64_t code = -1, expire = 7200;
    int64_t ttl, margin;

    if (r->curl_code == CURLE_ABORTED_BY_CALLBACK)
        return; /* the engine is being freed, and the prepare entry with it */
    if (r->curl_code != 0) {
        snprintf(m, sizeof(m), "tenant_access_token: %s", r->curl_error);
        nd_prep_done(p, NULL, 0, m);
        return;
    }
    if (nd_jsonr_parse(r->body->data ? r->body->data : "", r->body->len, &doc, err) != ND_OK) {
        snprintf(m, sizeof(m), "tenant_access_token: status %ld, unreadable answer: %.160s",
                 r->status, err);
        nd_prep_done(p, NULL, 0, m);
        return;
    }
    nd_jsonr_int(doc, "code", &code);
    nd_jsonr_str(doc, "msg", &msg);
    if (r->status / 100 != 2 || code != 0 ||
        nd_jsonr_str(doc, "tenant_access_token", &token) != ND_OK || !token[0]) {
        snprintf(m, sizeof(m), "tenant_access_token: status %ld, code %" PRId64 ": %.180s",
                 r->status, code, msg);
        nd_prep_done(p, NULL, 0, m);
        nd_jsonr_free(doc);
        return;
    }
    nd_jsonr_int(doc, "expire", &expire);
    if (expire < 1 || expire > 30 * 86400)
        expire = 7200;
    ttl = expire * ND_NS_PER_S;
    margin = ttl / 4 < TOKEN_MARGIN_NS ? ttl / 4 : TOKEN_MARGIN_NS;
    nd_prep_done(p, token, ttl - margin, NULL);
    nd_jsonr_free(doc);
}

static void feishu_prepare_start(void *state, struct nd_engine *e, struct nd_prep *p)
{
    struct feishu *f = state;
    struct nd_request req;
    struct nd_json j;

    nd_request_init(&req);
    nd_json_init(&j, &req.body, ND_JSON_HTML);
    nd_json_obj_open(&j);
    nd_json_kstr(&j, "app_id", f->app_id);
    nd_json_kstr(&j, "app_secret", f->app_secret);
    nd_json_obj_close(&j);
    if (nd_json_finish(&j, NULL) != ND_OK) {
        nd_request_deinit(&req);
        nd_prep_done(p, NULL, 0, "tenant_access_token: app_id and app_secret too long");
        return;
    }
    req.url = nd_xasprintf("%s/auth/v3/tenant_access_token/internal", f->api_url);
    req.method = "POST";
    req.headers = headers(NULL);
    nd_engine_fetch_take(e, &req, TOKEN_FETCH_TIMEOUT_NS, on_token, p);
}

const struct nd_receiver_type nd_receiver_type_feishu = {
    .name = "feishu",
    .configure = feishu_configure,
    .free_state = feishu_free,
    .parts = feishu_parts,
    .build_part = feishu_build_part,
    .free_parts = nd_chunks_free_parts,
    .classify = feishu_classify,
    .prepare_key = feishu_prepare_key,
    .prepare_start = feishu_prepare_start,
};
