/* util.c - allocation that aborts on OOM, error buffers, clocks. */
#include "notifyd/util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Running out of memory is not an error the daemon can handle meaningfully
 * in the middle of a request or a delivery: say so and stop (redis, h2o). */
static void oom(size_t n)
{
    fprintf(stderr, "notifyd: out of memory allocating %zu bytes\n", n);
    abort();
}

void *nd_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *nd_xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (!p)
        oom(nmemb * size);
    return p;
}

void *nd_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *nd_xstrdup(const char *s)
{
    return nd_xstrndup(s, strlen(s));
}

char *nd_xstrndup(const char *s, size_t n)
{
    char *p = nd_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void nd_secret_free(char *s)
{
    if (s) {
        /* volatile: the wipe must not be dropped as a dead store. */
        volatile char *p = s;
        while (*p)
            *p++ = '\0';
        free(s);
    }
}

void nd_strlist_add(struct nd_strlist *l, const char *s, size_t len)
{
    l->v = nd_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
    l->v[l->n++] = nd_xstrndup(s, len);
}

static bool list_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void nd_strlist_split(struct nd_strlist *l, const char *s)
{
    while (s && *s) {
        size_t len = strcspn(s, ",\n");
        const char *a = s;
        size_t n = len;

        while (n > 0 && list_blank(*a)) {
            a++;
            n--;
        }
        while (n > 0 && list_blank(a[n - 1]))
            n--;
        if (n > 0)
            nd_strlist_add(l, a, n);
        s += len;
        if (*s)
            s++;
    }
}

void nd_strlist_deinit(struct nd_strlist *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

char *nd_xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = NULL;
    int n = vasprintf(&out, fmt, ap);
    va_end(ap);
    if (n < 0)
        oom(0);
    return out;
}

int nd_seterr(char *err, int rc, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, ND_ERRLEN, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct timeval nd_ns_to_timeval(int64_t ns)
{
    struct timeval tv;
    int64_t us;

    if (ns < 0)
        ns = 0;
    us = ns / 1000 + (ns % 1000 != 0); /* INT64_MAX / 1000 + 1 cannot overflow */
    tv.tv_sec = (time_t)(us / 1000000);
    tv.tv_usec = (suseconds_t)(us % 1000000);
    return tv;
}

int64_t nd_now_mono_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

int64_t nd_now_mono_ms(void)
{
    return nd_now_mono_ns() / 1000000;
}

int64_t nd_now_wall_ns(void)
{
    return clock_ns(CLOCK_REALTIME);
}
