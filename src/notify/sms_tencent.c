/* sms_tencent.c - the sms receiver's Tencent Cloud provider: SendSms of
 * the SMS API version 2019-07-11 (the one NM's SDK calls), signed with
 * TC3-HMAC-SHA256 (API 3.0, "Signature v3").
 *
 * One request per batch of at most 200 numbers:
 *   POST <api_url>/
 *   Content-Type: application/json
 *   Host, X-TC-Action: SendSms, X-TC-Version: 2019-07-11,
 *   X-TC-Timestamp: <Unix seconds>, X-TC-Region: <region>,
 *   Authorization: TC3-HMAC-SHA256 Credential=<id>/<date>/sms/tc3_request,
 *                  SignedHeaders=content-type;host, Signature=<hex>
 *   {"PhoneNumberSet":["+86..."],"TemplateID":"..","SmsSdkAppid":"..",
 *    "TemplateParamSet":["<message>"],"Sign":".."}
 * Numbers without a leading '+' get +86 (sms.c).
 *
 * Verdict, as Tencent documents it: Response.Error means the request
 * failed as a whole (Code and Message); otherwise each number has its
 * status in Response.SendStatusSet[], "Ok" when sent. The request is sent
 * when every number's Code is "Ok" (NM compared with "OK" and so reported
 * every success as a failure). Throttling and transient codes are retried:
 * RequestLimitExceeded*, LimitExceeded.* (sending frequency limits) and
 * InternalError*, plus HTTP 429 and 5xx. When some numbers failed, the
 * batch is retried only if none was sent and every failure is such a code
 * (a retry resends to the whole batch); otherwise it fails, the first
 * failed number's code and message in the reason.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/crypto.h"
#include "notifyd/json.h"
#include "notifyd/jsonr.h"
#include "notifyd/parse.h"
#include "notifyd/sms_sign.h"
#include "notifyd/util.h"
#include "sms_int.h"

#define DEFAULT_URL    "https://sms.tencentcloudapi.com"
#define DEFAULT_REGION "ap-guangzhou"
#define NAME           "tencent"
#define CONTENT_TYPE   "application/json"
#define ALGORITHM      "TC3-HMAC-SHA256"

static const char *const keys[] = {
    "secret_id", "secret_key", "region", "sms_sdk_app_id", "sign", "template_id", "api_url", NULL,
};

static const char *const retry_codes[] = {
    "RequestLimitExceeded",
    "LimitExceeded.",
    "InternalError",
    NULL,
};

struct tencent {
    char *secret_id;
    char *secret_key;
    char *region;
    char *app_id;
    char *sign; /* NULL: not sent */
    char *template_id;
    struct sms_url url;
};

/* "key:value\n" with the value lowercased and trimmed, as TC3 wants. */
static int canon_header(struct nd_buf *b, const char *key, const char *value)
{
    size_t n = strlen(value);
    int rc;

    while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
        n--;
    while (n > 0 && (*value == ' ' || *value == '\t')) {
        value++;
        n--;
    }
    rc = nd_buf_printf(b, "%s:", key);
    for (size_t i = 0; rc == ND_OK && i < n; i++)
        rc = nd_buf_addc(b, (char)tolower((unsigned char)value[i]));
    if (rc == ND_OK)
        rc = nd_buf_addc(b, '\n');
    return rc;
}

/* The UTC date of the timestamp, "2019-02-25". */
static void tc3_date(int64_t ts, char out[32])
{
    nd_sms_utc(ts, ND_SMS_DATE, out);
}

int nd_sms_tc3_string_to_sign(const struct nd_sms_tc3 *r, struct nd_buf *out, char *err)
{
    char payload_hex[2 * ND_SHA256_LEN + 1], canon_hex[2 * ND_SHA256_LEN + 1], date[32];
    struct nd_buf c;
    int rc;

    rc = nd_crypto_sha256_hex(r->payload, r->payload_len, payload_hex, err);
    if (rc != ND_OK)
        return rc;
    nd_buf_init(&c, 64 * 1024);
    rc = nd_buf_printf(&c, "%s\n%s\n%s\n", r->method, r->path, r->query);
    if (rc == ND_OK)
        rc = canon_header(&c, "content-type", r->content_type);
    if (rc == ND_OK)
        rc = canon_header(&c, "host", r->host);
    if (rc == ND_OK)
        rc = nd_buf_printf(&c, "\ncontent-type;host\n%s", payload_hex);
    if (rc != ND_OK) {
        nd_buf_deinit(&c);
        return nd_seterr(err, rc, "tencent: the canonical request is too long");
    }
    rc = nd_crypto_sha256_hex(c.data, c.len, canon_hex, err);
    nd_buf_deinit(&c);
    if (rc != ND_OK)
        return rc;
    tc3_date(r->timestamp, date);
    rc = nd_buf_printf(out, ALGORITHM "\n%" PRId64 "\n%s/%s/tc3_request\n%s", r->timestamp, date,
                       r->service, canon_hex);
    return rc == ND_OK ? ND_OK : nd_seterr(err, rc, "tencent: the string to sign is too long");
}

int nd_sms_tc3_authorization(const struct nd_sms_tc3 *r, struct nd_buf *out, char *err)
{
    unsigned char k[ND_SHA256_LEN], mac[ND_SHA256_LEN];
    char date[32], hex[2 * ND_SHA256_LEN + 1];
    struct nd_buf sts;
    char *key;
    int rc;

    nd_buf_init(&sts, 64 * 1024);
    rc = nd_sms_tc3_string_to_sign(r, &sts, err);
    if (rc != ND_OK) {
        nd_buf_deinit(&sts);
        return rc;
    }
    tc3_date(r->timestamp, date);
    key = nd_xasprintf("TC3%s", r->secret_key);
    rc = nd_crypto_hmac_sha256_chain(
        key, strlen(key), (const char *const[]){date, r->service, "tc3_request"}, 3, k, err);
    nd_secret_free(key);
    if (rc == ND_OK)
        rc = nd_crypto_hmac_sha256(k, sizeof(k), sts.data, sts.len, mac, err);
    memset(k, 0, sizeof(k));
    nd_buf_deinit(&sts);
    if (rc != ND_OK)
        return rc;
    nd_crypto_hex(mac, sizeof(mac), hex);
    rc = nd_buf_printf(out,
                       ALGORITHM
                       " Credential=%s/%s/%s/tc3_request, SignedHeaders=content-type;host, "
                       "Signature=%s",
                       r->secret_id, date, r->service, hex);
    return rc == ND_OK ? ND_OK : nd_seterr(err, rc, "tencent: the authorization does not fit");
}

static void tencent_free(void *p)
{
    struct tencent *t = p;

    if (!t)
        return;
    nd_secret_free(t->secret_id);
    nd_secret_free(t->secret_key);
    free(t->region);
    free(t->app_id);
    free(t->sign);
    free(t->template_id);
    nd_sms_url_free(&t->url);
    free(t);
}

static int tencent_configure(struct nd_receiver_config *rc, void **p, struct nd_config_errors *errs)
{
    size_t before = errs->total;
    struct tencent *t = nd_xcalloc(1, sizeof(*t));

    t->secret_id = nd_sms_required(rc, NAME, "secret_id", true, errs);
    t->secret_key = nd_sms_required(rc, NAME, "secret_key", true, errs);
    t->app_id = nd_sms_required(rc, NAME, "sms_sdk_app_id", false, errs);
    t->template_id = nd_sms_required(rc, NAME, "template_id", false, errs);
    t->sign = nd_receiver_config_strdup(rc, "sign");
    t->region = nd_receiver_config_strdup(rc, "region");
    if (!t->region)
        t->region = nd_xstrdup(DEFAULT_REGION);
    nd_sms_header_value(rc, "region", t->region, errs);
    nd_sms_header_value(rc, "secret_id", t->secret_id, errs);
    nd_sms_url(rc, DEFAULT_URL, &t->url, errs);
    *p = t;
    return errs->total == before ? ND_OK : ND_EINVAL;
}

static int tencent_build(const void *p, const struct sms_msg *m, const struct sms_batch *batch,
                         const struct sms_attempt *at, struct nd_request *req, char *err)
{
    const struct tencent *t = p;
    int64_t ts = at->now_ns / ND_NS_PER_S;
    struct nd_sms_tc3 sig;
    struct nd_buf auth;
    struct nd_json j;
    int rc;

    nd_json_init(&j, &req->body, ND_JSON_HTML);
    nd_json_obj_open(&j);
    nd_json_key(&j, "PhoneNumberSet");
    nd_json_arr_open(&j);
    for (size_t i = 0; i < batch->n; i++)
        nd_json_str(&j, batch->numbers[i]);
    nd_json_arr_close(&j);
    nd_json_kstr(&j, "TemplateID", t->template_id);
    nd_json_kstr(&j, "SmsSdkAppid", t->app_id);
    nd_json_key(&j, "TemplateParamSet");
    nd_json_arr_open(&j);
    nd_json_str(&j, m->text);
    nd_json_arr_close(&j);
    if (t->sign)
        nd_json_kstr(&j, "Sign", t->sign);
    nd_json_obj_close(&j);
    rc = nd_json_finish(&j, err);
    if (rc != ND_OK)
        return rc;

    memset(&sig, 0, sizeof(sig));
    sig.secret_id = t->secret_id;
    sig.secret_key = t->secret_key;
    sig.service = "sms";
    sig.method = "POST";
    sig.path = t->url.path;
    sig.query = "";
    sig.host = t->url.host;
    sig.content_type = CONTENT_TYPE;
    sig.payload = req->body.data;
    sig.payload_len = req->body.len;
    sig.timestamp = ts;
    nd_buf_init(&auth, 4096);
    rc = nd_sms_tc3_authorization(&sig, &auth, err);
    if (rc != ND_OK) {
        nd_buf_deinit(&auth);
        return rc;
    }
    req->url = nd_xstrdup(t->url.url);
    req->method = "POST";
    req->headers = nd_sms_header(NULL, "Content-Type: " CONTENT_TYPE);
    req->headers = nd_sms_header(req->headers, "Host: %s", t->url.host);
    req->headers = nd_sms_header(req->headers, "X-TC-Action: SendSms");
    req->headers = nd_sms_header(req->headers, "X-TC-Version: 2019-07-11");
    req->headers = nd_sms_header(req->headers, "X-TC-Timestamp: %" PRId64, ts);
    req->headers = nd_sms_header(req->headers, "X-TC-Region: %s", t->region);
    req->headers = nd_sms_header(req->headers, "Authorization: %s", nd_buf_cstr(&auth));
    req->headers = nd_sms_header(req->headers, "Expect:");
    nd_buf_deinit(&auth);
    return ND_OK;
}

/* The numbers' statuses: delivered when all are "Ok". */
static void judge_statuses(const struct nd_response *r, struct nd_verdict *v,
                           const struct nd_jsonr *doc)
{
    size_t n = 0, failed = 0, ok = 0;
    bool all_retry = true;
    const char *code = NULL, *msg = NULL, *phone = NULL;
    char path[64], text[200];

    if (nd_jsonr_len(doc, "Response.SendStatusSet", &n) != ND_OK || n == 0) {
        nd_sms_judge(r, v, false, NULL, NULL, false);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *c = NULL;

        snprintf(path, sizeof(path), "Response.SendStatusSet[%zu].Code", i);
        nd_jsonr_str(doc, path, &c);
        if (c && strcmp(c, "Ok") == 0) {
            ok++;
            continue;
        }
        failed++;
        if (!nd_sms_prefix(c, retry_codes))
            all_retry = false;
        if (!code) {
            code = c ? c : "(none)";
            snprintf(path, sizeof(path), "Response.SendStatusSet[%zu].Message", i);
            nd_jsonr_str(doc, path, &msg);
            snprintf(path, sizeof(path), "Response.SendStatusSet[%zu].PhoneNumber", i);
            nd_jsonr_str(doc, path, &phone);
        }
    }
    if (failed == 0) {
        nd_sms_judge(r, v, true, NULL, NULL, false);
        return;
    }
    snprintf(text, sizeof(text), "%s (%s; %zu of %zu numbers failed)", msg ? msg : "",
             phone ? phone : "?", failed, n);
    nd_sms_judge(r, v, false, code, text, all_retry && ok == 0);
}

static void tencent_classify(const void *p, const struct nd_response *r, struct nd_verdict *v)
{
    struct nd_jsonr *doc = NULL;
    const char *code = NULL, *msg = NULL;
    char err[ND_ERRLEN];

    ND_UNUSED(p);
    nd_classify_http(r, v);
    if (r->curl_code != 0)
        return;
    if (nd_jsonr_parse(nd_buf_cstr(r->body), r->body->len, &doc, err) != ND_OK) {
        nd_sms_judge(r, v, false, NULL, NULL, false);
        return;
    }
    if (nd_jsonr_str(doc, "Response.Error.Code", &code) == ND_OK) {
        nd_jsonr_str(doc, "Response.Error.Message", &msg);
        nd_sms_judge(r, v, false, code, msg, nd_sms_prefix(code, retry_codes));
    } else {
        judge_statuses(r, v, doc);
    }
    nd_jsonr_free(doc);
}

const struct sms_provider nd_sms_tencent = {
    .name = NAME,
    .max_batch = 200,
    .cn_default = true,
    .keys = keys,
    .configure = tencent_configure,
    .free = tencent_free,
    .build = tencent_build,
    .classify = tencent_classify,
};
