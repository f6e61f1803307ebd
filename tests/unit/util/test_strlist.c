/* Tests of the list and secret helpers of util.c. */
#include <string.h>

#include "notifyd/util.h"
#include "tap.h"

static void test_split(void)
{
    struct nd_strlist l = {0};

    nd_strlist_split(&l, " a , b,,\tc d ,\n  e\n\n,f");
    is_uint(l.n, 5, "five items: empty ones skipped");
    if (l.n == 5) {
        is_str(l.v[0], "a", "blanks trimmed");
        is_str(l.v[1], "b", "second");
        is_str(l.v[2], "c d", "inner blank kept");
        is_str(l.v[3], "e", "newline separates (continuation lines)");
        is_str(l.v[4], "f", "last without separator");
    }
    nd_strlist_split(&l, "g");
    is_uint(l.n, 6, "split appends");
    is_str(l.v[5], "g", "appended item");
    nd_strlist_deinit(&l);
    is_uint(l.n, 0, "deinit empties");
    ok(l.v == NULL, "deinit frees the array");

    nd_strlist_split(&l, NULL);
    nd_strlist_split(&l, " , \n ,");
    is_uint(l.n, 0, "NULL and only separators give nothing");
    nd_strlist_add(&l, "xyz", 2);
    is_str(l.v[0], "xy", "add copies len bytes");
    nd_strlist_deinit(&l);
}

static void test_secret_free(void)
{
    nd_secret_free(NULL);
    nd_secret_free(nd_xstrdup("hunter2"));
    ok(1, "secret_free takes NULL and a heap string (ASan checks the rest)");
}

int main(void)
{
    test_split();
    test_secret_free();
    return done_testing();
}
