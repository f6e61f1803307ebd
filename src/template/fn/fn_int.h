/* fn_int.h - shared between the files of src/template/fn only. */
#ifndef NOTIFYD_TMPL_FN_INT_H
#define NOTIFYD_TMPL_FN_INT_H

#include <stddef.h>

/* Whether regexp/syntax knows \p{name} (a category, a script or "Any"). */
int nd_unicode_prop_known(const char *name, size_t n);

#endif
