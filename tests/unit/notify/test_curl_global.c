/* test_curl_global.c - libcurl's global state has one owner: every
 * curl_global_init the notify layer makes is matched by one
 * curl_global_cleanup (libcurl counts them, and only the last cleanup
 * frees; an unmatched init keeps its TLS library state until exit).
 *
 * The linker wraps both functions for this executable (--wrap in
 * meson.build), so the counts are the calls the code under test really
 * makes, passed on to libcurl. */
#include <curl/curl.h>
#include <event2/event.h>
#include <stdio.h>

#include "notifyd/engine.h"
#include "notifyd/template.h"
#include "notifyd/util.h"
#include "tap.h"

static int inits, cleanups;

CURLcode __real_curl_global_init(long flags);
void __real_curl_global_cleanup(void);
CURLcode __wrap_curl_global_init(long flags);
void __wrap_curl_global_cleanup(void);

CURLcode __wrap_curl_global_init(long flags)
{
    inits++;
    return __real_curl_global_init(flags);
}

void __wrap_curl_global_cleanup(void)
{
    cleanups++;
    __real_curl_global_cleanup();
}

int main(void)
{
    struct event_base *base = event_base_new();
    struct nd_template_set *set = nd_template_set_new();
    char err[ND_ERRLEN];
    int round;

    for (round = 1; round <= 2; round++) {
        struct nd_engine *e = nd_engine_new(base, set, err);

        ok(e != NULL, "round %d: engine created", round);
        if (!e) {
            printf("# %s\n", err);
            break;
        }
        is_int(inits, round, "round %d: one curl_global_init per engine", round);
        is_int(cleanups, round - 1, "round %d: no cleanup while the engine lives", round);
        nd_engine_free(e);
        is_int(cleanups, inits, "round %d: freeing the engine matches its init", round);
    }
    nd_template_set_free(set);
    event_base_free(base);
    return done_testing();
}
