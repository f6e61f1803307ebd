/* sms_aliyun.c - the sms receiver's Aliyun (Alibaba Cloud) provider:
 * dysmsapi's SendSms, version 2017-05-25, in the RPC style with the
 * version 1.0 HMAC-SHA1 signature.
 *
 * One request per batch of at most 1000 numbers:
 *   POST <api_url>/?AccessKeyId=..&Action=SendSms&Format=JSON
 *        &SignatureMethod=HMAC-SHA1&SignatureNonce=..&SignatureVersion=1.0
 *        &Timestamp=2006-01-02T15:04:05Z&Version=2017-05-25&Signature=..
 *   Content-Type: application/x-www-form-urlencoded
 *   PhoneNumbers=n1,n2&SignName=..&TemplateCode=..&TemplateParam={"code":"<message>"}
 * The signature covers every parameter, query and body alike
 * (nd_sms_aliyun_sign). TemplateParam is real JSON, escaped; NM pasted the
 * message between quotes, so a quote or a newline in it broke the request.
 *
 * Verdict: Code "OK" is sent. Throttling and transient codes are retried:
 * isv.BUSINESS_LIMIT_CONTROL (the per-number or per-account send rate),
 * Throttling* (the API's own rate), ServiceUnavailable, isp.SYSTEM_ERROR
 * (Aliyun's answer to retry), plus HTTP 429 and 5xx; any other Code fails
 * at once with the code and Message in the reason.
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

#define DEFAULT_URL "https://dysmsapi.aliyuncs.com"
#define NAME        "aliyun"

static const char *const keys[] = {
    "access_key_id", "access_key_secret", "sign_name", "template_code", "api_url", NULL,
};

static const char *const retry_codes[] = {
    "isv.BUSINESS_LIMIT_CONTROL", "Throttling", "ServiceUnavailable", "isp.SYSTEM_ERROR", NULL,
};

struct aliyun {
    char *key_id;
    char *secret;
    char *sign_name;
    char *template_code;
    struct sms_url url;
};

int nd_sms_aliyun_string_to_sign(const char *method, const struct nd_url_param *p, size_t n,
                                 struct nd_buf *out, char *err)
{
    struct nd_buf q;
    int rc;

    nd_buf_init(&q, ND_REQUEST_BODY_MAX);
    rc = nd_url_query_build(&q, p, n, ND_URL_SORT | ND_URL_RFC3986);
    if (rc == ND_OK)
        rc = nd_buf_printf(out, "%s&%%2F&", method);
    if (rc == ND_OK)
        rc = nd_url_encode(out, nd_buf_cstr(&q), q.len);
    nd_buf_deinit(&q);
    return rc == ND_OK ? ND_OK : nd_seterr(err, rc, "aliyun: the string to sign is too long");
}

int nd_sms_aliyun_sign(const char *method, const char *secret, const struct nd_url_param *p,
                       size_t n, struct nd_buf *out, char *err)
{
    unsigned char mac[ND_SHA1_LEN];
    struct nd_buf sts;
    char *key;
    int rc;

    nd_buf_init(&sts, 2 * ND_REQUEST_BODY_MAX);
    rc = nd_sms_aliyun_string_to_sign(method, p, n, &sts, err);
    if (rc != ND_OK) {
        nd_buf_deinit(&sts);
        return rc;
    }
    /* The HMAC key is the AccessKey secret followed by '&'. */
    key = nd_xasprintf("%s&", secret);
    rc = nd_crypto_hmac_sha1(key, strlen(key), sts.data, sts.len, mac, err);
    nd_secret_free(key);
    nd_buf_deinit(&sts);
    if (rc == ND_OK && nd_crypto_base64(out, mac, sizeof(mac)) != ND_OK)
        rc = nd_seterr(err, ND_ETOOBIG, "aliyun: the signature does not fit");
    memset(mac, 0, sizeof(mac));
    return rc;
}

static void aliyun_free(void *p)
{
    struct aliyun *a = p;

    if (!a)
        return;
    nd_secret_free(a->key_id);
    nd_secret_free(a->secret);
    free(a->sign_name);
    free(a->template_code);
    nd_sms_url_free(&a->url);
    free(a);
}

static int aliyun_configure(struct nd_receiver_config *rc, void **p, struct nd_config_errors *errs)
{
    size_t before = errs->total;
    struct aliyun *a = nd_xcalloc(1, sizeof(*a));

    a->key_id = nd_sms_required(rc, NAME, "access_key_id", true, errs);
    a->secret = nd_sms_required(rc, NAME, "access_key_secret", true, errs);
    a->sign_name = nd_sms_required(rc, NAME, "sign_name", false, errs);
    a->template_code = nd_sms_required(rc, NAME, "template_code", false, errs);
    nd_sms_url(rc, DEFAULT_URL, &a->url, errs);
    *p = a;
    return errs->total == before ? ND_OK : ND_EINVAL;
}

/* {"code":"<message>"}: the SMS template's ${code} variable. */
static char *aliyun_param(const char *text, char *err)
{
    struct nd_buf b;
    struct nd_json j;

    nd_buf_init(&b, ND_REQUEST_BODY_MAX / 2);
    nd_json_init(&j, &b, 0);
    nd_json_obj_open(&j);
    nd_json_kstr(&j, "code", text);
    nd_json_obj_close(&j);
    if (nd_json_finish(&j, err) != ND_OK) {
        nd_buf_deinit(&b);
        return NULL;
    }
    return nd_buf_take(&b, NULL);
}

static void join_numbers(struct nd_buf *b, const struct sms_batch *batch)
{
    for (size_t i = 0; i < batch->n; i++) {
        if (i > 0)
            nd_buf_addc(b, ',');
        nd_buf_adds(b, batch->numbers[i]);
    }
}

static int aliyun_build(const void *p, const struct sms_msg *m, const struct sms_batch *batch,
                        const struct sms_attempt *at, struct nd_request *req, char *err)
{
    const struct aliyun *a = p;
    char ts[32];
    struct nd_buf numbers, sig, url;
    int rc;

    nd_sms_utc(at->now_ns / ND_NS_PER_S, ND_SMS_ISO8601, ts);
    nd_buf_init(&numbers, ND_REQUEST_BODY_MAX);
    join_numbers(&numbers, batch);
    {
        /* The first 8 go in the query, the last 4 in the form body. */
        const struct nd_url_param params[] = {
            {"AccessKeyId", a->key_id},
            {"Action", "SendSms"},
            {"Format", "JSON"},
            {"SignatureMethod", "HMAC-SHA1"},
            {"SignatureNonce", at->nonce},
            {"SignatureVersion", "1.0"},
            {"Timestamp", ts},
            {"Version", "2017-05-25"},
            {"PhoneNumbers", nd_buf_cstr(&numbers)},
            {"SignName", a->sign_name},
            {"TemplateCode", a->template_code},
            {"TemplateParam", m->param},
        };

        nd_buf_init(&sig, 64);
        nd_buf_init(&url, ND_REQUEST_BODY_MAX);
        rc = nd_sms_aliyun_sign("POST", a->secret, params, ND_ARRAY_LEN(params), &sig, err);
        if (rc == ND_OK) {
            rc = nd_buf_printf(&url, "%s?", a->url.url);
            if (rc == ND_OK)
                rc = nd_url_query_build(&url, params, 8, ND_URL_RFC3986);
            if (rc == ND_OK)
                rc = nd_buf_adds(&url, "&Signature=");
            if (rc == ND_OK)
                rc = nd_url_encode(&url, sig.data, sig.len);
            if (rc == ND_OK)
                rc = nd_url_query_build(&req->body, params + 8, 4, ND_URL_RFC3986);
            if (rc != ND_OK)
                nd_seterr(err, rc, "aliyun: the request is over %u bytes", ND_REQUEST_BODY_MAX);
        }
    }
    nd_buf_deinit(&numbers);
    nd_buf_deinit(&sig);
    if (rc != ND_OK) {
        nd_buf_deinit(&url);
        return rc;
    }
    req->url = nd_buf_take(&url, NULL);
    nd_buf_deinit(&url);
    req->method = "POST";
    req->headers = nd_sms_header(NULL, "Content-Type: application/x-www-form-urlencoded");
    req->headers = nd_sms_header(req->headers, "Accept: application/json");
    req->headers = nd_sms_header(req->headers, "Expect:");
    return ND_OK;
}

static void aliyun_classify(const void *p, const struct nd_response *r, struct nd_verdict *v)
{
    struct nd_jsonr *doc = NULL;
    const char *code = NULL, *msg = NULL;
    char err[ND_ERRLEN];

    ND_UNUSED(p);
    nd_classify_http(r, v);
    if (r->curl_code != 0)
        return;
    if (nd_jsonr_parse(nd_buf_cstr(r->body), r->body->len, &doc, err) == ND_OK) {
        nd_jsonr_str(doc, "Code", &code);
        nd_jsonr_str(doc, "Message", &msg);
    }
    nd_sms_judge(r, v, code && strcmp(code, "OK") == 0, code, msg,
                 nd_sms_prefix(code, retry_codes));
    nd_jsonr_free(doc);
}

const struct sms_provider nd_sms_aliyun = {
    .name = NAME,
    .max_batch = 1000,
    .keys = keys,
    .configure = aliyun_configure,
    .free = aliyun_free,
    .param = aliyun_param,
    .build = aliyun_build,
    .classify = aliyun_classify,
};
