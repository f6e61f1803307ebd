/* webhook.c - the webhook receiver: POST the notification as NM's JSON.
 *
 * Keys: url (required, http/https), headers ("Name: value" per line),
 * basic_auth_user, basic_auth_password, bearer_token (wins over basic, as
 * in NM), tls_ca_file, tls_cert_file + tls_key_file (both or neither),
 * tls_server_name, tls_insecure_skip_verify, proxy_url, template,
 * template_type. Secrets may be literal, env:VAR or file:PATH and are
 * never logged.
 *
 * The body is NM's webhook JSON, unless `template` is set: then it is the
 * rendered text (NM's Text(): trailing blanks trimmed), still sent as
 * application/json as NM does.
 *
 * The tls_* keys are shared with the email type (tlsopt.h). With
 * tls_server_name the URL's host becomes the server name and a Host header
 * keeps what the URL said, as Go does.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "notifyd/payload.h"
#include "notifyd/receiver.h"
#include "notifyd/tlsopt.h"
#include "notifyd/util.h"

struct webhook {
    char *url;
    char **headers; /* "Name: value" */
    size_t nheaders;
    bool user_content_type;
    char *bearer; /* secret */
    char *user;
    char *password; /* secret */
    struct nd_tls_opts tls;
    char *proxy;
    char *host_header;                /* "Host: orig[:port]" when tls_server_name is set */
    struct curl_slist *req_headers;   /* every request's headers, built once; curl borrows it */
    struct nd_receiver_template tmpl; /* name NULL = the raw JSON body */
};

static void webhook_free(void *p)
{
    struct webhook *w = p;
    size_t i;

    if (!w)
        return;
    free(w->url);
    for (i = 0; i < w->nheaders; i++)
        free(w->headers[i]);
    free(w->headers);
    if (w->bearer) {
        memset(w->bearer, 0, strlen(w->bearer));
        free(w->bearer);
    }
    if (w->password) {
        memset(w->password, 0, strlen(w->password));
        free(w->password);
    }
    free(w->user);
    nd_tls_opts_deinit(&w->tls);
    free(w->proxy);
    free(w->host_header);
    if (w->req_headers) {
        struct curl_slist *h;
        /* It holds the bearer token. */
        for (h = w->req_headers; h; h = h->next)
            memset(h->data, 0, strlen(h->data));
        curl_slist_free_all(w->req_headers);
    }
    nd_receiver_template_deinit(&w->tmpl);
    free(w);
}

static void parse_headers(struct webhook *w, struct nd_receiver_config *rc,
                          struct nd_config_errors *errs)
{
    const char *s = NULL;
    const char *p;

    nd_receiver_config_string(rc, "headers", &s);
    if (!s)
        return;
    for (p = s; *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        size_t i;
        bool ok = colon && colon > p;

        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\r'))
            len--;
        for (i = 0; ok && p + i < colon; i++)
            if (p[i] <= ' ' || p[i] >= 0x7f)
                ok = false;
        if (len > 0 && !ok) {
            nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "headers"), rc->section,
                                "headers", "want one \"Name: value\" per line, got \"%.*s\"",
                                (int)len, p);
        } else if (len > 0) {
            w->headers = nd_xrealloc(w->headers, (w->nheaders + 1) * sizeof(*w->headers));
            w->headers[w->nheaders++] = nd_xstrndup(p, len);
            if ((size_t)(colon - p) == 12 && strncasecmp(p, "Content-Type", 12) == 0)
                w->user_content_type = true;
        }
        if (!eol)
            break;
        p = eol + 1;
    }
}

/* Validates the URL and, with a server name, prepares the SNI override. */
static void check_url(struct webhook *w, struct nd_receiver_config *rc,
                      struct nd_config_errors *errs)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *authority = NULL, *url = NULL;
    char err[ND_ERRLEN];
    int line = nd_receiver_config_line(rc, "url");

    if (!u)
        abort();
    if (curl_url_set(u, CURLUPART_URL, w->url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        nd_config_error_add(errs, rc->file, line, rc->section, "url", "not a valid URL");
        goto out;
    }
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        nd_config_error_add(errs, rc->file, line, rc->section, "url",
                            "scheme must be http or https, got \"%s\"", scheme);
        goto out;
    }
    if (!w->tls.server_name)
        goto out;
    if (nd_tls_opts_route(&w->tls, u, &authority, err) != ND_OK ||
        curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "tls_server_name"),
                            rc->section, "tls_server_name", "not a valid host name");
        goto out;
    }
    w->host_header = nd_xasprintf("Host: %s", authority);
    free(w->url);
    w->url = nd_xstrdup(url);
out:
    free(authority);
    curl_free(scheme);
    curl_free(host);
    curl_free(url);
    curl_url_cleanup(u);
}

/* The headers are the same for every request of the receiver: built once,
 * not per notification (curl copies nothing, so the list lives in w). */
static void build_headers(struct webhook *w)
{
    struct curl_slist *l = NULL;
    size_t i;

    if (!w->user_content_type)
        l = curl_slist_append(l, "Content-Type: application/json");
    /* curl would send "Expect: 100-continue" for large bodies and wait for
     * a 100 the server may never send. */
    l = curl_slist_append(l, "Expect:");
    for (i = 0; l && i < w->nheaders; i++)
        l = curl_slist_append(l, w->headers[i]);
    if (l && w->host_header)
        l = curl_slist_append(l, w->host_header);
    if (l && w->bearer) {
        char *h = nd_xasprintf("Authorization: Bearer %s", w->bearer);
        l = curl_slist_append(l, h);
        memset(h, 0, strlen(h));
        free(h);
    }
    if (!l)
        abort(); /* curl_slist_append fails only on OOM */
    w->req_headers = l;
}

static int webhook_configure(struct nd_receiver_config *rc, const struct nd_template_set *templates,
                             void **state, struct nd_config_errors *errs)
{
    size_t before = errs->total;
    struct webhook *w = nd_xcalloc(1, sizeof(*w));

    w->url = nd_receiver_config_strdup(rc, "url");
    parse_headers(w, rc, errs);
    w->user = nd_receiver_config_strdup(rc, "basic_auth_user");
    w->password = nd_receiver_config_secret(rc, "basic_auth_password", true, errs);
    w->bearer = nd_receiver_config_secret(rc, "bearer_token", true, errs);
    nd_tls_opts_config(rc, &w->tls, errs);
    w->proxy = nd_receiver_config_strdup(rc, "proxy_url");
    nd_receiver_template_config(rc, templates, NULL, &w->tmpl, errs);

    if (!w->url)
        nd_config_error_add(errs, rc->file, rc->line, rc->section, "url", "missing key");
    else
        check_url(w, rc, errs);
    if (w->password && !w->user)
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "basic_auth_password"),
                            rc->section, "basic_auth_password", "needs basic_auth_user");
    if (errs->total != before) {
        webhook_free(w);
        *state = NULL;
        return ND_EINVAL;
    }
    build_headers(w);
    *state = w;
    return ND_OK;
}

static int webhook_build(void *state, const struct nd_notification *n, const char *prepared,
                         struct nd_request *req, char *err)
{
    struct webhook *w = state;

    ND_UNUSED(prepared);
    if (w->tmpl.name) {
        /* A render error fails the job: build errors are not retried. */
        if (nd_receiver_template_render(&w->tmpl, n, &req->body, err) != ND_OK)
            return ND_EINVAL;
    } else if (nd_payload_webhook_json(n, &req->body) != ND_OK) {
        return nd_seterr(err, ND_ETOOBIG, "body over %u bytes", ND_REQUEST_BODY_MAX);
    }
    req->url = nd_xstrdup(w->url);
    req->method = "POST";
    /* req->headers stays NULL: setopt hands curl the receiver's list. */
    return ND_OK;
}

static int webhook_setopt(void *state, CURL *easy, struct nd_request *req, char *err)
{
    struct webhook *w = state;

    ND_UNUSED(req);
    ND_UNUSED(err);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, w->req_headers);
    /* Bearer wins over basic, as in NM. */
    if (w->user && !w->bearer) {
        curl_easy_setopt(easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(easy, CURLOPT_USERNAME, w->user);
        curl_easy_setopt(easy, CURLOPT_PASSWORD, w->password ? w->password : "");
    }
    nd_tls_opts_setopt(&w->tls, easy);
    if (w->proxy)
        curl_easy_setopt(easy, CURLOPT_PROXY, w->proxy);
    return ND_OK;
}

const struct nd_receiver_type nd_receiver_type_webhook = {
    .name = "webhook",
    .configure = webhook_configure,
    .free_state = webhook_free,
    .build = webhook_build,
    .setopt = webhook_setopt,
};
