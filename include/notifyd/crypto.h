/* crypto.h - hashes, HMACs and encodings for signed receivers (DingTalk,
 * Feishu, Aliyun, Tencent Cloud, Huawei Cloud, AWS), on mbedtls' crypto
 * library (mbedcrypto, generic mbedtls_md interface).
 *
 * Digests are raw bytes in caller arrays of ND_SHA256_LEN / ND_SHA1_LEN;
 * hex is lowercase (AWS SigV4 and Tencent TC3 want lowercase). Base64 is
 * the standard alphabet with '=' padding (RFC 4648 section 4), appended to
 * a bounded nd_buf. The functions return ND_OK, or ND_ERR (detail in err,
 * ND_ERRLEN bytes, may be NULL) when mbedtls refuses, which for these
 * inputs means a build without SHA-1/SHA-256; base64 returns ND_ETOOBIG at
 * the buffer's limit and ND_EINVAL for bad base64 input.
 */
#ifndef NOTIFYD_CRYPTO_H
#define NOTIFYD_CRYPTO_H

#include <stddef.h>

#include "notifyd/buf.h"

#define ND_SHA256_LEN 32
#define ND_SHA1_LEN   20

int nd_crypto_sha256(const void *msg, size_t n, unsigned char out[ND_SHA256_LEN], char *err);
/* The digest as 64 lowercase hex digits and a NUL. */
int nd_crypto_sha256_hex(const void *msg, size_t n, char out[2 * ND_SHA256_LEN + 1], char *err);
int nd_crypto_hmac_sha256(const void *key, size_t klen, const void *msg, size_t n,
                          unsigned char out[ND_SHA256_LEN], char *err);
int nd_crypto_hmac_sha1(const void *key, size_t klen, const void *msg, size_t n,
                        unsigned char out[ND_SHA1_LEN], char *err);
/* A chain of HMAC-SHA256: k = HMAC(key, msgs[0]), then k = HMAC(k,
 * msgs[i]) for each next message (NUL-terminated strings), the last k in
 * out. This is the signing-key derivation of AWS Signature Version 4
 * ("AWS4" + secret, date, region, service, "aws4_request") and of Tencent
 * Cloud's TC3-HMAC-SHA256 ("TC3" + secret, date, service, "tc3_request").
 * n >= 1 (ND_EINVAL otherwise). The intermediate keys are wiped. */
int nd_crypto_hmac_sha256_chain(const void *key, size_t klen, const char *const *msgs, size_t n,
                                unsigned char out[ND_SHA256_LEN], char *err);

/* n bytes as 2n lowercase hex digits and a NUL into out (2n + 1 bytes). */
void nd_crypto_hex(const void *p, size_t n, char *out);

/* Appends the base64 of n bytes of p to b. */
int nd_crypto_base64(struct nd_buf *b, const void *p, size_t n);
/* Appends the bytes that the base64 text s (n bytes, padded, no line
 * breaks expected) stands for to b; ND_EINVAL with detail in err for a bad
 * character or length. */
int nd_crypto_base64_decode(struct nd_buf *b, const char *s, size_t n, char *err);

#endif
