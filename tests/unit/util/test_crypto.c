/* Tests of crypto.c against published vectors: FIPS 180-2 (SHA-256),
 * RFC 4231 (HMAC-SHA256), RFC 2202 (HMAC-SHA1), RFC 4648 (base64), and
 * DingTalk's robot signature computed independently with
 * `openssl dgst -sha256 -hmac` and Python's hmac module. */
#include <string.h>

#include "notifyd/buf.h"
#include "notifyd/crypto.h"
#include "notifyd/url.h"
#include "notifyd/util.h"
#include "tap.h"

static void test_sha256(void)
{
    char hex[2 * ND_SHA256_LEN + 1], err[ND_ERRLEN];
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

    is_int(nd_crypto_sha256_hex("abc", 3, hex, err), ND_OK, "sha256 abc");
    is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
           "FIPS 180-2 one-block message");
    nd_crypto_sha256_hex(two, strlen(two), hex, err);
    is_str(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
           "FIPS 180-2 two-block message");
    nd_crypto_sha256_hex("", 0, hex, err);
    is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
           "empty message (AWS SigV4's empty payload hash)");
}

/* key: klen bytes of kfill, or the text key; the same for the message. */
struct hmac_case {
    const char *name;
    const char *key;
    unsigned char kfill;
    size_t klen;
    const char *msg;
    unsigned char mfill;
    size_t mlen;
    const char *sha256, *sha1;
};

static void test_hmac(void)
{
    static const char big[] = "Test Using Larger Than Block-Size Key - Hash Key First";
    static const struct hmac_case cases[] = {
        {"case 1", NULL, 0x0b, 20, "Hi There", 0, 8,
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
         "b617318655057264e28bc0b6fb378c8ef146be00"},
        {"case 2", "Jefe", 0, 4, "what do ya want for nothing?", 0, 28,
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
         "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
        {"case 3", NULL, 0xaa, 20, NULL, 0xdd, 50,
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
         "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
    };
    unsigned char d[ND_SHA256_LEN], key[131], msg[64];
    char hex[2 * ND_SHA256_LEN + 1], err[ND_ERRLEN];

    for (size_t i = 0; i < ND_ARRAY_LEN(cases); i++) {
        const struct hmac_case *c = &cases[i];
        memset(key, c->kfill, sizeof key);
        memset(msg, c->mfill, sizeof msg);
        if (c->key)
            memcpy(key, c->key, c->klen);
        if (c->msg)
            memcpy(msg, c->msg, c->mlen);
        is_int(nd_crypto_hmac_sha256(key, c->klen, msg, c->mlen, d, err), ND_OK,
               "hmac-sha256 %s runs", c->name);
        nd_crypto_hex(d, ND_SHA256_LEN, hex);
        is_str(hex, c->sha256, "RFC 4231 %s", c->name);
        is_int(nd_crypto_hmac_sha1(key, c->klen, msg, c->mlen, d, err), ND_OK, "hmac-sha1 %s runs",
               c->name);
        nd_crypto_hex(d, ND_SHA1_LEN, hex);
        is_str(hex, c->sha1, "RFC 2202 %s", c->name);
    }
    /* Keys longer than the block are hashed first. */
    memset(key, 0xaa, sizeof key);
    nd_crypto_hmac_sha256(key, 131, big, strlen(big), d, err);
    nd_crypto_hex(d, ND_SHA256_LEN, hex);
    is_str(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
           "RFC 4231 case 6 (131-byte key)");
    nd_crypto_hmac_sha1(key, 80, big, strlen(big), d, err);
    nd_crypto_hex(d, ND_SHA1_LEN, hex);
    is_str(hex, "aa4ae5e15272d00e95705637ce8a3b55ed402112", "RFC 2202 case 6 (80-byte key)");
}

static void test_base64(void)
{
    /* RFC 4648 section 10. */
    static const char *const vec[][2] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"foob"
         "a",
         "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    struct nd_buf b;
    char err[ND_ERRLEN];

    nd_buf_init(&b, 64);
    for (size_t i = 0; i < ND_ARRAY_LEN(vec); i++) {
        nd_buf_reset(&b);
        is_int(nd_crypto_base64(&b, vec[i][0], strlen(vec[i][0])), ND_OK, "encode \"%s\"",
               vec[i][0]);
        is_str(nd_buf_cstr(&b), vec[i][1], "RFC 4648 BASE64(\"%s\")", vec[i][0]);
        nd_buf_reset(&b);
        is_int(nd_crypto_base64_decode(&b, vec[i][1], strlen(vec[i][1]), err), ND_OK,
               "decode \"%s\"", vec[i][1]);
        is_str(nd_buf_cstr(&b), vec[i][0], "decodes back (vector %zu)", i);
    }
    nd_buf_reset(&b);
    is_int(nd_crypto_base64_decode(&b, "Zm9v!", 5, err), ND_EINVAL, "bad character refused");
    has_str(err, "invalid base64", "error text");
    is_int(b.len, 0, "nothing appended");
    is_int(nd_crypto_base64_decode(&b, "Zm9=v", 5, err), ND_EINVAL, "padding inside refused");

    /* Appends, and refuses at the ceiling leaving the buffer as it was. */
    nd_buf_deinit(&b);
    nd_buf_init(&b, 7);
    nd_buf_adds(&b, "x:");
    is_int(nd_crypto_base64(&b, "fo", 2), ND_OK, "encode appends");
    is_str(nd_buf_cstr(&b), "x:Zm8=", "after existing content");
    is_int(nd_crypto_base64(&b, "f", 1), ND_ETOOBIG, "over the limit");
    is_str(nd_buf_cstr(&b), "x:Zm8=", "buffer unchanged");
    is_int(nd_crypto_base64_decode(&b, "Zm9v", 4, err), ND_ETOOBIG, "decode over the limit");
    nd_buf_deinit(&b);
}

/* DingTalk custom robot: sign = urlEncode(base64(HMAC-SHA256(key = secret,
 * msg = timestamp + "\n" + secret))), added as &timestamp=..&sign=.. */
static void test_dingtalk_sign(void)
{
    const char *secret = "SEC000000000000000000000000000000000000000000000000000000000000000";
    const char *ts = "1577262236763";
    unsigned char d[ND_SHA256_LEN];
    char msg[128], err[ND_ERRLEN];
    struct nd_buf b64, url;

    snprintf(msg, sizeof msg, "%s\n%s", ts, secret);
    is_int(nd_crypto_hmac_sha256(secret, strlen(secret), msg, strlen(msg), d, err), ND_OK,
           "dingtalk hmac");
    nd_buf_init(&b64, 64);
    nd_crypto_base64(&b64, d, sizeof d);
    is_str(nd_buf_cstr(&b64), "KrZE+UY/MLElVqa8TUCJdJ+3Ek4yjHpllyHzliZgLYg=",
           "base64 of the HMAC (openssl dgst -sha256 -hmac | base64)");
    nd_buf_init(&url, 256);
    nd_url_query_escape(&url, b64.data, b64.len);
    is_str(nd_buf_cstr(&url), "KrZE%2BUY%2FMLElVqa8TUCJdJ%2B3Ek4yjHpllyHzliZgLYg%3D",
           "URL-encoded sign (Python urllib.parse.quote_plus)");
    nd_buf_deinit(&b64);
    nd_buf_deinit(&url);
}

/* The signing key of AWS's Signature Version 4 worked example (IAM
 * ListUsers, secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20150830,
 * us-east-1, iam), as the AWS General Reference gives it (Signature
 * Version 4 task 3, "calculate the signature": the derived signing key
 * c4afb1cc...). */
static void test_hmac_chain(void)
{
    static const char *const scope[] = {"20150830", "us-east-1", "iam", "aws4_request"};
    const char *key = "AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    unsigned char d[ND_SHA256_LEN], one[ND_SHA256_LEN];
    char hex[2 * ND_SHA256_LEN + 1], err[ND_ERRLEN];

    is_int(nd_crypto_hmac_sha256_chain(key, strlen(key), scope, 4, d, err), ND_OK, "chain runs");
    nd_crypto_hex(d, sizeof d, hex);
    is_str(hex, "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9",
           "AWS SigV4 documented signing key");
    /* One message is one HMAC. */
    nd_crypto_hmac_sha256_chain("Jefe", 4, (const char *const[]){"what do ya want for nothing?"}, 1,
                                d, err);
    nd_crypto_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, one, err);
    ok(memcmp(d, one, sizeof d) == 0, "a chain of one is HMAC-SHA256 (RFC 4231 case 2)");
    is_int(nd_crypto_hmac_sha256_chain(key, strlen(key), scope, 0, d, err), ND_EINVAL,
           "an empty chain is refused");
}

int main(void)
{
    test_sha256();
    test_hmac();
    test_hmac_chain();
    test_base64();
    test_dingtalk_sign();
    return done_testing();
}
