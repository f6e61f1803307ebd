/* config_int.h - internals shared by the files of src/config only.
 *
 * config.c is the loader (reader, raw collection, typed keys); secret.c
 * reads files with a size bound and resolves env:/file: secrets; paths.c
 * expands the file lists of [template] (glob patterns).
 */
#ifndef NOTIFYD_CONFIG_INT_H
#define NOTIFYD_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "notifyd/config.h"

/* Blanks inih strips around names and values ('\n' is never inside a line). */
static inline bool nd__config_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Reads at most `max` bytes of a file into a NUL-terminated heap string.
 * ND_ETOOBIG when it is longer; ND_ERR with errno set when it cannot be read. */
int nd__config_read_file(const char *path, size_t max, char **out, size_t *len_out);

/* Expands a list of paths and glob patterns ("a.tmpl, more/x*.tmpl" or one
 * per line) of key `kv` in `section` of config file `file` into *v / *n,
 * replacing what they held. Every problem is added to errs naming
 * file:line: [section] key; returns ND_OK or ND_EINVAL. */
int nd__config_parse_paths(const char *file, const char *section, const struct nd_config_kv *kv,
                           char ***v, size_t *n, struct nd_config_errors *errs);
void nd__config_free_paths(char **v, size_t n);

#endif
