/* console.c - the console receiver: a local sink that prints each
 * notification on stdout, rendered with a template (nm.default.text unless
 * its `template` key says otherwise) with NM's Text() semantics, then one
 * newline. Its keys: template, template_type. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/receiver.h"
#include "notifyd/util.h"

#define CONSOLE_TEXT_MAX     (4u * 1024 * 1024)
#define CONSOLE_TEMPLATE_DEF "nm.default.text"

static FILE *console_stream;

void nd_console_set_stream(FILE *f)
{
    console_stream = f;
}

static void console_free(void *state)
{
    struct nd_receiver_template *t = state;

    if (!t)
        return;
    nd_receiver_template_deinit(t);
    free(t);
}

static int console_configure(struct nd_receiver_config *rc, const struct nd_template_set *templates,
                             void **state, struct nd_config_errors *errs)
{
    struct nd_receiver_template *t = nd_xcalloc(1, sizeof(*t));

    if (nd_receiver_template_config(rc, templates, CONSOLE_TEMPLATE_DEF, t, errs) != ND_OK) {
        console_free(t);
        *state = NULL;
        return ND_EINVAL;
    }
    *state = t;
    return ND_OK;
}

static void console_sink(void *state, const struct nd_notification *n, struct nd_verdict *v)
{
    const struct nd_receiver_template *t = state;
    FILE *f = console_stream ? console_stream : stdout;
    char err[ND_ERRLEN];
    struct nd_buf b;

    nd_buf_init(&b, CONSOLE_TEXT_MAX);
    v->delay_ns = -1;
    /* A template error will not fix itself: fail without a retry. */
    if (nd_receiver_template_render(t, n, &b, err) != ND_OK) {
        v->kind = ND_VERDICT_FAILED;
        snprintf(v->reason, sizeof(v->reason), "%s", err);
    } else if (nd_buf_addc(&b, '\n') != ND_OK) {
        v->kind = ND_VERDICT_FAILED;
        snprintf(v->reason, sizeof(v->reason), "text over %u bytes", CONSOLE_TEXT_MAX);
    } else if (fwrite(nd_buf_cstr(&b), 1, b.len, f) != b.len || fflush(f) != 0) {
        /* stdout closed or full: retrying will not help a local sink. */
        v->kind = ND_VERDICT_FAILED;
        snprintf(v->reason, sizeof(v->reason), "write to stdout failed");
    } else {
        v->kind = ND_VERDICT_DELIVERED;
        snprintf(v->reason, sizeof(v->reason), "printed");
    }
    nd_buf_deinit(&b);
}

const struct nd_receiver_type nd_receiver_type_console = {
    .name = "console",
    .configure = console_configure,
    .free_state = console_free,
    .sink = console_sink,
};
