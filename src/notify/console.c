/* console.c - the console receiver: a local sink that prints each
 * notification as text on stdout (the template engine will render it
 * later). It has no keys of its own. */
#include <stdio.h>
#include <string.h>

#include "notifyd/payload.h"
#include "notifyd/receiver.h"
#include "notifyd/util.h"

#define CONSOLE_TEXT_MAX (4u * 1024 * 1024)

static FILE *console_stream;

void nd_console_set_stream(FILE *f)
{
    console_stream = f;
}

static int console_configure(struct nd_receiver_config *rc, void **state,
                             struct nd_config_errors *errs)
{
    ND_UNUSED(rc);
    ND_UNUSED(errs);
    *state = NULL;
    return ND_OK;
}

static void console_sink(void *state, const struct nd_notification *n, struct nd_verdict *v)
{
    FILE *f = console_stream ? console_stream : stdout;
    struct nd_buf b;

    ND_UNUSED(state);
    nd_buf_init(&b, CONSOLE_TEXT_MAX);
    v->delay_ns = -1;
    if (nd_payload_text(n, &b) != ND_OK) {
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
    .sink = console_sink,
};
