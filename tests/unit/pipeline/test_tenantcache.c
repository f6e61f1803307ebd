/* Tests of tenantcache.c: hits, misses and expiry of successes and
 * failures, replacement of a key, the bound (expired entries first, then
 * the one expiring first), moving a cache at a reload, and the parser of sidecar answers with each
 * kind of bad answer. */
#include <stdlib.h>
#include <string.h>

#include "notifyd/tenantcache.h"
#include "tap.h"

static void test_get_put(void)
{
    struct nd_tcache *c = nd_tcache_new(8);
    const char *const two[] = {"alice", "bob"};
    const char *const *t = NULL;
    size_t n = 99;

    is_int(nd_tcache_get(c, "c1", "web", 0, &t, &n), ND_TCACHE_MISS, "empty cache misses");
    nd_tcache_put(c, "c1", "web", 1000, 30000, two, 2);
    is_int(nd_tcache_get(c, "c1", "web", 1000, &t, &n), ND_OK, "fresh entry hits");
    is_uint(n, 2, "two tenants");
    is_str(t[0], "alice", "first tenant");
    is_str(t[1], "bob", "second tenant");
    is_int(nd_tcache_get(c, "c2", "web", 1000, &t, &n), ND_TCACHE_MISS,
           "other cluster, same namespace misses");
    is_int(nd_tcache_get(c, "c1", "web", 30999, &t, &n), ND_OK, "hit just before expiry");
    is_int(nd_tcache_get(c, "c1", "web", 31000, &t, &n), ND_TCACHE_MISS, "miss at expiry");

    nd_tcache_put(c, "c1", "web", 40000, 30000, NULL, 0);
    is_int(nd_tcache_get(c, "c1", "web", 40000, &t, &n), ND_OK, "empty answer is a hit");
    is_uint(n, 0, "with no tenants");
    is_uint(nd_tcache_size(c), 1, "replacing a key keeps one entry");

    nd_tcache_put_failed(c, "c1", "web", 50000, 5000);
    is_int(nd_tcache_get(c, "c1", "web", 54999, &t, &n), ND_TCACHE_FAILED, "fresh failure");
    is_int(nd_tcache_get(c, "c1", "web", 55000, &t, &n), ND_TCACHE_MISS, "failure expires");
    nd_tcache_put(c, "c1", "web", 56000, 30000, two, 1);
    is_int(nd_tcache_get(c, "c1", "web", 56000, &t, &n), ND_OK, "success replaces a failure");
    is_uint(n, 1, "one tenant");
    nd_tcache_free(c);
    nd_tcache_free(NULL);
}

static void test_bound(void)
{
    struct nd_tcache *c = nd_tcache_new(3);
    const char *const one[] = {"t"};
    const char *const *t;
    size_t n;

    nd_tcache_put(c, "", "a", 0, 100, one, 1);    /* expires 100 */
    nd_tcache_put(c, "", "b", 0, 1000, one, 1);   /* expires 1000 */
    nd_tcache_put(c, "", "c", 0, 500, one, 1);    /* expires 500 */
    nd_tcache_put(c, "", "d", 200, 1000, one, 1); /* a expired: it goes */
    is_uint(nd_tcache_size(c), 3, "bounded at 3");
    is_int(nd_tcache_get(c, "", "a", 200, &t, &n), ND_TCACHE_MISS, "expired entry dropped");
    is_int(nd_tcache_get(c, "", "b", 200, &t, &n), ND_OK, "b kept");
    is_int(nd_tcache_get(c, "", "c", 200, &t, &n), ND_OK, "c kept");
    nd_tcache_put(c, "", "e", 300, 1000, one, 1); /* none expired: c expires first */
    is_uint(nd_tcache_size(c), 3, "still 3");
    is_int(nd_tcache_get(c, "", "c", 300, &t, &n), ND_TCACHE_MISS, "first to expire dropped");
    is_int(nd_tcache_get(c, "", "b", 300, &t, &n), ND_OK, "b kept");
    is_int(nd_tcache_get(c, "", "d", 300, &t, &n), ND_OK, "d kept");
    is_int(nd_tcache_get(c, "", "e", 300, &t, &n), ND_OK, "e stored");
    nd_tcache_free(c);
}

/* A reload's move: fresh entries carried with their expiry (cut to the new
 * TTLs), expired ones not, the new bound applied, the old cache emptied. */
static void test_move(void)
{
    struct nd_tcache *old = nd_tcache_new(8), *c = nd_tcache_new(3);
    const char *const two[] = {"alice", "bob"};
    const char *const *t = NULL;
    size_t n = 0;

    nd_tcache_put(old, "c1", "web", 0, 30000, two, 2);  /* expires 30000 */
    nd_tcache_put(old, "c1", "db", 0, 500, two, 1);     /* expired at the move */
    nd_tcache_put_failed(old, "c1", "gone", 0, 5000);   /* a failure, expires 5000 */
    nd_tcache_put(old, "c1", "short", 0, 2000, two, 1); /* expires before its cap */
    nd_tcache_put(c, "c1", "web", 0, 100, NULL, 0);     /* replaced by the moved one */
    nd_tcache_move(c, old, 1000, 10000, 3000);
    is_uint(nd_tcache_size(old), 0, "move: the old cache is empty");
    is_uint(nd_tcache_size(c), 3, "move: three fresh entries, the same key once");
    is_int(nd_tcache_get(c, "c1", "db", 1000, &t, &n), ND_TCACHE_MISS, "move: expired not carried");
    is_int(nd_tcache_get(c, "c1", "web", 1000, &t, &n), ND_OK,
           "move: replaces the new cache's entry");
    is_uint(n, 2, "move: the carried answer");
    is_int(nd_tcache_get(c, "c1", "gone", 3999, &t, &n), ND_TCACHE_FAILED,
           "move: a failure is carried, cut to now + the new failure TTL");
    is_int(nd_tcache_get(c, "c1", "gone", 4000, &t, &n), ND_TCACHE_MISS, "move: and expires then");
    is_int(nd_tcache_get(c, "c1", "short", 1999, &t, &n), ND_OK, "move: keeps an earlier expiry");
    is_uint(n, 1, "move: with its tenants");
    is_str(t[0], "alice", "move: the same names");
    is_int(nd_tcache_get(c, "c1", "short", 2000, &t, &n), ND_TCACHE_MISS,
           "move: expires as before");
    nd_tcache_free(c);
    nd_tcache_free(old);

    old = nd_tcache_new(8);
    c = nd_tcache_new(2);
    nd_tcache_put(old, "c1", "web", 0, 30000, two, 2);
    nd_tcache_put(old, "c1", "db", 0, 1500, two, 2);
    nd_tcache_put(old, "c1", "api", 0, 1800, two, 2);
    nd_tcache_move(c, old, 1000, 10000, 3000);
    is_uint(nd_tcache_size(c), 2, "move: the new bound (2) applies");
    is_int(nd_tcache_get(c, "c1", "db", 1000, &t, &n), ND_TCACHE_MISS,
           "move: over the bound, the entry expiring first went");
    is_int(nd_tcache_get(c, "c1", "api", 1000, &t, &n), ND_OK, "move: the next one stays");
    nd_tcache_free(old);
    is_int(nd_tcache_get(c, "c1", "web", 10999, &t, &n), ND_OK,
           "move: carried, usable after the old cache is freed");
    is_uint(n, 2, "move: both names");
    is_str(t[1], "bob", "move: second name");
    is_int(nd_tcache_get(c, "c1", "web", 11000, &t, &n), ND_TCACHE_MISS,
           "move: cut to now + the new TTL");
    nd_tcache_free(c);
}

static int parse(const char *s, struct nd_strlist *l, char *err)
{
    memset(l, 0, sizeof *l);
    return nd_tcache_parse_answer(s, strlen(s), l, err);
}

static void test_parse(void)
{
    struct nd_strlist l;
    char err[ND_ERRLEN];
    char big[ND_TCACHE_MAX_NAME + 8];

    is_int(parse("[\"alice\", \"bob\"]", &l, err), ND_OK, "array of names");
    is_uint(l.n, 2, "two names");
    is_str(l.v[1], "bob", "in order");
    nd_strlist_deinit(&l);
    is_int(parse("[]", &l, err), ND_OK, "empty array");
    is_uint(l.n, 0, "no names");
    is_int(parse("null", &l, err), ND_OK, "null is no tenants");
    is_uint(l.n, 0, "no names for null");

    is_int(parse("{\"a\":1}", &l, err), ND_EINVAL, "object refused");
    has_str(err, "not a JSON array", "error says why");
    is_int(parse("[\"a\", 1]", &l, err), ND_EINVAL, "number element refused");
    has_str(err, "element 1", "error names the element");
    is_uint(l.n, 0, "nothing kept after a bad element");
    is_int(parse("[\"\"]", &l, err), ND_EINVAL, "empty name refused");
    is_int(parse("[\"a\"", &l, err), ND_EINVAL, "truncated JSON refused");
    is_int(parse("", &l, err), ND_EINVAL, "empty body refused");

    memset(big, 'x', sizeof big);
    big[0] = '[';
    big[1] = '"';
    big[sizeof big - 3] = '"';
    big[sizeof big - 2] = ']';
    big[sizeof big - 1] = 0;
    is_int(parse(big, &l, err), ND_EINVAL, "over-long name refused");

    char many[ND_TCACHE_MAX_TENANTS * 4 + 16];
    size_t o = 0;
    many[o++] = '[';
    for (int i = 0; i <= ND_TCACHE_MAX_TENANTS; i++) {
        if (i)
            many[o++] = ',';
        memcpy(many + o, "\"a\"", 3);
        o += 3;
    }
    many[o++] = ']';
    many[o] = 0;
    is_int(parse(many, &l, err), ND_ETOOBIG, "too many tenants refused");
}

int main(void)
{
    test_get_put();
    test_bound();
    test_move();
    test_parse();
    return done_testing();
}
