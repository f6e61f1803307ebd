/* tlsopt.h - the tls_* receiver keys, shared by the types that reach their
 * server through curl over TLS (webhook, email).
 *
 * Keys: tls_ca_file (PEM bundle trusted instead of the system's),
 * tls_cert_file + tls_key_file (a client certificate; both or neither),
 * tls_server_name (the name SNI and the certificate check use instead of
 * the URL's host), tls_insecure_skip_verify (default false: certificates
 * are verified).
 *
 * tls_server_name: curl has no "SNI override" option, so the URL's host is
 * replaced by the server name and CURLOPT_CONNECT_TO sends the connection
 * to the original host and port (nd_tls_opts_route).
 */
#ifndef NOTIFYD_TLSOPT_H
#define NOTIFYD_TLSOPT_H

#include <stdbool.h>

#include <curl/curl.h>

#include "notifyd/config.h"

struct nd_tls_opts {
    char *ca_file, *cert_file, *key_file; /* NULL = not set */
    char *server_name;                    /* NULL = the URL's host */
    bool insecure;
    struct curl_slist *connect_to; /* set by nd_tls_opts_route; curl borrows it */
};

/* Reads the four keys (marking them used) into *t (zeroed first) and
 * checks that tls_cert_file and tls_key_file come together; errors name
 * file:line:key. ND_OK or ND_EINVAL; deinit *t either way. */
int nd_tls_opts_config(struct nd_receiver_config *rc, struct nd_tls_opts *t,
                       struct nd_config_errors *errs);

/* With a server name: makes it the host of `u` and sets t->connect_to to
 * "NAME:PORT:HOST:PORT" (the original host and port, the scheme's default
 * port when the URL has none). *authority, when not NULL, gets the original
 * "host" or "host:port" (port only when the URL had one; heap), e.g. for an
 * HTTP Host header. Without a server name nothing changes (*authority =
 * NULL). ND_OK, or ND_EINVAL with err when the name is not a valid host. */
int nd_tls_opts_route(struct nd_tls_opts *t, CURLU *u, char **authority, char *err);

/* Sets the curl options the keys ask for (CAINFO, SSLCERT/SSLKEY, no
 * verification when insecure, CONNECT_TO); curl's defaults otherwise, which
 * verify the peer and the host name. */
void nd_tls_opts_setopt(const struct nd_tls_opts *t, CURL *easy);

void nd_tls_opts_deinit(struct nd_tls_opts *t);

#endif
