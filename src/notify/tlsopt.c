/* tlsopt.c - the tls_* receiver keys (tlsopt.h). */
#include "notifyd/tlsopt.h"

#include <stdlib.h>
#include <string.h>

#include "notifyd/util.h"

int nd_tls_opts_config(struct nd_receiver_config *rc, struct nd_tls_opts *t,
                       struct nd_config_errors *errs)
{
    size_t before = errs->total;

    memset(t, 0, sizeof(*t));
    t->ca_file = nd_receiver_config_strdup(rc, "tls_ca_file");
    t->cert_file = nd_receiver_config_strdup(rc, "tls_cert_file");
    t->key_file = nd_receiver_config_strdup(rc, "tls_key_file");
    t->server_name = nd_receiver_config_strdup(rc, "tls_server_name");
    nd_receiver_config_bool(rc, "tls_insecure_skip_verify", &t->insecure, errs);
    if (!t->cert_file != !t->key_file) {
        const char *key = t->cert_file ? "tls_cert_file" : "tls_key_file";
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, key), rc->section, key,
                            "tls_cert_file and tls_key_file go together");
    }
    return errs->total == before ? ND_OK : ND_EINVAL;
}

int nd_tls_opts_route(struct nd_tls_opts *t, CURLU *u, char **authority, char *err)
{
    char *host = NULL, *port = NULL, *explicit_port = NULL;
    int rc = ND_OK;

    if (authority)
        *authority = NULL;
    if (!t->server_name)
        return ND_OK;
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        rc = nd_seterr(err, ND_EINVAL, "the URL has no host");
        goto out;
    }
    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    curl_url_get(u, CURLUPART_PORT, &explicit_port, 0);
    if (curl_url_set(u, CURLUPART_HOST, t->server_name, 0) != CURLUE_OK) {
        rc = nd_seterr(err, ND_EINVAL, "not a valid host name");
        goto out;
    }
    {
        /* CONNECT_TO "HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT" */
        char *ct =
            nd_xasprintf("%s:%s:%s:%s", t->server_name, port ? port : "", host, port ? port : "");
        if (t->connect_to)
            curl_slist_free_all(t->connect_to);
        t->connect_to = curl_slist_append(NULL, ct);
        free(ct);
        if (!t->connect_to)
            abort(); /* curl_slist_append fails only on OOM */
    }
    if (authority)
        *authority = explicit_port ? nd_xasprintf("%s:%s", host, explicit_port) : nd_xstrdup(host);
out:
    curl_free(host);
    curl_free(port);
    curl_free(explicit_port);
    return rc;
}

void nd_tls_opts_setopt(const struct nd_tls_opts *t, CURL *easy)
{
    if (t->ca_file)
        curl_easy_setopt(easy, CURLOPT_CAINFO, t->ca_file);
    if (t->cert_file) {
        curl_easy_setopt(easy, CURLOPT_SSLCERT, t->cert_file);
        curl_easy_setopt(easy, CURLOPT_SSLKEY, t->key_file);
    }
    if (t->insecure) {
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (t->connect_to)
        curl_easy_setopt(easy, CURLOPT_CONNECT_TO, t->connect_to);
}

void nd_tls_opts_deinit(struct nd_tls_opts *t)
{
    free(t->ca_file);
    free(t->cert_file);
    free(t->key_file);
    free(t->server_name);
    if (t->connect_to)
        curl_slist_free_all(t->connect_to);
    memset(t, 0, sizeof(*t));
}
