/* sms_aws.c - the sms receiver's AWS provider: SNS Publish to a phone
 * number (query protocol, version 2010-03-31), signed with AWS Signature
 * Version 4 (service "sns").
 *
 * SNS takes one E.164 number per Publish, so every number is its own
 * request (a batch of one; NM joined the numbers with commas, which only
 * worked for one):
 *   POST <api_url>/   (default https://sns.<region>.amazonaws.com/)
 *   Content-Type: application/x-www-form-urlencoded; charset=utf-8
 *   Host, X-Amz-Date: 20060102T150405Z, [X-Amz-Security-Token],
 *   Authorization: AWS4-HMAC-SHA256 Credential=<id>/<date>/<region>/sns/
 *                  aws4_request, SignedHeaders=content-type;host;x-amz-date
 *                  [;x-amz-security-token], Signature=<hex>
 *   Action=Publish&Message=<message>&PhoneNumber=<number>&Version=2010-03-31
 *
 * Verdict: a 2xx without an <Error> is sent. Throttling and transient
 * error codes are retried (Throttling, ThrottlingException, Throttled,
 * ThrottledException, KMSThrottling, InternalError, InternalFailure,
 * ServiceUnavailable), as are HTTP 429 and 5xx; any other error fails at
 * once with its Code and Message in the reason.
 */
#include <stdlib.h>
#include <string.h>

#include "notifyd/crypto.h"
#include "notifyd/parse.h"
#include "notifyd/sms_sign.h"
#include "notifyd/url.h"
#include "notifyd/util.h"
#include "sms_int.h"

#define NAME         "aws"
#define ALGORITHM    "AWS4-HMAC-SHA256"
#define CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"
#define REGION_MAX   64

static const char *const keys[] = {
    "access_key_id", "secret_access_key", "session_token", "region", "api_url", NULL,
};

static const char *const retry_codes[] = {
    "Throttling",         "ThrottlingException", "Throttled",
    "ThrottledException", "KMSThrottling",       "InternalError",
    "InternalFailure",    "ServiceUnavailable",  NULL,
};

struct aws {
    char *key_id;
    char *secret;
    char *token; /* NULL: none */
    char *region;
    struct sms_url url;
};

/* "key:value\n" with the value trimmed and inner runs of blanks as one
 * space, as SigV4's canonical headers want. */
static int canon_header(struct nd_buf *b, const char *key, const char *value)
{
    bool blank = false;
    int rc = nd_buf_printf(b, "%s:", key);

    while (*value == ' ' || *value == '\t')
        value++;
    for (; rc == ND_OK && *value; value++) {
        if (*value == ' ' || *value == '\t') {
            blank = true;
            continue;
        }
        if (blank)
            rc = nd_buf_addc(b, ' ');
        blank = false;
        if (rc == ND_OK)
            rc = nd_buf_addc(b, *value);
    }
    if (rc == ND_OK)
        rc = nd_buf_addc(b, '\n');
    return rc;
}

static bool has_token(const struct nd_sms_sigv4 *r)
{
    return r->session_token && r->session_token[0];
}

static const char *signed_headers(const struct nd_sms_sigv4 *r)
{
    if (r->content_type)
        return has_token(r) ? "content-type;host;x-amz-date;x-amz-security-token"
                            : "content-type;host;x-amz-date";
    return has_token(r) ? "host;x-amz-date;x-amz-security-token" : "host;x-amz-date";
}

int nd_sms_sigv4_string_to_sign(const struct nd_sms_sigv4 *r, struct nd_buf *out, char *err)
{
    char payload_hex[2 * ND_SHA256_LEN + 1], canon_hex[2 * ND_SHA256_LEN + 1];
    struct nd_buf c;
    int rc;

    if (strlen(r->amz_date) < 8)
        return nd_seterr(err, ND_EINVAL, "aws: bad X-Amz-Date \"%s\"", r->amz_date);
    rc = nd_crypto_sha256_hex(r->payload, r->payload_len, payload_hex, err);
    if (rc != ND_OK)
        return rc;
    nd_buf_init(&c, 64 * 1024);
    rc = nd_buf_printf(&c, "%s\n%s\n%s\n", r->method, r->path, r->query);
    if (rc == ND_OK && r->content_type)
        rc = canon_header(&c, "content-type", r->content_type);
    if (rc == ND_OK)
        rc = canon_header(&c, "host", r->host);
    if (rc == ND_OK)
        rc = canon_header(&c, "x-amz-date", r->amz_date);
    if (rc == ND_OK && has_token(r))
        rc = canon_header(&c, "x-amz-security-token", r->session_token);
    if (rc == ND_OK)
        rc = nd_buf_printf(&c, "\n%s\n%s", signed_headers(r), payload_hex);
    if (rc != ND_OK) {
        nd_buf_deinit(&c);
        return nd_seterr(err, rc, "aws: the canonical request is too long");
    }
    rc = nd_crypto_sha256_hex(c.data, c.len, canon_hex, err);
    nd_buf_deinit(&c);
    if (rc != ND_OK)
        return rc;
    rc = nd_buf_printf(out, ALGORITHM "\n%s\n%.8s/%s/%s/aws4_request\n%s", r->amz_date, r->amz_date,
                       r->region, r->service, canon_hex);
    return rc == ND_OK ? ND_OK : nd_seterr(err, rc, "aws: the string to sign is too long");
}

int nd_sms_sigv4_authorization(const struct nd_sms_sigv4 *r, struct nd_buf *out, char *err)
{
    unsigned char k[ND_SHA256_LEN], mac[ND_SHA256_LEN];
    char date[9], hex[2 * ND_SHA256_LEN + 1];
    struct nd_buf sts;
    char *key;
    int rc;

    nd_buf_init(&sts, 64 * 1024);
    rc = nd_sms_sigv4_string_to_sign(r, &sts, err);
    if (rc != ND_OK) {
        nd_buf_deinit(&sts);
        return rc;
    }
    memcpy(date, r->amz_date, 8);
    date[8] = '\0';
    key = nd_xasprintf("AWS4%s", r->secret_key);
    rc = nd_crypto_hmac_sha256_chain(
        key, strlen(key), (const char *const[]){date, r->region, r->service, "aws4_request"}, 4, k,
        err);
    nd_secret_free(key);
    if (rc == ND_OK)
        rc = nd_crypto_hmac_sha256(k, sizeof(k), sts.data, sts.len, mac, err);
    memset(k, 0, sizeof(k));
    nd_buf_deinit(&sts);
    if (rc != ND_OK)
        return rc;
    nd_crypto_hex(mac, sizeof(mac), hex);
    rc = nd_buf_printf(out,
                       ALGORITHM " Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, "
                                 "Signature=%s",
                       r->access_key_id, date, r->region, r->service, signed_headers(r), hex);
    return rc == ND_OK ? ND_OK : nd_seterr(err, rc, "aws: the authorization does not fit");
}

static void aws_free(void *p)
{
    struct aws *a = p;

    if (!a)
        return;
    nd_secret_free(a->key_id);
    nd_secret_free(a->secret);
    nd_secret_free(a->token);
    free(a->region);
    nd_sms_url_free(&a->url);
    free(a);
}

/* A region name such as eu-west-1: lowercase letters, digits and '-'. */
static bool region_ok(const char *r)
{
    if (!r[0] || strlen(r) > REGION_MAX)
        return false;
    for (; *r; r++)
        if (!((*r >= 'a' && *r <= 'z') || (*r >= '0' && *r <= '9') || *r == '-'))
            return false;
    return true;
}

static int aws_configure(struct nd_receiver_config *rc, void **p, struct nd_config_errors *errs)
{
    size_t before = errs->total;
    struct aws *a = nd_xcalloc(1, sizeof(*a));

    a->key_id = nd_sms_required(rc, NAME, "access_key_id", true, errs);
    a->secret = nd_sms_required(rc, NAME, "secret_access_key", true, errs);
    a->token = nd_receiver_config_secret(rc, "session_token", false, errs);
    a->region = nd_sms_required(rc, NAME, "region", false, errs);
    nd_sms_header_value(rc, "access_key_id", a->key_id, errs);
    nd_sms_header_value(rc, "session_token", a->token, errs);
    if (a->region && !region_ok(a->region)) {
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "region"), rc->section,
                            "region", "invalid value \"%s\": want an AWS region such as us-east-1",
                            a->region);
    } else if (a->region) {
        char *def = nd_xasprintf("https://sns.%s.amazonaws.com", a->region);
        nd_sms_url(rc, def, &a->url, errs);
        free(def);
    } else {
        nd_receiver_config_get(rc, "api_url"); /* judged once region is right */
    }
    *p = a;
    return errs->total == before ? ND_OK : ND_EINVAL;
}

static int aws_build(const void *p, const struct sms_msg *m, const struct sms_batch *batch,
                     const struct sms_attempt *at, struct nd_request *req, char *err)
{
    const struct aws *a = p;
    char amz_date[32];
    struct nd_sms_sigv4 sig;
    struct nd_buf auth;
    int rc;
    const struct nd_url_param form[] = {
        {"Action", "Publish"},
        {"Message", m->text},
        {"PhoneNumber", batch->numbers[0]},
        {"Version", "2010-03-31"},
    };

    rc = nd_url_query_build(&req->body, form, ND_ARRAY_LEN(form), ND_URL_SORT | ND_URL_RFC3986);
    if (rc != ND_OK)
        return nd_seterr(err, rc, "aws: the request is over %u bytes", ND_REQUEST_BODY_MAX);
    nd_sms_utc(at->now_ns / ND_NS_PER_S, ND_SMS_AMZ, amz_date);
    memset(&sig, 0, sizeof(sig));
    sig.access_key_id = a->key_id;
    sig.secret_key = a->secret;
    sig.session_token = a->token;
    sig.region = a->region;
    sig.service = "sns";
    sig.method = "POST";
    sig.path = a->url.path;
    sig.query = "";
    sig.host = a->url.host;
    sig.content_type = CONTENT_TYPE;
    sig.amz_date = amz_date;
    sig.payload = req->body.data;
    sig.payload_len = req->body.len;
    nd_buf_init(&auth, 8192);
    rc = nd_sms_sigv4_authorization(&sig, &auth, err);
    if (rc != ND_OK) {
        nd_buf_deinit(&auth);
        return rc;
    }
    req->url = nd_xstrdup(a->url.url);
    req->method = "POST";
    req->headers = nd_sms_header(NULL, "Content-Type: " CONTENT_TYPE);
    req->headers = nd_sms_header(req->headers, "Host: %s", a->url.host);
    req->headers = nd_sms_header(req->headers, "X-Amz-Date: %s", amz_date);
    if (a->token)
        req->headers = nd_sms_header(req->headers, "X-Amz-Security-Token: %s", a->token);
    req->headers = nd_sms_header(req->headers, "Authorization: %s", nd_buf_cstr(&auth));
    req->headers = nd_sms_header(req->headers, "Expect:");
    nd_buf_deinit(&auth);
    return ND_OK;
}

static bool code_in(const char *c, const char *const *list)
{
    for (size_t i = 0; c && list[i]; i++)
        if (strcmp(c, list[i]) == 0)
            return true;
    return false;
}

/* The text of the first <name>...</name> in the body, with XML's five
 * entities decoded, into out; NULL when absent. */
static const char *xml_text(const struct nd_response *r, const char *name, char *out, size_t outlen)
{
    static const struct {
        const char *ent, *ch;
    } ents[] = {{"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}, {"&quot;", "\""}, {"&apos;", "'"}};
    const char *body = nd_buf_cstr(r->body), *start, *end;
    char open[40], close[40];
    size_t n = 0;

    snprintf(open, sizeof(open), "<%s>", name);
    snprintf(close, sizeof(close), "</%s>", name);
    start = strstr(body, open);
    if (!start)
        return NULL;
    start += strlen(open);
    end = strstr(start, close);
    if (!end)
        return NULL;
    while (start < end && n + 1 < outlen) {
        size_t e;

        for (e = 0; e < ND_ARRAY_LEN(ents); e++)
            if (strncmp(start, ents[e].ent, strlen(ents[e].ent)) == 0)
                break;
        if (e < ND_ARRAY_LEN(ents)) {
            out[n++] = ents[e].ch[0];
            start += strlen(ents[e].ent);
        } else {
            out[n++] = *start++;
        }
    }
    out[n] = '\0';
    return out;
}

static void aws_classify(const void *p, const struct nd_response *r, struct nd_verdict *v)
{
    char code[64], msg[200];
    const char *c = NULL, *m = NULL;
    bool error;

    ND_UNUSED(p);
    nd_classify_http(r, v);
    if (r->curl_code != 0)
        return;
    error = strstr(nd_buf_cstr(r->body), "<Error>") != NULL;
    if (error || r->status < 200 || r->status > 299) {
        c = xml_text(r, "Code", code, sizeof(code));
        m = xml_text(r, "Message", msg, sizeof(msg));
    }
    nd_sms_judge(r, v, !error, c, m, code_in(c, retry_codes));
}

const struct sms_provider nd_sms_aws = {
    .name = NAME,
    .max_batch = 1,
    .keys = keys,
    .configure = aws_configure,
    .free = aws_free,
    .build = aws_build,
    .classify = aws_classify,
};
