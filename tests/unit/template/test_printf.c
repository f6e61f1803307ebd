/* test_printf.c - fmt's verbs, flags, widths, precisions and error forms as
 * printf/print/println produce them. Expected values from Go 1.19. */
#include "../../tap.h"
#include "tmpl_test.h"

#include "cases_printf.inc"

int main(void)
{
    tt_run_cases(PRINTF_CASES, ND_ARRAY_LEN(PRINTF_CASES));
    T_IS("{{printf \"%v|%v|%v\" 0.1 1e-5 123456.0}}", "0.1|1e-05|123456");
    T_IS("{{printf \"%5.1f|%-6.2e|\" 2.25 1000.0}}", "  2.2|1.00e+03|");
    T_IS("{{printf \"%s\" (index .Alerts 1).EndsAt}}", "2024-05-01 03:04:05.5 +0000 UTC");
    return done_testing();
}
