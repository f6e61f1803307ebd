/* crypto.c - SHA-256, HMAC, hex and base64 on mbedcrypto (crypto.h). */
#include "notifyd/crypto.h"

#include <stdint.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/md.h>

#include "notifyd/util.h"

/* One digest or HMAC (key != NULL) through the generic mbedtls_md
 * interface, which has the same signature in mbedtls 2.28 and 3.x. */
static int md(mbedtls_md_type_t type, const char *name, const void *key, size_t klen,
              const void *msg, size_t n, unsigned char *out, char *err)
{
    const mbedtls_md_info_t *info = mbedtls_md_info_from_type(type);
    int rc;

    if (!info)
        return nd_seterr(err, ND_ERR, "%s is not built into mbedtls", name);
    if (key)
        rc = mbedtls_md_hmac(info, key, klen, msg, n, out);
    else
        rc = mbedtls_md(info, msg, n, out);
    if (rc != 0)
        return nd_seterr(err, ND_ERR, "%s failed: mbedtls error -0x%04x", name, (unsigned)-rc);
    return ND_OK;
}

int nd_crypto_sha256(const void *msg, size_t n, unsigned char out[ND_SHA256_LEN], char *err)
{
    return md(MBEDTLS_MD_SHA256, "SHA-256", NULL, 0, msg, n, out, err);
}

int nd_crypto_sha256_hex(const void *msg, size_t n, char out[2 * ND_SHA256_LEN + 1], char *err)
{
    unsigned char d[ND_SHA256_LEN];
    int rc = nd_crypto_sha256(msg, n, d, err);

    if (rc == ND_OK)
        nd_crypto_hex(d, sizeof d, out);
    return rc;
}

int nd_crypto_hmac_sha256(const void *key, size_t klen, const void *msg, size_t n,
                          unsigned char out[ND_SHA256_LEN], char *err)
{
    /* mbedtls_md_hmac wants a non-NULL key pointer even for length 0. */
    return md(MBEDTLS_MD_SHA256, "HMAC-SHA256", key ? key : "", klen, msg, n, out, err);
}

int nd_crypto_hmac_sha1(const void *key, size_t klen, const void *msg, size_t n,
                        unsigned char out[ND_SHA1_LEN], char *err)
{
    return md(MBEDTLS_MD_SHA1, "HMAC-SHA1", key ? key : "", klen, msg, n, out, err);
}

int nd_crypto_hmac_sha256_chain(const void *key, size_t klen, const char *const *msgs, size_t n,
                                unsigned char out[ND_SHA256_LEN], char *err)
{
    unsigned char k[ND_SHA256_LEN], next[ND_SHA256_LEN];
    int rc;

    if (n == 0)
        return nd_seterr(err, ND_EINVAL, "HMAC chain without a message");
    rc = nd_crypto_hmac_sha256(key, klen, msgs[0], strlen(msgs[0]), k, err);
    for (size_t i = 1; rc == ND_OK && i < n; i++) {
        rc = nd_crypto_hmac_sha256(k, sizeof k, msgs[i], strlen(msgs[i]), next, err);
        memcpy(k, next, sizeof k);
    }
    if (rc == ND_OK)
        memcpy(out, k, sizeof k);
    memset(k, 0, sizeof k);
    memset(next, 0, sizeof next);
    return rc;
}

void nd_crypto_hex(const void *p, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = p;

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[s[i] >> 4];
        out[2 * i + 1] = hex[s[i] & 15];
    }
    out[2 * n] = '\0';
}

int nd_crypto_base64(struct nd_buf *b, const void *p, size_t n)
{
    size_t olen = 0, need;
    int rc;

    if (n > (SIZE_MAX / 4 - 1) * 3)
        return ND_ETOOBIG;
    need = (n + 2) / 3 * 4;
    rc = nd_buf_reserve(b, need);
    if (rc)
        return rc;
    /* mbedtls writes a NUL after the text: the reserve counted one. */
    if (mbedtls_base64_encode((unsigned char *)b->data + b->len, need + 1, &olen, p, n) != 0)
        return ND_ERR;
    b->len += olen;
    b->data[b->len] = '\0';
    return ND_OK;
}

int nd_crypto_base64_decode(struct nd_buf *b, const char *s, size_t n, char *err)
{
    size_t olen = 0;
    int rc;

    /* A first call with no room asks for the decoded size and checks the
     * characters and padding. */
    rc = mbedtls_base64_decode(NULL, 0, &olen, (const unsigned char *)s, n);
    if (rc == MBEDTLS_ERR_BASE64_INVALID_CHARACTER)
        return nd_seterr(err, ND_EINVAL, "invalid base64 character or padding");
    rc = nd_buf_reserve(b, olen);
    if (rc)
        return nd_seterr(err, rc, "decoded base64 over the limit of %zu bytes", b->limit);
    if (olen == 0)
        return ND_OK;
    rc = mbedtls_base64_decode((unsigned char *)b->data + b->len, olen, &olen,
                               (const unsigned char *)s, n);
    if (rc != 0)
        return nd_seterr(err, ND_EINVAL, "invalid base64 (mbedtls error -0x%04x)", (unsigned)-rc);
    b->len += olen;
    b->data[b->len] = '\0';
    return ND_OK;
}
