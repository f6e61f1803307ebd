/* regex_int.h - shared between the files of src/regex only. */
#ifndef NOTIFYD_REGEX_INT_H
#define NOTIFYD_REGEX_INT_H

#include <stddef.h>
#include <stdint.h>

#include "notifyd/buf.h"

/* Translates pat into the PCRE2 pattern appended to out (NUL-terminated).
 * *ncap gets the number of capture groups; when names is not NULL, it is
 * initialised to hold "name\0" per group ("" for an unnamed one) and the
 * caller deinits it on success (on failure it is already deinited).
 * ND_OK, or ND_EINVAL/ND_ETOOBIG with Go's error text in err. */
int nd_re_syntax_translate(const char *pat, size_t plen, struct nd_buf *out, char *err,
                           uint32_t *ncap, struct nd_buf *names);
/* Writes Go's parse error "error parsing regexp: CODE: `EXPR`" into err (EXPR
 * cut to fit ND_ERRLEN); returns ND_EINVAL. */
int nd_re_syntax_error(char *err, const char *code, const char *expr, size_t elen);

#endif
