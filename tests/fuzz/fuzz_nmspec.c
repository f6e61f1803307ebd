/* fuzz_nmspec.c - the bodies of POST /api/v2/notifications and
 * /api/v2/verify (src/daemon/nmspec.c): the JSON, NM's Receiver and Config
 * objects mapped to receiver sections, the alert, and the receivers' own
 * validation of those sections with the explained errors.
 *
 * The first byte chooses verify (even) or notifications (odd); the rest is
 * the body. Checks beyond "no crash, no leak": a refusal has a message; an
 * accepted body has at least one section, each with literal secrets and a
 * field for every key; an explained error is not empty.
 */
#include <string.h>

#include "fuzz.h"
#include "notifyd/config.h"
#include "notifyd/engine.h"
#include "notifyd/nmspec.h"
#include "notifyd/template.h"
#include "notifyd/util.h"

static struct nd_template_set *tmpl;
static struct nd_delivery_config defaults;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[ND_ERRLEN];
    struct nd_config *cfg = NULL;
    struct nd_config_errors errs;
    (void)argc;
    (void)argv;
    nd_config_errors_init(&errs);
    if (nd_config_load_string(nd_config_default_text, "<default>", &cfg, &errs) != ND_OK)
        abort();
    defaults = cfg->delivery;
    nd_config_free(cfg);
    nd_config_errors_deinit(&errs);
    tmpl = nd_template_set_new();
    if (nd_template_set_add_defaults(tmpl, err) != ND_OK)
        abort();
    return 0;
}

void fuzz_cleanup(void)
{
    nd_template_set_free(tmpl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[ND_ERRLEN], msg[ND_ERRLEN];
    struct nd_nmspec *s = NULL;
    struct nd_nmspec_opts o = {.max_depth = 32, .alert = {.max_depth = 32}};

    if (size == 0)
        return 0;
    o.want_alert = data[0] & 1;
    err[0] = '\0';
    if (nd_nmspec_parse((const char *)data + 1, size - 1, &o, &s, err) != ND_OK) {
        FUZZ_CHECK(s == NULL && err[0], "refused without a message");
        return 0;
    }
    FUZZ_CHECK(s->nreceivers > 0, "accepted without a receiver");
    for (size_t i = 0; i < s->nreceivers; i++) {
        struct nd_nmspec_receiver *r = &s->receivers[i];
        FUZZ_CHECK(r->rc.literal_secrets, "section without literal secrets");
        for (size_t k = 0; k < r->rc.nkvs; k++)
            FUZZ_CHECK(r->paths[k] && r->paths[k][0], "key %s without a field", r->rc.kvs[k].key);
        struct nd_config_errors errs;
        nd_config_errors_init(&errs);
        nd_receiver_check(&r->rc, &defaults, tmpl, &errs);
        for (size_t k = 0; k < errs.n; k++) {
            nd_nmspec_explain(r, errs.msgs[k], msg, sizeof msg);
            FUZZ_CHECK(msg[0], "empty explained error");
        }
        nd_config_errors_deinit(&errs);
    }
    nd_nmspec_free(s);
    return 0;
}
