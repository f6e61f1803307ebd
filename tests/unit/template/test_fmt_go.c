/* test_fmt_go.c - printf's float verbs at every precision and its quoting
 * verbs, against the outputs of Go's fmt in go_floats.h (tools/tmplcheck). */
#include <stdint.h>
#include <string.h>

#include "../../tap.h"
#include "tmpl_int.h"

#include "go_floats.h"

static char got[1 << 12];

/* Sprintf of one argument, or "ERR" when the printer reports a failure. */
static const char *sprintf1(const char *fmt, const struct tv *arg)
{
    struct nd_buf b;
    nd_buf_init(&b, sizeof got - 1);
    nd_tmpl__val_sprintf(NULL, &b, fmt, strlen(fmt), arg, 1);
    snprintf(got, sizeof got, "%s", nd_buf_cstr(&b));
    nd_buf_deinit(&b);
    return got;
}

int main(void)
{
    for (size_t i = 0; i < ND_ARRAY_LEN(GO_FLOATS); i++) {
        const struct go_float_case *c = &GO_FLOATS[i];
        double f;
        uint64_t bits = c->bits;
        memcpy(&f, &bits, sizeof f);
        struct tv v = nd_tmpl__val_float(f);
        is_str(sprintf1(c->fmt, &v), c->want, "%s of %016llx", c->fmt, c->bits);
    }
    for (size_t i = 0; i < ND_ARRAY_LEN(GO_QUOTES); i++) {
        const struct go_quote_case *c = &GO_QUOTES[i];
        struct tv v = c->is_int ? nd_tmpl__val_int(c->i) : nd_tmpl__val_str(c->s, strlen(c->s));
        if (c->is_int)
            is_str(sprintf1(c->fmt, &v), c->want, "%s of int %lld", c->fmt, c->i);
        else
            is_str(sprintf1(c->fmt, &v), c->want, "%s of string #%zu", c->fmt, i);
    }
    return done_testing();
}
