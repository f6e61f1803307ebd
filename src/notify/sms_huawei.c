/* sms_huawei.c - the sms receiver's Huawei Cloud provider: Message & SMS
 * batchSendSms v1 with X-WSSE authentication.
 *
 * One request per batch of at most 200 numbers:
 *   POST <api_url>   (the full URL, .../sms/batchSendSms/v1)
 *   Content-Type: application/x-www-form-urlencoded
 *   Authorization: WSSE realm="SDP",profile="UsernameToken",type="Appkey"
 *   X-WSSE: UsernameToken Username="<app_key>",PasswordDigest="<digest>",
 *           Nonce="<32 hex>",Created="<UTC 2006-01-02T15:04:05Z>"
 *   from=<sender>&signature=..&statusCallback=&templateId=..
 *   &templateParas=[..]&to=+86..,+86..
 * The form is sorted and encoded like Go's url.Values (what NM sends).
 * Created is the attempt's time in UTC: NM formatted the local time and
 * labelled it Z, off by the machine's UTC offset.
 *
 * templateParas is NM's extraction (nd_sms_huawei_params below): the SMS
 * template on Huawei's side has ten variables, filled from "key = value"
 * lines of the message.
 *
 * Verdict: "code" "000000" is sent; HTTP 429 and 5xx are retried; any other
 * code fails at once with the code and description in the reason (Huawei
 * lists no throttling code for this API).
 */
#include <stdlib.h>
#include <string.h>

#include "notifyd/crypto.h"
#include "notifyd/json.h"
#include "notifyd/jsonr.h"
#include "notifyd/parse.h"
#include "notifyd/sms_sign.h"
#include "notifyd/url.h"
#include "notifyd/util.h"
#include "sms_int.h"

#define DEFAULT_URL "https://rtcsms.cn-north-1.myhuaweicloud.com:10743/sms/batchSendSms/v1"
#define NAME        "huawei"
#define PARAM_RUNES 20

static const char *const keys[] = {
    "app_key", "app_secret", "sender", "signature", "template_id", "api_url", "wsse_digest", NULL,
};

/* The template's ten variables, in NM's order. */
static const char *const param_keys[] = {
    "alertname", "severity", "message",   "summary",  "alerttype",
    "cluster",   "node",     "namespace", "workload", "pod",
};

struct huawei {
    char *app_key;
    char *app_secret;
    char *sender;
    char *signature; /* NULL: sent empty */
    char *template_id;
    bool hex_digest;
    struct sms_url url;
};

int nd_sms_huawei_digest(const char *nonce, const char *created, const char *secret, bool hex,
                         struct nd_buf *out, char *err)
{
    unsigned char d[ND_SHA256_LEN];
    char dhex[2 * ND_SHA256_LEN + 1];
    char *msg = nd_xasprintf("%s%s%s", nonce, created, secret);
    int rc;

    rc = nd_crypto_sha256(msg, strlen(msg), d, err);
    nd_secret_free(msg);
    if (rc != ND_OK)
        return rc;
    if (hex) {
        nd_crypto_hex(d, sizeof(d), dhex);
        rc = nd_crypto_base64(out, dhex, strlen(dhex));
    } else {
        rc = nd_crypto_base64(out, d, sizeof(d));
    }
    return rc == ND_OK ? ND_OK : nd_seterr(err, rc, "huawei: the digest does not fit");
}

int nd_sms_huawei_wsse(const char *app_key, const char *app_secret, const char *nonce,
                       const char *created, bool hex, struct nd_buf *out, char *err)
{
    struct nd_buf d;
    int rc;

    nd_buf_init(&d, 128);
    rc = nd_sms_huawei_digest(nonce, created, app_secret, hex, &d, err);
    if (rc == ND_OK &&
        nd_buf_printf(out,
                      "UsernameToken Username=\"%s\",PasswordDigest=\"%s\",Nonce=\"%s\","
                      "Created=\"%s\"",
                      app_key, d.data, nonce, created) != ND_OK)
        rc = nd_seterr(err, ND_ETOOBIG, "huawei: the X-WSSE header does not fit");
    nd_buf_deinit(&d);
    return rc;
}

/* --- templateParas ---------------------------------------------------
 *
 * NM runs Go's regexp `[a-zA-Z0-9_]+\s+=\s+.*?[^\n]+` over the message
 * (FindAllString: leftmost-first, one match after the other), splits each
 * match at `\s+=\s+` and takes the first two pieces as key and value;
 * deployment, statfulset (sic) and daemonset count as workload, a later
 * pair overwrites an earlier one. It then emits the ten param_keys'
 * values, each cut to its first 20 characters (runes). A message without
 * any pair gives its own first 20 characters as the only parameter.
 * Below is the same matching written out by hand (\s is [\t\n\f\r ],
 * "." is any byte but '\n'); it is linear in the message's length.
 *
 * Kept as NM does it, with one repair: the values are written as JSON
 * strings, escaped, and the single fallback value is quoted too. NM
 * pasted them between quotes (or, for the fallback, bare), so that a
 * quote in a value, or any fallback text, made a templateParas Huawei
 * could not read. */

static bool key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static bool space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

struct pair {
    const char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
};

/* The next match at or after *pos in s[0..len): ND_OK with the pair and
 * *pos after the match, or ND_EINVAL when there is none. */
static int next_pair(const char *s, size_t len, size_t *pos, struct pair *out)
{
    size_t i = *pos;

    while (i < len) {
        size_t j, k, p, q, t, e, x;
        bool found = false;

        if (!key_char(s[i])) {
            i++;
            continue;
        }
        for (j = i; j < len && key_char(s[j]); j++)
            ;
        /* Every start inside this run reaches the same j: one try is enough. */
        for (k = j; k < len && space(s[k]); k++)
            ;
        if (k == j || k >= len || s[k] != '=') {
            i = j;
            continue;
        }
        p = k + 1;
        for (q = p; q < len && space(s[q]); q++)
            ;
        if (q == p) {
            i = j;
            continue;
        }
        /* `.*?[^\n]+` needs one byte other than '\n' after the \s+: the
         * first non-blank, or, at the very end, a blank the greedy \s+
         * gives back. */
        if (q < len) {
            t = q;
            found = true;
        } else {
            for (t = q - 1; t > p; t--)
                if (s[t] != '\n') {
                    found = true;
                    break;
                }
        }
        if (!found) {
            i = j;
            continue;
        }
        for (e = t; e < len && s[e] != '\n'; e++)
            ;
        out->key = s + i;
        out->key_len = j - i;
        /* The value runs from the first non-blank after '=' to the next
         * `\s+=\s+` within the match, or to its end. */
        out->value = s + (q < e ? q : e);
        out->value_len = 0;
        for (x = q; x < e;) {
            size_t y;

            if (!space(s[x])) {
                x++;
                continue;
            }
            for (y = x; y < e && space(s[y]); y++)
                ;
            if (y + 1 < e && s[y] == '=' && space(s[y + 1]))
                break;
            x = y;
        }
        if (q < e)
            out->value_len = (x < e ? x : e) - q;
        *pos = e;
        return ND_OK;
    }
    *pos = len;
    return ND_EINVAL;
}

/* The length of the first `max` characters of s[0..n): a byte that does
 * not start a valid sequence counts as one, as Go's []rune does. */
static size_t runes_prefix(const char *s, size_t n, size_t max)
{
    size_t i = 0, count = 0;

    while (i < n && count < max) {
        unsigned char c = (unsigned char)s[i];
        size_t want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1, k = 1;

        while (k < want && i + k < n && ((unsigned char)s[i + k] & 0xc0) == 0x80)
            k++;
        i += k == want ? want : 1;
        count++;
    }
    return i;
}

static bool key_is(const struct pair *p, const char *k)
{
    return p->key_len == strlen(k) && memcmp(p->key, k, p->key_len) == 0;
}

char *nd_sms_huawei_params(const char *text)
{
    struct pair found[ND_ARRAY_LEN(param_keys)];
    bool have[ND_ARRAY_LEN(param_keys)] = {false};
    size_t len = strlen(text), pos = 0, npairs = 0;
    struct pair pr;
    struct nd_buf b;
    struct nd_json j;

    while (next_pair(text, len, &pos, &pr) == ND_OK) {
        npairs++;
        if (key_is(&pr, "deployment") || key_is(&pr, "statfulset") || key_is(&pr, "daemonset")) {
            pr.key = "workload";
            pr.key_len = strlen("workload");
        }
        for (size_t k = 0; k < ND_ARRAY_LEN(param_keys); k++)
            if (key_is(&pr, param_keys[k])) {
                found[k] = pr;
                have[k] = true;
            }
    }
    nd_buf_init(&b, ND_REQUEST_BODY_MAX);
    nd_json_init(&j, &b, 0);
    nd_json_arr_open(&j);
    if (npairs == 0) {
        nd_json_strn(&j, text, runes_prefix(text, len, PARAM_RUNES));
    } else {
        for (size_t k = 0; k < ND_ARRAY_LEN(param_keys); k++) {
            const char *v = have[k] ? found[k].value : "";
            size_t n = have[k] ? found[k].value_len : 0;

            nd_json_strn(&j, v, runes_prefix(v, n, PARAM_RUNES));
        }
    }
    nd_json_arr_close(&j);
    /* Ten values of 20 characters always fit. */
    if (nd_json_finish(&j, NULL) != ND_OK)
        abort();
    {
        char *out = nd_buf_take(&b, NULL);
        nd_buf_deinit(&b);
        return out;
    }
}

static char *huawei_param(const char *text, char *err)
{
    ND_UNUSED(err);
    return nd_sms_huawei_params(text);
}

static void huawei_free(void *p)
{
    struct huawei *h = p;

    if (!h)
        return;
    nd_secret_free(h->app_key);
    nd_secret_free(h->app_secret);
    free(h->sender);
    free(h->signature);
    free(h->template_id);
    nd_sms_url_free(&h->url);
    free(h);
}

static int huawei_configure(struct nd_receiver_config *rc, void **p, struct nd_config_errors *errs)
{
    size_t before = errs->total;
    struct huawei *h = nd_xcalloc(1, sizeof(*h));
    struct nd_config_kv *kv;

    h->app_key = nd_sms_required(rc, NAME, "app_key", true, errs);
    h->app_secret = nd_sms_required(rc, NAME, "app_secret", true, errs);
    h->sender = nd_sms_required(rc, NAME, "sender", false, errs);
    h->template_id = nd_sms_required(rc, NAME, "template_id", false, errs);
    h->signature = nd_receiver_config_strdup(rc, "signature");
    nd_sms_header_value(rc, "app_key", h->app_key, errs);
    /* The key and nonce are quoted in the X-WSSE header. */
    if (h->app_key && strchr(h->app_key, '"'))
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "app_key"), rc->section,
                            "app_key", "invalid value: a double quote");
    kv = nd_receiver_config_get(rc, "wsse_digest");
    if (kv && strcmp(kv->value, "hex") == 0)
        h->hex_digest = true;
    else if (kv && strcmp(kv->value, "raw") != 0)
        nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key,
                            "invalid value \"%s\": want raw or hex", kv->value);
    nd_sms_url(rc, DEFAULT_URL, &h->url, errs);
    *p = h;
    return errs->total == before ? ND_OK : ND_EINVAL;
}

static int huawei_build(const void *p, const struct sms_msg *m, const struct sms_batch *batch,
                        const struct sms_attempt *at, struct nd_request *req, char *err)
{
    const struct huawei *h = p;
    char created[32];
    struct nd_buf to, wsse;
    int rc;

    nd_sms_utc(at->now_ns / ND_NS_PER_S, ND_SMS_ISO8601, created);
    nd_buf_init(&to, ND_REQUEST_BODY_MAX);
    for (size_t i = 0; i < batch->n; i++) {
        if (i > 0)
            nd_buf_addc(&to, ',');
        nd_buf_adds(&to, batch->numbers[i]);
    }
    {
        const struct nd_url_param form[] = {
            {"from", h->sender},
            {"to", nd_buf_cstr(&to)},
            {"templateId", h->template_id},
            {"templateParas", m->param},
            {"signature", h->signature ? h->signature : ""},
            {"statusCallback", ""},
        };
        rc = nd_url_query_build(&req->body, form, ND_ARRAY_LEN(form), ND_URL_SORT);
    }
    nd_buf_deinit(&to);
    if (rc != ND_OK)
        return nd_seterr(err, rc, "huawei: the request is over %u bytes", ND_REQUEST_BODY_MAX);
    nd_buf_init(&wsse, 4096 + 256);
    rc = nd_sms_huawei_wsse(h->app_key, h->app_secret, at->nonce, created, h->hex_digest, &wsse,
                            err);
    if (rc != ND_OK) {
        nd_buf_deinit(&wsse);
        return rc;
    }
    req->url = nd_xstrdup(h->url.url);
    req->method = "POST";
    req->headers = nd_sms_header(NULL, "Content-Type: application/x-www-form-urlencoded");
    req->headers = nd_sms_header(
        req->headers,
        "Authorization: WSSE realm=\"SDP\",profile=\"UsernameToken\",type=\"Appkey\"");
    req->headers = nd_sms_header(req->headers, "X-WSSE: %s", nd_buf_cstr(&wsse));
    req->headers = nd_sms_header(req->headers, "Expect:");
    nd_buf_deinit(&wsse);
    return ND_OK;
}

static void huawei_classify(const void *p, const struct nd_response *r, struct nd_verdict *v)
{
    struct nd_jsonr *doc = NULL;
    const char *code = NULL, *msg = NULL;
    char err[ND_ERRLEN];

    ND_UNUSED(p);
    nd_classify_http(r, v);
    if (r->curl_code != 0)
        return;
    if (nd_jsonr_parse(nd_buf_cstr(r->body), r->body->len, &doc, err) == ND_OK) {
        nd_jsonr_str(doc, "code", &code);
        nd_jsonr_str(doc, "description", &msg);
    }
    nd_sms_judge(r, v, code && strcmp(code, "000000") == 0, code, msg, false);
    nd_jsonr_free(doc);
}

const struct sms_provider nd_sms_huawei = {
    .name = NAME,
    .max_batch = 200,
    .cn_default = true,
    .keys = keys,
    .configure = huawei_configure,
    .free = huawei_free,
    .param = huawei_param,
    .build = huawei_build,
    .classify = huawei_classify,
};
