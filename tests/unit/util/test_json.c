/* Tests of json.c: exact bytes of the writer, escaping as Go's
 * encoding/json, automatic commas, the sticky error and the ceiling. */
#include <stdlib.h>
#include <string.h>

#include "notifyd/buf.h"
#include "notifyd/json.h"
#include "notifyd/util.h"
#include "tap.h"

/* Writes s as one string value and returns the bytes (static buffer). */
static const char *esc(const char *s, size_t n, unsigned flags)
{
    static char out[512];
    struct nd_buf b;
    struct nd_json j;

    nd_buf_init(&b, 4096);
    nd_json_init(&j, &b, flags);
    nd_json_strn(&j, s, n);
    if (nd_json_finish(&j, NULL) != ND_OK)
        snprintf(out, sizeof out, "(error)");
    else
        snprintf(out, sizeof out, "%s", nd_buf_cstr(&b));
    nd_buf_deinit(&b);
    return out;
}

#define ESC(lit, flags) esc((lit), sizeof(lit) - 1, (flags))

static void test_escaping(void)
{
    is_str(ESC("plain text", 0), "\"plain text\"", "plain ASCII unchanged");
    is_str(ESC("a\"b\\c", 0), "\"a\\\"b\\\\c\"", "quote and backslash");
    is_str(ESC("\n\r\t", 0), "\"\\n\\r\\t\"", "\\n \\r \\t");
    is_str(ESC("\x01\x08\x0c\x1f", 0), "\"\\u0001\\u0008\\u000c\\u001f\"",
           "other control characters as \\u00XX, lowercase hex");
    is_str(ESC("a\0b", 0), "\"a\\u0000b\"", "NUL inside a counted string");
    is_str(ESC("\x7f/", 0), "\"\x7f/\"", "DEL and '/' are not escaped");
    is_str(ESC("<a>&", 0), "\"<a>&\"", "<>& kept without ND_JSON_HTML");
    is_str(ESC("<a>&", ND_JSON_HTML), "\"\\u003ca\\u003e\\u0026\"",
           "<>& escaped with ND_JSON_HTML");
    is_str(ESC("x\xe2\x80\xa8y\xe2\x80\xa9", 0), "\"x\\u2028y\\u2029\"", "U+2028, U+2029 escaped");
    is_str(ESC("\xe2\x80\xa7", 0), "\"\xe2\x80\xa7\"", "U+2027 (same lead bytes) passes through");
    is_str(ESC("告警 ü €𝄞", 0), "\"告警 ü €𝄞\"", "valid 2-, 3-, 4-byte UTF-8 passes through");
    is_str(ESC("\xef\xbf\xbd", 0), "\"\xef\xbf\xbd\"", "a real U+FFFD passes through");
    /* Invalid UTF-8: one \ufffd per bad byte, as Go's encoder writes. */
    is_str(ESC("a\x80z", 0), "\"a\\ufffdz\"", "stray continuation byte");
    is_str(ESC("\xe5\x91", 0), "\"\\ufffd\\ufffd\"", "truncated 3-byte sequence: two bytes, two");
    is_str(ESC("\xe5\x91x", 0), "\"\\ufffd\\ufffdx\"", "truncated sequence before ASCII");
    is_str(ESC("\xc0\xaf", 0), "\"\\ufffd\\ufffd\"", "overlong '/' (C0 AF)");
    is_str(ESC("\xe0\x80\xaf", 0), "\"\\ufffd\\ufffd\\ufffd\"", "overlong 3-byte");
    is_str(ESC("\xed\xa0\x80", 0), "\"\\ufffd\\ufffd\\ufffd\"", "surrogate U+D800");
    is_str(ESC("\xf4\x90\x80\x80", 0), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"", "above U+10FFFF");
    is_str(ESC("\xf0\x9f\x98", 0), "\"\\ufffd\\ufffd\\ufffd\"", "truncated 4-byte at the end");
    is_str(ESC("\xff\xfe", 0), "\"\\ufffd\\ufffd\"", "FF FE");
    is_str(ESC("\xe2\x80", 0), "\"\\ufffd\\ufffd\"", "truncated U+2028 at the end");
}

/* ND_JSON_VALID_UTF8: no check, bytes copied; U+2028/U+2029 still escaped. */
static void test_trusted_utf8(void)
{
    const unsigned f = ND_JSON_VALID_UTF8;

    is_str(ESC("告警 ü €𝄞", f), "\"告警 ü €𝄞\"", "valid UTF-8 unchanged");
    is_str(ESC("a\x80z\xff", f), "\"a\x80z\xff\"", "no check: bytes copied");
    is_str(ESC("x\xe2\x80\xa8y\xe2\x80\xa9\xe2\x80", f), "\"x\\u2028y\\u2029\xe2\x80\"",
           "U+2028/U+2029 escaped, a truncated one copied");
    is_str(ESC("\xe2\x82\xac\n\"", f), "\"\xe2\x82\xac\\n\\\"\"", "other E2 sequences copied");
}

/* The bytes of nd_buf_add_json_escaped (payload.c's webhook body uses the
 * same) for valid UTF-8, with ND_JSON_HTML. */
static void test_same_as_buf_escape(void)
{
    const char in[] = "a\"b\\c\n\t<x>&\x01\x1f\x7f\xe2\x80\xa8z 告警 \xe2\x80\xa9";
    struct nd_buf want;
    nd_buf_init(&want, 4096);
    nd_buf_addc(&want, '"');
    nd_buf_add_json_escaped(&want, in, sizeof in - 1);
    nd_buf_addc(&want, '"');
    is_str(ESC(in, ND_JSON_HTML), nd_buf_cstr(&want), "same bytes as nd_buf_add_json_escaped");
    is_str(ESC(in, ND_JSON_HTML | ND_JSON_VALID_UTF8), nd_buf_cstr(&want),
           "same bytes with ND_JSON_VALID_UTF8");

    /* With ND_JSON_VALID_UTF8 the bytes are the same for any input, also
     * invalid UTF-8: every 3-byte string over a small alphabet. */
    static const char alpha[] = {'a', '"', '<', '\n', '\x01', '\x80', '\xa8', '\xe2', '\xff'};
    const size_t na = sizeof alpha;
    int bad = 0;
    for (size_t x = 0; x < na * na * na; x++) {
        char s3[3] = {alpha[x % na], alpha[x / na % na], alpha[x / na / na]};
        nd_buf_reset(&want);
        nd_buf_addc(&want, '"');
        nd_buf_add_json_escaped(&want, s3, 3);
        nd_buf_addc(&want, '"');
        if (strcmp(esc(s3, 3, ND_JSON_HTML | ND_JSON_VALID_UTF8), nd_buf_cstr(&want)) != 0)
            bad++;
    }
    is_int(bad, 0, "all %zu 3-byte strings: same bytes as nd_buf_add_json_escaped", na * na * na);
    nd_buf_deinit(&want);
}

static void test_document(void)
{
    struct nd_buf b;
    struct nd_json j;
    char err[ND_ERRLEN];

    nd_buf_init(&b, 4096);
    nd_buf_adds(&b, "prefix:");
    nd_json_init(&j, &b, ND_JSON_NEWLINE);
    nd_json_obj_open(&j);
    nd_json_kstr(&j, "msgtype", "text");
    nd_json_key(&j, "text");
    nd_json_obj_open(&j);
    nd_json_kstr(&j, "content", "CPU > 90%");
    nd_json_obj_close(&j);
    nd_json_key(&j, "at");
    nd_json_obj_open(&j);
    nd_json_key(&j, "atMobiles");
    nd_json_arr_open(&j);
    nd_json_str(&j, "138");
    nd_json_str(&j, "139");
    nd_json_arr_close(&j);
    nd_json_kbool(&j, "isAtAll", false);
    nd_json_obj_close(&j);
    nd_json_key(&j, "nums");
    nd_json_arr_open(&j);
    nd_json_int(&j, 0);
    nd_json_int(&j, -42);
    nd_json_int(&j, INT64_MIN);
    nd_json_int(&j, INT64_MAX);
    nd_json_uint(&j, UINT64_MAX);
    nd_json_bool(&j, true);
    nd_json_null(&j);
    nd_json_raw(&j, "\"pre\"", 5);
    nd_json_arr_open(&j);
    nd_json_arr_close(&j);
    nd_json_obj_open(&j);
    nd_json_obj_close(&j);
    nd_json_arr_close(&j);
    nd_json_kint(&j, "k\"ey", 7);
    nd_json_obj_close(&j);
    is_int(nd_json_finish(&j, err), ND_OK, "document finishes");
    is_str(nd_buf_cstr(&b),
           "prefix:{\"msgtype\":\"text\",\"text\":{\"content\":\"CPU > 90%\"},"
           "\"at\":{\"atMobiles\":[\"138\",\"139\"],\"isAtAll\":false},"
           "\"nums\":[0,-42,-9223372036854775808,9223372036854775807,18446744073709551615,"
           "true,null,\"pre\",[],{}],\"k\\\"ey\":7}\n",
           "exact bytes, commas automatic, appended after existing content");

    nd_buf_reset(&b);
    nd_json_init(&j, &b, 0);
    nd_json_str(&j, "");
    is_int(nd_json_finish(&j, NULL), ND_OK, "a top-level string");
    is_str(nd_buf_cstr(&b), "\"\"", "empty string value");
    nd_buf_deinit(&b);
}

/* Each misuse is refused once at finish, and the buffer is restored. */
static void test_misuse(void)
{
    struct nd_buf b;
    struct nd_json j;
    char err[ND_ERRLEN];

    nd_buf_init(&b, 4096);
    nd_buf_adds(&b, "keep");

    nd_json_init(&j, &b, 0);
    nd_json_obj_open(&j);
    nd_json_str(&j, "v");
    nd_json_obj_close(&j);
    is_int(nd_json_finish(&j, err), ND_EINVAL, "value without key refused");
    has_str(err, "without a key", "error text says why");
    is_str(nd_buf_cstr(&b), "keep", "buffer restored");

    nd_json_init(&j, &b, 0);
    nd_json_arr_open(&j);
    nd_json_key(&j, "k");
    is_int(nd_json_finish(&j, err), ND_EINVAL, "key in an array refused");

    nd_json_init(&j, &b, 0);
    nd_json_obj_open(&j);
    nd_json_key(&j, "k");
    nd_json_key(&j, "k2");
    is_int(nd_json_finish(&j, err), ND_EINVAL, "key after key refused");

    nd_json_init(&j, &b, 0);
    nd_json_obj_open(&j);
    nd_json_key(&j, "k");
    nd_json_obj_close(&j);
    is_int(nd_json_finish(&j, err), ND_EINVAL, "close after a key refused");

    nd_json_init(&j, &b, 0);
    nd_json_obj_open(&j);
    nd_json_arr_close(&j);
    is_int(nd_json_finish(&j, err), ND_EINVAL, "mismatched close refused");

    nd_json_init(&j, &b, 0);
    nd_json_arr_open(&j);
    is_int(nd_json_finish(&j, err), ND_EINVAL, "unclosed array refused");
    has_str(err, "left open", "error text for unclosed");

    nd_json_init(&j, &b, 0);
    is_int(nd_json_finish(&j, err), ND_EINVAL, "empty document refused");

    nd_json_init(&j, &b, 0);
    nd_json_int(&j, 1);
    nd_json_int(&j, 2);
    is_int(nd_json_finish(&j, err), ND_EINVAL, "two top-level values refused");

    nd_json_init(&j, &b, 0);
    nd_json_arr_open(&j);
    nd_json_str(&j, NULL);
    nd_json_arr_close(&j);
    is_int(nd_json_finish(&j, err), ND_EINVAL, "NULL string refused");

    nd_json_init(&j, &b, 0);
    for (int i = 0; i < ND_JSON_MAX_DEPTH; i++)
        nd_json_arr_open(&j);
    for (int i = 0; i < ND_JSON_MAX_DEPTH; i++)
        nd_json_arr_close(&j);
    is_int(nd_json_finish(&j, err), ND_OK, "ND_JSON_MAX_DEPTH levels accepted");
    b.len = 4;
    b.data[4] = '\0';
    nd_json_init(&j, &b, 0);
    for (int i = 0; i < ND_JSON_MAX_DEPTH + 1; i++)
        nd_json_arr_open(&j);
    for (int i = 0; i < ND_JSON_MAX_DEPTH + 1; i++)
        nd_json_arr_close(&j);
    is_int(nd_json_finish(&j, err), ND_EINVAL, "one level more refused");
    is_str(nd_buf_cstr(&b), "keep", "buffer restored after depth error");
    nd_buf_deinit(&b);
}

/* Builds {"k":"<s>"} into a buffer of the given limit. */
static int write_limited(size_t limit, const char *s, struct nd_buf *b)
{
    struct nd_json j;
    nd_buf_init(b, limit);
    nd_json_init(&j, b, ND_JSON_HTML);
    nd_json_obj_open(&j);
    nd_json_kstr(&j, "k", s);
    nd_json_obj_close(&j);
    return nd_json_finish(&j, NULL);
}

static void test_ceiling(void)
{
    struct nd_buf b;
    /* {"k":"<\n>"} with escapes: {"k":"\u003c\n\u003e"} = 25 bytes. */
    const char *s = "<\n>";
    const char *want = "{\"k\":\"\\u003c\\n\\u003e\"}";
    size_t n = strlen(want);
    char err[ND_ERRLEN];

    is_int(write_limited(n, s, &b), ND_OK, "a body of exactly the limit fits");
    is_str(nd_buf_cstr(&b), want, "exact bytes at the limit");
    nd_buf_deinit(&b);
    is_int(write_limited(n - 1, s, &b), ND_ETOOBIG, "one byte less is ND_ETOOBIG");
    is_int(b.len, 0, "nothing left in the buffer");
    nd_buf_deinit(&b);

    /* The error is sticky: later pieces that would fit are not written. */
    struct nd_json j;
    nd_buf_init(&b, 16);
    nd_json_init(&j, &b, 0);
    nd_json_arr_open(&j);
    nd_json_str(&j, "0123456789abcdefghij");
    nd_json_int(&j, 1);
    nd_json_arr_close(&j);
    is_int(nd_json_finish(&j, err), ND_ETOOBIG, "sticky ND_ETOOBIG");
    has_str(err, "16 bytes", "error names the limit");
    is_int(b.len, 0, "buffer restored");
    nd_buf_deinit(&b);

    /* Every limit from 0 to the full size: ok exactly from the size on. */
    int bad = 0;
    for (size_t lim = 0; lim <= n + 2; lim++) {
        int rc = write_limited(lim, s, &b);
        if ((lim >= n) != (rc == ND_OK) || (rc == ND_OK && strcmp(nd_buf_cstr(&b), want) != 0))
            bad++;
        nd_buf_deinit(&b);
    }
    is_int(bad, 0, "every limit around the size decides exactly");
}

/* Plain keys: the same bytes as escaped ones, commas and key rules kept,
 * and the limit decided exactly. */
static void test_key_plain(void)
{
    struct nd_buf b;
    struct nd_json j;
    char err[ND_ERRLEN];
    const char *want = "{\"id\":\"1\",\"labels\":{\"a\":\"b\"},\"n\":2}\n";
    size_t n = strlen(want);
    int bad = 0;

    for (size_t lim = 0; lim <= n + 1; lim++) {
        nd_buf_init(&b, lim);
        nd_json_init(&j, &b, ND_JSON_NEWLINE);
        nd_json_obj_open(&j);
        ND_JSON_KEY_LIT(&j, "id");
        nd_json_str(&j, "1");
        ND_JSON_KEY_LIT(&j, "labels");
        nd_json_obj_open(&j);
        nd_json_kstr(&j, "a", "b");
        nd_json_obj_close(&j);
        nd_json_key_plain(&j, "nx", 1);
        nd_json_int(&j, 2);
        nd_json_obj_close(&j);
        int rc = nd_json_finish(&j, NULL);
        if ((lim >= n) != (rc == ND_OK) || (rc == ND_OK && strcmp(nd_buf_cstr(&b), want) != 0) ||
            (rc != ND_OK && b.len != 0))
            bad++;
        if (lim == n)
            is_str(nd_buf_cstr(&b), want, "plain keys: bytes, commas, counted length");
        nd_buf_deinit(&b);
    }
    is_int(bad, 0, "plain keys: every limit around the size decides exactly");

    nd_buf_init(&b, 4096);
    nd_json_init(&j, &b, 0);
    nd_json_arr_open(&j);
    ND_JSON_KEY_LIT(&j, "k");
    nd_json_arr_close(&j);
    is_int(nd_json_finish(&j, err), ND_EINVAL, "a plain key in an array is misuse");
    nd_json_init(&j, &b, 0);
    nd_json_obj_open(&j);
    ND_JSON_KEY_LIT(&j, "k");
    ND_JSON_KEY_LIT(&j, "k");
    is_int(nd_json_finish(&j, err), ND_EINVAL, "a plain key after a key is misuse");
    nd_json_init(&j, &b, 0);
    nd_json_obj_open(&j);
    nd_json_key_plain(&j, NULL, 0);
    is_int(nd_json_finish(&j, err), ND_EINVAL, "a NULL plain key is misuse");
    nd_buf_deinit(&b);
}

int main(void)
{
    test_escaping();
    test_trusted_utf8();
    test_same_as_buf_escape();
    test_document();
    test_misuse();
    test_ceiling();
    test_key_plain();
    return done_testing();
}
