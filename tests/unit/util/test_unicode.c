/* Tests of unicode.c against values of Go's unicode and utf8 packages. */
#include <string.h>

#include "notifyd/unicode.h"
#include "tap.h"

static void test_runes(void)
{
    size_t w;
    char out[4];

    is_uint(nd_unicode_decode_utf8("\xe4\xb8\xad", 3, &w), 0x4E2D, "decode 3 bytes");
    is_uint(w, 3, "decode width");
    is_uint(nd_unicode_decode_utf8("\xe4\xb8", 2, &w), 0xFFFD, "truncated is U+FFFD");
    is_uint(w, 1, "truncated width 1");
    is_uint(nd_unicode_encode_utf8(0x1F600, out), 4, "encode 4 bytes");
    ok(memcmp(out, "\xf0\x9f\x98\x80", 4) == 0, "encode bytes");
    is_uint(nd_unicode_to_upper(0x1C6), 0x1C4, "upper of dz digraph");
    is_uint(nd_unicode_to_title(0x1C6), 0x1C5, "title of dz digraph");
    is_uint(nd_unicode_to_lower(0x130), 0x69, "lower of dotted I");
    ok(nd_unicode_is_letter(0x4E2D) && !nd_unicode_is_letter('1'), "is_letter");
    ok(nd_unicode_is_space(0x3000) && !nd_unicode_is_space(0x200B), "is_space");
    ok(!nd_unicode_is_print(0xA0) && nd_unicode_is_print(' '), "is_print");
}

static void test_props(void)
{
    ok(nd_unicode_is_digit(0x663) && !nd_unicode_is_digit(0xBD), "is_digit: Nd only");
    ok(nd_unicode_prop_known("L", 1), "prop: a category");
    ok(nd_unicode_prop_known("Greek", 5), "prop: a script");
    ok(nd_unicode_prop_known("Any", 3), "prop: Any");
    ok(nd_unicode_prop_known("Greekxyz", 5), "prop: the name is n bytes long");
    ok(!nd_unicode_prop_known("Gree", 4), "prop: a prefix of a name is unknown");
    ok(!nd_unicode_prop_known("greek", 5), "prop: names are case-sensitive");
    ok(!nd_unicode_prop_known("", 0), "prop: empty name is unknown");
}

int main(void)
{
    test_runes();
    test_props();
    return done_testing();
}
