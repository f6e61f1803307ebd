/* sms_sign.h - the request signatures of the SMS providers, exposed for
 * their tests. The receiver type itself is nd_receiver_type_sms
 * (receiver.h); docs/receivers.md describes it.
 *
 *   Aliyun      RPC signature, version 1.0 (HMAC-SHA1):
 *               StringToSign = METHOD "&" percentEncode("/") "&"
 *                              percentEncode(sorted, encoded query)
 *               Signature = Base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign))
 *               (Alibaba Cloud, "Request syntax and signature method V2 for
 *               RPC APIs"; percentEncode is nd_url_encode).
 *   Tencent     TC3-HMAC-SHA256 (Tencent Cloud API 3.0, "Signature v3"):
 *               canonical request, string to sign, key chain "TC3" + SecretKey,
 *               date, service, "tc3_request"; signed headers content-type;host.
 *   Huawei      WSSE UsernameToken (Message & SMS, "X-WSSE authentication"):
 *               PasswordDigest = Base64(SHA256(Nonce + Created + Password)).
 *   AWS         Signature Version 4 (AWS4-HMAC-SHA256), signed headers
 *               content-type (when sent), host, x-amz-date and, with a
 *               session token, x-amz-security-token.
 *
 * Every function appends to a bounded nd_buf and returns ND_OK, ND_ETOOBIG
 * at the buffer's limit, or an error from crypto.h, with detail in err
 * (ND_ERRLEN bytes, may be NULL). Secrets only pass through HMAC keys and
 * wiped scratch memory; nothing here logs.
 */
#ifndef NOTIFYD_SMS_SIGN_H
#define NOTIFYD_SMS_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "notifyd/buf.h"
#include "notifyd/url.h"

/* Aliyun: the StringToSign of the n parameters (every parameter of the
 * request but Signature: query and form body alike), for `method` ("GET"
 * or "POST"). */
int nd_sms_aliyun_string_to_sign(const char *method, const struct nd_url_param *p, size_t n,
                                 struct nd_buf *out, char *err);
/* Aliyun: the Signature value (base64, not URL-encoded). */
int nd_sms_aliyun_sign(const char *method, const char *secret, const struct nd_url_param *p,
                       size_t n, struct nd_buf *out, char *err);

/* Tencent Cloud TC3-HMAC-SHA256: one request, as it is sent. */
struct nd_sms_tc3 {
    const char *secret_id, *secret_key;
    const char *service;      /* the product: "sms", "cvm"... */
    const char *method;       /* "POST" */
    const char *path;         /* canonical URI, "/" */
    const char *query;        /* canonical query string, "" for a POST */
    const char *host;         /* the Host header's value */
    const char *content_type; /* the Content-Type header's value */
    const void *payload;
    size_t payload_len;
    int64_t timestamp; /* Unix seconds (X-TC-Timestamp); its UTC date is the scope's */
};
int nd_sms_tc3_string_to_sign(const struct nd_sms_tc3 *r, struct nd_buf *out, char *err);
/* The Authorization header's value: "TC3-HMAC-SHA256 Credential=ID/DATE/
 * SERVICE/tc3_request, SignedHeaders=content-type;host, Signature=HEX". */
int nd_sms_tc3_authorization(const struct nd_sms_tc3 *r, struct nd_buf *out, char *err);

/* Huawei WSSE: PasswordDigest = Base64(SHA256(nonce + created + secret))
 * as Huawei documents it; with `hex`, Base64 of the digest's lowercase hex
 * text instead (what Notification Manager and some of Huawei's sample
 * programs send). */
int nd_sms_huawei_digest(const char *nonce, const char *created, const char *secret, bool hex,
                         struct nd_buf *out, char *err);
/* The X-WSSE header's value: UsernameToken Username="KEY",
 * PasswordDigest="DIGEST",Nonce="NONCE",Created="CREATED" (no blanks). */
int nd_sms_huawei_wsse(const char *app_key, const char *app_secret, const char *nonce,
                       const char *created, bool hex, struct nd_buf *out, char *err);

/* AWS Signature Version 4: one request, as it is sent. */
struct nd_sms_sigv4 {
    const char *access_key_id, *secret_key;
    const char *session_token; /* NULL or "" = none */
    const char *region, *service;
    const char *method;       /* "POST" */
    const char *path;         /* canonical URI, "/" */
    const char *query;        /* canonical query string (sorted, encoded), "" */
    const char *host;         /* the Host header's value */
    const char *content_type; /* the Content-Type header's value; NULL = none sent */
    const char *amz_date;     /* X-Amz-Date, "20150830T123600Z" (UTC) */
    const void *payload;
    size_t payload_len;
};
int nd_sms_sigv4_string_to_sign(const struct nd_sms_sigv4 *r, struct nd_buf *out, char *err);
/* The Authorization header's value: "AWS4-HMAC-SHA256 Credential=ID/DATE/
 * REGION/SERVICE/aws4_request, SignedHeaders=..., Signature=HEX". */
int nd_sms_sigv4_authorization(const struct nd_sms_sigv4 *r, struct nd_buf *out, char *err);

#endif
