/* fuzz_config.c - the INI loader (nd_config_load_string: inih behind our
 * reader, every fixed section's keys and value syntaxes) and, when the file
 * loads, every receiver section's validation as --check-config runs it
 * (nd_receiver_check: each type's keys, URLs, lists, durations, secrets,
 * template references) and the routing built over them ([tenant.*],
 * [router.*], receivers' tenant keys: nd_route_new) against the built-in
 * templates.
 *
 * Checks: a refused file has at least one error and no config; an accepted
 * one has none, and every message names the file. The receivers are checked
 * even when earlier sections filled the error list past its cap (a receiver
 * must still see that it reported an error). The input is cut at its
 * first NUL (the loader takes a C string, as a file's bytes are checked for
 * NULs before). Paths in [template] and file: secrets are real: run it in an
 * empty directory (tests/fuzz/run.sh does).
 */
#include <string.h>

#include "fuzz.h"
#include "notifyd/config.h"
#include "notifyd/engine.h"
#include "notifyd/inhibit.h"
#include "notifyd/pipeline.h"
#include "notifyd/route.h"
#include "notifyd/template.h"
#include "notifyd/util.h"

#define NAME "fuzz.ini"

static struct nd_template_set *tmpl;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[ND_ERRLEN];
    tmpl = nd_template_set_new();
    FUZZ_CHECK(nd_template_set_add_defaults(tmpl, err) == ND_OK, "defaults: %s", err);
    return 0;
}

void fuzz_cleanup(void)
{
    nd_template_set_free(tmpl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = nd_xmalloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';

    struct nd_config *cfg = NULL;
    struct nd_config_errors errs;
    nd_config_errors_init(&errs);
    int rc = nd_config_load_string(text, NAME, &cfg, &errs);
    if (rc == ND_OK) {
        FUZZ_CHECK(cfg != NULL && errs.n == 0, "loaded with %zu errors", errs.n);
        for (size_t i = 0; i < cfg->nreceivers; i++)
            nd_receiver_check(&cfg->receivers[i], &cfg->delivery, tmpl, &errs);
        struct nd_inhibit *ih = NULL;
        size_t before = errs.total;
        int irc = nd_inhibit_from_config(cfg, &ih, &errs);
        FUZZ_CHECK((irc == ND_OK) == (errs.total == before) && (irc == ND_OK) == (ih != NULL),
                   "inhibit rules: rc %d, %zu new errors", irc, errs.total - before);
        nd_inhibit_free(ih);
        /* As --check-config: the receivers, then the routing built over them. */
        size_t nr = cfg->nreceivers, nt = 0;
        struct nd_target_keys *keys = nd_xcalloc(nr ? nr : 1, sizeof *keys);
        struct nd_route_receiver *rr = nd_xcalloc(nr ? nr : 1, sizeof *rr);
        for (size_t i = 0; i < nr; i++) {
            struct nd_receiver_config *rc_ = &cfg->receivers[i];
            rr[i] = (struct nd_route_receiver){rc_->name, rc_->type, NULL, ND_ROUTE_NO_TARGET};
            if (nd_receiver_check_keys(rc_, &cfg->delivery, tmpl, &keys[i], &errs) == ND_OK) {
                rr[i].keys = &keys[i];
                if (keys[i].enabled)
                    rr[i].target = nt++;
            }
        }
        struct nd_route *route = NULL;
        nd_route_new(cfg, rr, nr, nt, &route, &errs);
        nd_route_free(route);
        for (size_t i = 0; i < nr; i++)
            nd_target_keys_deinit(&keys[i]);
        free(keys);
        free(rr);
    } else {
        FUZZ_CHECK(cfg == NULL && errs.n > 0, "refused without an error message");
    }
    FUZZ_CHECK(errs.total >= errs.n, "total %zu < n %zu", errs.total, errs.n);
    for (size_t i = 0; i < errs.n; i++)
        FUZZ_CHECK(strncmp(errs.msgs[i], NAME, strlen(NAME)) == 0, "error without the file: %s",
                   errs.msgs[i]);
    nd_config_errors_deinit(&errs);
    nd_config_free(cfg);
    free(text);
    return 0;
}
