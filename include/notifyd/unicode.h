/* unicode.h - UTF-8 decoding as Go does it, and Unicode case mapping and
 * character properties from tables generated out of Go's unicode package
 * (tools/tmplcheck), so that code matching Go's outputs (the template
 * functions, the RE2-syntax regexes) agrees with the Go version of the
 * reference outputs (Unicode 13.0.0).
 */
#ifndef NOTIFYD_UNICODE_H
#define NOTIFYD_UNICODE_H

#include <stddef.h>
#include <stdint.h>

/* Decodes one rune as Go's utf8.DecodeRune does: invalid input gives U+FFFD
 * with width 1. Needs n >= 1. */
uint32_t nd_unicode_decode_utf8(const char *s, size_t n, size_t *width);
/* Encodes cp (<= 0x10FFFF) into out (4 bytes); returns the length. */
size_t nd_unicode_encode_utf8(uint32_t cp, char *out);
/* unicode.ToUpper / ToLower / ToTitle of one code point. */
uint32_t nd_unicode_to_upper(uint32_t cp);
uint32_t nd_unicode_to_lower(uint32_t cp);
uint32_t nd_unicode_to_title(uint32_t cp);
int nd_unicode_is_letter(uint32_t cp); /* unicode.IsLetter */
int nd_unicode_is_digit(uint32_t cp);  /* unicode.IsDigit (Nd) */
int nd_unicode_is_space(uint32_t cp);  /* unicode.IsSpace */
int nd_unicode_is_print(uint32_t cp);  /* unicode.IsPrint */
/* Whether Go's regexp/syntax knows \p{name}: a general category, a script
 * or "Any" (name is n bytes, not NUL-terminated). */
int nd_unicode_prop_known(const char *name, size_t n);

#endif
