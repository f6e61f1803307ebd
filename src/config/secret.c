/* secret.c - env:VAR and file:PATH secrets (see config.h), and the bounded
 * file reader the loader shares. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "notifyd/util.h"

#define MAX_SECRET (64 * 1024)

int nd__config_read_file(const char *path, size_t max, char **out, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ND_ERR;
    char *data = nd_xmalloc(max + 2);
    size_t len = fread(data, 1, max + 1, f);
    int rd_errno = ferror(f) ? errno : 0;
    fclose(f);
    if (rd_errno) {
        free(data);
        errno = rd_errno;
        return ND_ERR;
    }
    if (len > max) {
        free(data);
        return ND_ETOOBIG;
    }
    data[len] = '\0';
    *out = data;
    *len_out = len;
    return ND_OK;
}

int nd_config_secret(const char *spec, char **out, char *err)
{
    *out = NULL;
    if (strncmp(spec, "env:", 4) == 0) {
        const char *var = spec + 4;
        if (!*var)
            return nd_seterr(err, ND_ERR, "env: needs a variable name (env:VAR)");
        const char *v = getenv(var);
        if (!v)
            return nd_seterr(err, ND_ERR, "environment variable %s is not set", var);
        if (strlen(v) > MAX_SECRET)
            return nd_seterr(err, ND_ERR, "environment variable %s is longer than %d bytes", var,
                             MAX_SECRET);
        *out = nd_xstrdup(v);
        return ND_OK;
    }
    if (strncmp(spec, "file:", 5) == 0) {
        const char *path = spec + 5;
        char *data;
        size_t len;
        if (!*path)
            return nd_seterr(err, ND_ERR, "file: needs a path (file:PATH)");
        int rc = nd__config_read_file(path, MAX_SECRET, &data, &len);
        if (rc == ND_ETOOBIG)
            return nd_seterr(err, ND_ERR, "secret file %s is larger than %d bytes", path,
                             MAX_SECRET);
        if (rc != ND_OK)
            return nd_seterr(err, ND_ERR, "cannot read secret file %s: %s", path, strerror(errno));
        if (memchr(data, '\0', len)) {
            free(data);
            return nd_seterr(err, ND_ERR, "secret file %s contains a NUL byte", path);
        }
        /* Editors add a final newline; a secret never ends with one. */
        if (len > 0 && data[len - 1] == '\n')
            data[--len] = '\0';
        if (len > 0 && data[len - 1] == '\r')
            data[--len] = '\0';
        *out = data;
        return ND_OK;
    }
    *out = nd_xstrdup(spec);
    return ND_OK;
}
