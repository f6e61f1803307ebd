/* loop.h - running a test's event loop until a condition holds, bounded in
 * time (shared by the engine and retry tests). */
#ifndef NOTIFYD_TEST_LOOP_H
#define NOTIFYD_TEST_LOOP_H

#include <event2/event.h>

typedef int cond_fn(void *ud);

struct loop_waiter {
    struct event_base *base;
    cond_fn *cond;
    void *ud;
};

static inline void loop_on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct loop_waiter *w = arg;

    (void)fd;
    (void)what;
    if (w->cond(w->ud))
        event_base_loopbreak(w->base);
}

/* Runs the loop until cond(ud) holds (checked every 2 ms), at most `ms`
 * milliseconds. Returns cond(ud). */
static inline int run_until_ms(struct event_base *base, cond_fn *cond, void *ud, int ms)
{
    struct loop_waiter w = {base, cond, ud};
    struct timeval tick = {0, 2000}, guard = {ms / 1000, (ms % 1000) * 1000};
    struct event *ev = event_new(base, -1, EV_PERSIST, loop_on_tick, &w);

    event_add(ev, &tick);
    event_base_loopexit(base, &guard);
    event_base_dispatch(base);
    event_free(ev);
    /* Clear a pending loopexit so that the next run is not cut short. */
    event_base_loopbreak(base);
    event_base_loop(base, EVLOOP_NONBLOCK);
    return cond(ud);
}

#endif
