/* fixture.h - what the engine tests (engine, backlog, retry, fanout) share:
 * an engine made or the test aborted, a receiver built from INI lines, the
 * configure hook of a test receiver type that keeps no state, and a
 * shutdown idle recorder. Compiled
 * into those tests (fixture.c, see meson.build). */
#ifndef NOTIFYD_TEST_FIXTURE_H
#define NOTIFYD_TEST_FIXTURE_H

#include <event2/event.h>
#include <stdint.h>

#include "notifyd/config.h"
#include "notifyd/engine.h"
#include "notifyd/receiver.h"
#include "notifyd/template.h"

/* An engine on base; aborts, printing the error, when it cannot be made.
 * With `now`, the engine reads that clock instead of the real one. */
struct nd_engine *fx_engine(struct event_base *base, const struct nd_template_set *templates,
                            int64_t (*now)(void));

/* The receiver of the first [receiver.NAME] section of the INI text
 * (printf-style), built in e with the file's [delivery] defaults. Every
 * config error is printed as a TAP comment; aborts when it does not
 * build (a broken fixture, not a test result). */
struct nd_receiver *fx_receiver(struct nd_engine *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A receiver type's configure hook for a type without settings or state. */
int fx_configure_nostate(struct nd_receiver_config *rc, const struct nd_template_set *templates,
                         void **state, struct nd_config_errors *errs);

/* nd_engine_shutdown's idle hook counting its calls, and a run_until_ms
 * condition (loop.h) that holds once it was called. */
struct fx_idle {
    int calls;
};
void fx_on_idle(void *ud);
int fx_idle_seen(void *ud);

#endif
