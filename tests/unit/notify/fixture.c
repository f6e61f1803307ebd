/* fixture.c - see fixture.h. */
#include "fixture.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "notifyd/util.h"
#include "notify_int.h"

struct nd_engine *fx_engine(struct event_base *base, const struct nd_template_set *templates,
                            int64_t (*now)(void))
{
    char err[ND_ERRLEN];
    struct nd_engine *e = nd_engine_new(base, templates, err);

    if (!e) {
        printf("# %s\n", err);
        abort();
    }
    if (now)
        nd__engine_set_clock(e, now);
    return e;
}

struct nd_receiver *fx_receiver(struct nd_engine *e, const char *fmt, ...)
{
    struct nd_config *cfg = NULL;
    struct nd_config_errors errs;
    struct nd_receiver *r = NULL;
    va_list ap;
    char *ini;

    va_start(ap, fmt);
    if (vasprintf(&ini, fmt, ap) < 0)
        abort();
    va_end(ap);
    nd_config_errors_init(&errs);
    if (nd_config_load_string(ini, "test.ini", &cfg, &errs) == ND_OK)
        r = nd_receiver_new(e, &cfg->receivers[0], &cfg->delivery, &errs);
    for (size_t i = 0; i < errs.n; i++)
        printf("# %s\n", errs.msgs[i]);
    nd_config_errors_deinit(&errs);
    nd_config_free(cfg);
    free(ini);
    if (!r)
        abort();
    return r;
}

int fx_configure_nostate(struct nd_receiver_config *rc, const struct nd_template_set *templates,
                         void **state, struct nd_config_errors *errs)
{
    (void)rc;
    (void)templates;
    (void)errs;
    *state = NULL;
    return ND_OK;
}

void fx_on_idle(void *ud)
{
    ((struct fx_idle *)ud)->calls++;
}

int fx_idle_seen(void *ud)
{
    return ((struct fx_idle *)ud)->calls > 0;
}
