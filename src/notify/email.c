/* email.c - the email receiver: SMTP through libcurl on the engine's multi.
 *
 * Keys are in docs/receivers.md. A notification is rendered once, when it
 * is submitted (parts()): subject, body and, for an html mail, the text
 * part; the MIME body (mail_msg.h) is kept with the notification, so
 * retries resend the same message (same Date and Message-ID). Fan-out: one
 * lane with every recipient in RCPT TO, or with send_separately one lane
 * (one SMTP session, its own retries) per recipient.
 *
 * Each message is one SMTP session (CURLOPT_FORBID_REUSE): curl 7.88 would
 * otherwise hand a pooled connection made for one receiver to another
 * receiver of the same host without comparing the STARTTLS requirement or
 * the TLS settings (url.c ConnectionExists only compares SSL settings for
 * implicit-TLS schemes).
 *
 * libcurl 7.88 waits for the replies to the end of the message and to QUIT
 * inside its own call, without returning to the loop ("More non-blocking"
 * in curl's TODO): a server slow to give them holds the loop, each wait
 * bounded by the receiver's timeout (the transfer's, and the engine's
 * CURLOPT_SERVER_RESPONSE_TIMEOUT for QUIT). docs/receivers.md has the
 * figures.
 *
 * Verdict: curl's result plus the last SMTP reply code (CURLINFO_RESPONSE_
 * CODE, which curl keeps on failure): 5xx fails at once, 4xx and transport
 * errors are retried. The reply's text comes from the reply lines curl
 * passes to the header callback (the engine keeps them in r->headers).
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/log.h"
#include "notifyd/mail_msg.h"
#include "notifyd/receiver.h"
#include "notifyd/tlsopt.h"
#include "notifyd/url.h"
#include "notifyd/util.h"

#define DEFAULT_HTML    "nm.default.html"
#define DEFAULT_TEXT    "nm.default.text"
#define DEFAULT_SUBJECT "nm.default.subject"
#define IMPLICIT_PORT   465 /* RFC 8314: submissions over implicit TLS */

struct email {
    char *name; /* the receiver's, for log lines */
    char *url;  /* smtp[s]://host:port/<hello> */
    char *mail_from;
    struct nd_mail_addrs from; /* exactly one */
    struct nd_mail_addrs to;
    char **rcpt; /* "<addr>" per recipient, for MAIL_RCPT */
    char *msgid_domain;
    char *user, *password, *authzid; /* password: secret */
    const char *login_options;
    bool require_tls, separately;
    struct nd_tls_opts tls;
    struct nd_receiver_template body;    /* html or text */
    struct nd_receiver_template text;    /* the text/plain part of an html mail */
    struct nd_receiver_template subject; /* text */
};

/* One notification, shared by its lanes until the last one ends. */
struct mail {
    char *subject;
    size_t subject_len;
    char date[ND_MAIL_DATE_LEN];
    uint32_t lanes;
    char (*msgid)[ND_MAIL_MSGID_LEN]; /* one per lane */
    struct nd_buf mime;
};

static void email_free(void *p)
{
    struct email *m = p;
    size_t i;

    if (!m)
        return;
    free(m->name);
    free(m->url);
    free(m->mail_from);
    for (i = 0; m->rcpt && i < m->to.n; i++)
        free(m->rcpt[i]);
    free(m->rcpt);
    nd_mail_addrs_deinit(&m->from);
    nd_mail_addrs_deinit(&m->to);
    free(m->msgid_domain);
    free(m->user);
    nd_secret_free(m->password);
    free(m->authzid);
    nd_tls_opts_deinit(&m->tls);
    nd_receiver_template_deinit(&m->body);
    nd_receiver_template_deinit(&m->text);
    nd_receiver_template_deinit(&m->subject);
    free(m);
}

static void key_error(struct nd_receiver_config *rc, const char *key, struct nd_config_errors *errs,
                      const char *msg)
{
    nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, key), rc->section, key, "%s",
                        msg);
}

static void parse_addrs(struct nd_receiver_config *rc, const char *key, struct nd_mail_addrs *out,
                        struct nd_config_errors *errs)
{
    const char *s = NULL;
    char err[ND_ERRLEN];

    nd_receiver_config_string(rc, key, &s);
    if (!s || !s[0]) {
        nd_config_error_add(errs, rc->file, rc->line, rc->section, key, "missing key");
        return;
    }
    if (nd_mail_addrs_parse(s, out, err) != ND_OK)
        key_error(rc, key, errs, err);
    else if (out->n == 0)
        key_error(rc, key, errs, "no address");
}

/* A host name (letters, digits, '-', '_', '.') or an IPv4 address. */
static bool host_ok(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > 253)
        return false;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

/* smarthost = host:port, [v6]:port. Returns the "host:port" part of the URL
 * (heap) and the port, or NULL after an error. */
static char *parse_smarthost(struct nd_receiver_config *rc, struct nd_config_errors *errs,
                             unsigned *port_out)
{
    const char *s = NULL, *colon, *hend;
    char *end;
    unsigned long port;

    nd_receiver_config_string(rc, "smarthost", &s);
    if (!s || !s[0]) {
        nd_config_error_add(errs, rc->file, rc->line, rc->section, "smarthost", "missing key");
        return NULL;
    }
    if (s[0] == '[') {
        char lit[64];
        unsigned char bin[16];

        hend = strchr(s, ']');
        if (!hend || hend[1] != ':' || (size_t)(hend - s - 1) >= sizeof(lit)) {
            key_error(rc, "smarthost", errs, "want host:port or [IPv6]:port");
            return NULL;
        }
        memcpy(lit, s + 1, (size_t)(hend - s - 1));
        lit[hend - s - 1] = '\0';
        if (inet_pton(AF_INET6, lit, bin) != 1) {
            key_error(rc, "smarthost", errs, "not an IPv6 address in brackets");
            return NULL;
        }
        colon = hend + 1;
        hend++;
    } else {
        colon = strrchr(s, ':');
        if (!colon) {
            key_error(rc, "smarthost", errs, "want host:port (the port is required)");
            return NULL;
        }
        hend = colon;
        if (memchr(s, ':', (size_t)(colon - s))) {
            key_error(rc, "smarthost", errs, "write an IPv6 address in brackets: [::1]:25");
            return NULL;
        }
        if (!host_ok(s, (size_t)(colon - s))) {
            key_error(rc, "smarthost", errs, "not a host name");
            return NULL;
        }
    }
    port = strtoul(colon + 1, &end, 10);
    if (colon[1] < '0' || colon[1] > '9' || *end || port < 1 || port > 65535) {
        key_error(rc, "smarthost", errs, "the port must be 1..65535");
        return NULL;
    }
    *port_out = (unsigned)port;
    return nd_xasprintf("%.*s:%lu", (int)(hend - s), s, port);
}

/* A template key that is not `template`: the name or invocation must exist
 * (an invocation's every name), or the default when absent. */
static void named_template(struct nd_receiver_config *rc, const struct nd_template_set *set,
                           const char *key, const char *def, struct nd_receiver_template *out,
                           struct nd_config_errors *errs)
{
    struct nd_config_kv *kv = nd_receiver_config_get(rc, key);
    char err[ND_ERRLEN];

    memset(out, 0, sizeof(*out));
    out->set = set;
    out->mode = ND_TEMPLATE_TEXT;
    if (kv && nd_template_check_ref(set, kv->value, err) != ND_OK) {
        nd_config_error_add(errs, rc->file, kv->line, rc->section, key, "%s", err);
        return;
    }
    if (!kv && !nd_template_set_lookup(set, def)) {
        nd_config_error_add(errs, rc->file, rc->line, rc->section, key,
                            "the default template \"%s\" is not defined", def);
        return;
    }
    out->name = nd_xstrdup(kv ? kv->value : def);
}

static void configure_templates(struct email *m, struct nd_receiver_config *rc,
                                const struct nd_template_set *set, struct nd_config_errors *errs)
{
    struct nd_config_kv *tt = nd_receiver_config_get(rc, "template_type");
    bool html = !tt || strcmp(tt->value, "html") == 0;
    const char *def = html ? DEFAULT_HTML : DEFAULT_TEXT;

    nd_receiver_template_config(rc, set, def, &m->body, errs);
    if (html)
        m->body.mode = ND_TEMPLATE_HTML;
    if (!nd_receiver_config_get(rc, "template") && !nd_template_set_lookup(set, def))
        nd_config_error_add(errs, rc->file, rc->line, rc->section, "template",
                            "the default template \"%s\" is not defined", def);
    if (html)
        named_template(rc, set, "text_template", DEFAULT_TEXT, &m->text, errs);
    else if (nd_receiver_config_get(rc, "text_template"))
        key_error(rc, "text_template", errs,
                  "only for template_type = html (the text part); a text mail uses template");
    named_template(rc, set, "subject_template", DEFAULT_SUBJECT, &m->subject, errs);
}

static void configure_auth(struct email *m, struct nd_receiver_config *rc,
                           struct nd_config_errors *errs)
{
    char *password = nd_receiver_config_secret(rc, "auth_password", false, errs);
    char *secret = nd_receiver_config_secret(rc, "auth_secret", false, errs);

    m->user = nd_receiver_config_strdup(rc, "auth_username");
    m->authzid = nd_receiver_config_strdup(rc, "auth_identity");
    if (password && secret) {
        key_error(rc, "auth_secret", errs,
                  "set auth_password (PLAIN, LOGIN) or auth_secret (CRAM-MD5), not both");
    } else if ((password || secret) && !m->user) {
        key_error(rc, password ? "auth_password" : "auth_secret", errs, "needs auth_username");
    } else if (m->user && !password && !secret) {
        key_error(rc, "auth_username", errs, "needs auth_password or auth_secret");
    } else if (m->authzid && !password) {
        key_error(rc, "auth_identity", errs, "needs auth_password (it is PLAIN's authzid)");
    }
    /* The credential chooses the mechanisms; curl takes the first one the
     * server offers in its own order of preference. */
    m->login_options = secret ? "AUTH=CRAM-MD5" : "AUTH=PLAIN;AUTH=LOGIN";
    m->password = password ? password : secret;
    if (password && secret)
        nd_secret_free(secret);
}

/* The URL: scheme, host:port, and the EHLO name as the path (curl says
 * EHLO <path>; without one, the machine's host name). */
static void build_url(struct email *m, struct nd_receiver_config *rc, const char *hostport,
                      bool implicit_tls, const char *hello, struct nd_config_errors *errs)
{
    struct nd_buf u;
    CURLU *cu = curl_url();
    char err[ND_ERRLEN], *url = NULL;

    if (!cu)
        abort();
    nd_buf_init(&u, 1024);
    nd_buf_printf(&u, "%s://%s/", implicit_tls ? "smtps" : "smtp", hostport);
    if (hello)
        nd_url_encode(&u, hello, strlen(hello));
    if (curl_url_set(cu, CURLUPART_URL, nd_buf_cstr(&u), 0) != CURLUE_OK) {
        key_error(rc, "smarthost", errs, "not a valid host:port");
        goto out;
    }
    if (nd_tls_opts_route(&m->tls, cu, NULL, err) != ND_OK) {
        key_error(rc, "tls_server_name", errs, err);
        goto out;
    }
    if (curl_url_get(cu, CURLUPART_URL, &url, 0) != CURLUE_OK) {
        key_error(rc, "smarthost", errs, "not a valid host:port");
        goto out;
    }
    m->url = nd_xstrdup(url);
out:
    curl_free(url);
    curl_url_cleanup(cu);
    nd_buf_deinit(&u);
}

static int email_configure(struct nd_receiver_config *rc, const struct nd_template_set *templates,
                           void **state, struct nd_config_errors *errs)
{
    size_t before = errs->total, i;
    struct email *m = nd_xcalloc(1, sizeof(*m));
    char *hostport, *hello;
    unsigned port = 0;
    bool implicit_tls;

    m->name = nd_xstrdup(rc->name);
    parse_addrs(rc, "to", &m->to, errs);
    if (m->to.n > ND_PARTS_LANES_MAX)
        key_error(rc, "to", errs, "at most 1024 recipients");
    parse_addrs(rc, "from", &m->from, errs);
    if (m->from.n > 1)
        key_error(rc, "from", errs, "want one address");
    hostport = parse_smarthost(rc, errs, &port);
    implicit_tls = port == IMPLICIT_PORT;
    nd_receiver_config_bool(rc, "implicit_tls", &implicit_tls, errs);
    hello = nd_receiver_config_strdup(rc, "hello");
    if (hello && (strlen(hello) > ND_MAIL_DOMAIN_MAX || !nd_mail_domain_valid(hello)))
        key_error(rc, "hello", errs,
                  "want a host name or an address literal ([192.0.2.1], [IPv6:2001:db8::1])");
    nd_receiver_config_bool(rc, "require_tls", &m->require_tls, errs);
    nd_receiver_config_bool(rc, "send_separately", &m->separately, errs);
    configure_auth(m, rc, errs);
    nd_tls_opts_config(rc, &m->tls, errs);
    configure_templates(m, rc, templates, errs);
    if (hostport && errs->total == before)
        build_url(m, rc, hostport, implicit_tls, hello, errs);
    if (errs->total != before) {
        free(hostport);
        free(hello);
        email_free(m);
        *state = NULL;
        return ND_EINVAL;
    }
    m->mail_from = nd_xasprintf("<%s>", m->from.v[0].addr);
    m->rcpt = nd_xcalloc(m->to.n, sizeof(*m->rcpt));
    for (i = 0; i < m->to.n; i++)
        m->rcpt[i] = nd_xasprintf("<%s>", m->to.v[i].addr);
    m->msgid_domain = nd_xstrdup(hello ? hello : nd_mail_addr_domain(m->from.v[0].addr));
    free(hostport);
    free(hello);
    *state = m;
    return ND_OK;
}

static void mail_free(void *state, void *ud)
{
    struct mail *ml = ud;

    ND_UNUSED(state);
    if (!ml)
        return;
    free(ml->subject);
    free(ml->msgid);
    nd_buf_deinit(&ml->mime);
    free(ml);
}

static int render(const struct nd_receiver_template *t, const struct nd_template_data *d,
                  struct nd_buf *out, char *err)
{
    char msg[ND_ERRLEN];
    int rc = t->mode == ND_TEMPLATE_HTML ? nd_template_html(t->set, t->name, d, out, msg)
                                         : nd_template_text(t->set, t->name, d, out, msg);

    if (rc != ND_OK)
        nd_seterr(err, rc, "template %s: %s", t->name, msg);
    return rc;
}

static int email_parts(void *state, const struct nd_notification *n, struct nd_parts *out,
                       char *err)
{
    struct email *m = state;
    struct mail *ml = nd_xcalloc(1, sizeof(*ml));
    int64_t now = nd_now_wall_ns();
    struct nd_template_data *d = nd_template_data_from_notification(n, now);
    struct nd_buf subject, body, text;
    struct nd_mail_content c;
    bool html = m->body.mode == ND_TEMPLATE_HTML;
    uint32_t i;
    int rc;

    nd_buf_init(&subject, ND_REQUEST_BODY_MAX);
    nd_buf_init(&body, ND_REQUEST_BODY_MAX);
    nd_buf_init(&text, ND_REQUEST_BODY_MAX);
    nd_buf_init(&ml->mime, ND_REQUEST_BODY_MAX);
    rc = render(&m->subject, d, &subject, err);
    if (rc == ND_OK)
        rc = render(&m->body, d, &body, err);
    if (rc == ND_OK && html)
        rc = render(&m->text, d, &text, err);
    nd_template_data_free(d);
    if (rc == ND_OK) {
        c.text = html ? nd_buf_cstr(&text) : nd_buf_cstr(&body);
        c.text_len = html ? text.len : body.len;
        c.html = html ? nd_buf_cstr(&body) : NULL;
        c.html_len = html ? body.len : 0;
        if (nd_mail_mime(&ml->mime, &c) != ND_OK)
            rc = nd_seterr(err, ND_ETOOBIG, "message over %u bytes", ND_REQUEST_BODY_MAX);
    }
    nd_buf_deinit(&body);
    nd_buf_deinit(&text);
    if (rc != ND_OK) {
        nd_buf_deinit(&subject);
        mail_free(m, ml);
        return rc;
    }
    ml->subject = nd_buf_take(&subject, &ml->subject_len);
    nd_buf_deinit(&subject);
    nd_mail_date(now, ml->date);
    ml->lanes = m->separately ? (uint32_t)m->to.n : 1;
    ml->msgid = nd_xcalloc(ml->lanes, sizeof(*ml->msgid));
    for (i = 0; i < ml->lanes; i++)
        nd_mail_message_id(m->msgid_domain, ml->msgid[i]);
    out->lanes = ml->lanes;
    out->chunks = 1;
    out->ud = ml;
    return ND_OK;
}

static int email_build_part(void *state, const struct nd_notification *n,
                            const struct nd_part *part, const char *prepared,
                            struct nd_request *req, char *err)
{
    struct email *m = state;
    struct mail *ml = part->ud;
    size_t first = m->separately ? part->lane : 0;
    size_t nto = m->separately ? 1 : m->to.n, i;
    struct nd_mail_msg msg = {
        m->from.v, &m->to.v[first],       nto, ml->subject, ml->subject_len,
        ml->date,  ml->msgid[part->lane],
    };
    int rc;

    ND_UNUSED(n);
    ND_UNUSED(prepared);
    rc = nd_buf_reserve(&req->body, ml->mime.len + 1024);
    if (rc == ND_OK)
        rc = nd_mail_headers(&req->body, &msg);
    if (rc == ND_OK)
        rc = nd_buf_add(&req->body, ml->mime.data, ml->mime.len);
    if (rc != ND_OK)
        return nd_seterr(err, ND_ETOOBIG, "message over %u bytes", ND_REQUEST_BODY_MAX);
    for (i = 0; i < nto; i++) {
        req->mail_rcpt = curl_slist_append(req->mail_rcpt, m->rcpt[first + i]);
        if (!req->mail_rcpt)
            abort(); /* curl_slist_append fails only on OOM */
    }
    req->url = nd_xstrdup(m->url);
    /* Not POST: the engine would hand curl the body as POST fields; the
     * body goes up through the read callback set in setopt(). */
    req->method = "GET";
    return ND_OK;
}

static int email_build(void *state, const struct nd_notification *n, const char *prepared,
                       struct nd_request *req, char *err)
{
    ND_UNUSED(state);
    ND_UNUSED(n);
    ND_UNUSED(prepared);
    ND_UNUSED(req);
    return nd_seterr(err, ND_EINVAL, "email sends through parts");
}

/* curl's read callback over the request body (it runs inside curl: it only
 * copies bytes). */
static size_t upload_read(char *buf, size_t size, size_t nitems, void *ud)
{
    struct nd_request *req = ud;
    size_t room = size * nitems;
    size_t left = req->body.len - req->upload_pos;
    size_t n = left < room ? left : room;

    if (n > 0) {
        memcpy(buf, req->body.data + req->upload_pos, n);
        req->upload_pos += n;
    }
    return n;
}

static int upload_seek(void *ud, curl_off_t off, int origin)
{
    struct nd_request *req = ud;

    if (origin != SEEK_SET || off < 0 || (size_t)off > req->body.len)
        return CURL_SEEKFUNC_CANTSEEK;
    req->upload_pos = (size_t)off;
    return CURL_SEEKFUNC_OK;
}

static int email_setopt(void *state, CURL *easy, struct nd_request *req, char *err)
{
    struct email *m = state;

    ND_UNUSED(err);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(easy, CURLOPT_MAIL_FROM, m->mail_from);
    curl_easy_setopt(easy, CURLOPT_MAIL_RCPT, req->mail_rcpt);
    /* One message to several recipients: a recipient the server refuses
     * does not stop the message to the others (the refusal is logged by
     * classify). curl fails when every recipient is refused. The option's
     * name has three Ls in curl 7.69 to 8.1 (Debian 12's 7.88); later
     * headers keep that spelling as an alias. */
    if (!m->separately && m->to.n > 1)
        curl_easy_setopt(easy, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
    curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(easy, CURLOPT_READFUNCTION, upload_read);
    curl_easy_setopt(easy, CURLOPT_READDATA, req);
    curl_easy_setopt(easy, CURLOPT_SEEKFUNCTION, upload_seek);
    curl_easy_setopt(easy, CURLOPT_SEEKDATA, req);
    curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body.len);
    curl_easy_setopt(easy, CURLOPT_USE_SSL,
                     (long)(m->require_tls ? CURLUSESSL_ALL : CURLUSESSL_TRY));
    /* One session per message, see the top of the file. */
    curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
    if (m->user) {
        curl_easy_setopt(easy, CURLOPT_USERNAME, m->user);
        curl_easy_setopt(easy, CURLOPT_PASSWORD, m->password);
        curl_easy_setopt(easy, CURLOPT_LOGIN_OPTIONS, m->login_options);
        /* PLAIN's credentials with the AUTH command: one round trip less. */
        curl_easy_setopt(easy, CURLOPT_SASL_IR, 1L);
        if (m->authzid)
            curl_easy_setopt(easy, CURLOPT_SASL_AUTHZID, m->authzid);
    }
    nd_tls_opts_setopt(&m->tls, easy);
    return ND_OK;
}

/* One reply, by its last line ("250 text"; "250-" lines come before). */
struct reply {
    int code;
    const char *text; /* after the code and its separator */
    size_t len;
};

/* Walks the reply lines in r->headers; calls fn on the last line of each
 * reply, in order. */
static void each_reply(const struct nd_response *r, void (*fn)(const struct reply *, void *),
                       void *ud)
{
    const char *p = r->headers ? nd_buf_cstr(r->headers) : "";

    while (*p) {
        const char *eol = strchr(p, '\n');
        const char *end = eol ? eol : p + strlen(p);
        size_t len = (size_t)(end - p);

        if (len > 0 && p[len - 1] == '\r')
            len--;
        if (len >= 3 && p[0] >= '1' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
            p[2] <= '9' && (len == 3 || p[3] == ' ')) {
            struct reply rp;

            rp.code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
            rp.text = len > 4 ? p + 4 : p + len;
            rp.len = len > 4 ? len - 4 : 0;
            fn(&rp, ud);
        }
        if (!eol)
            break;
        p = eol + 1;
    }
}

struct find_reply {
    int code;
    struct reply found;
};

static void find_last(const struct reply *rp, void *ud)
{
    struct find_reply *f = ud;

    if (rp->code == f->code)
        f->found = *rp;
}

/* Printable ASCII only, so that a reply cannot break the log line. */
static void clean_text(const char *s, size_t n, char *out, size_t outlen)
{
    size_t i, k = 0;

    for (i = 0; i < n && k + 1 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        out[k++] = (c >= 0x20 && c < 0x7f) ? (char)c : ' ';
    }
    out[k] = '\0';
}

struct rcpt_scan {
    struct reply *v;
    size_t n, cap;
};

static void collect(const struct reply *rp, void *ud)
{
    struct rcpt_scan *s = ud;

    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 32;
        s->v = nd_xrealloc(s->v, s->cap * sizeof(*s->v));
    }
    s->v[s->n++] = *rp;
}

/* A message sent to several recipients was accepted: logs those the server
 * refused. The RCPT replies are the ones right before the last 354 (the
 * answer to DATA), in the order of `to`. */
static void log_refused(struct email *m, const struct nd_response *r)
{
    struct rcpt_scan s = {NULL, 0, 0};
    struct nd_buf list;
    size_t data = 0, i, refused = 0;
    bool found = false;

    each_reply(r, collect, &s);
    for (i = 0; i < s.n; i++)
        if (s.v[i].code == 354) {
            data = i;
            found = true;
        }
    nd_buf_init(&list, 2048);
    if (!found || data < m->to.n) {
        /* Replies missing (the header buffer's limit): only say so when a
         * refusal is visible at all. */
        for (i = 0; i < s.n; i++)
            if (s.v[i].code >= 400)
                refused++;
        if (refused)
            nd_buf_adds(&list, "unknown: the RCPT replies could not be matched");
    } else {
        for (i = 0; i < m->to.n; i++) {
            const struct reply *rp = &s.v[data - m->to.n + i];
            char text[160];

            if (rp->code / 100 == 2)
                continue;
            clean_text(rp->text, rp->len, text, sizeof(text));
            nd_buf_printf(&list, "%s%s: %d %s", refused++ ? "; " : "", m->to.v[i].addr, rp->code,
                          text);
        }
    }
    if (refused)
        nd_log(ND_LOG_WARN, "recipients refused, the message went to the others", "receiver",
               m->name, "type", "email", "refused", nd_buf_cstr(&list), NULL);
    nd_buf_deinit(&list);
    free(s.v);
}

static void email_classify(void *state, const struct nd_response *r, struct nd_verdict *v)
{
    struct email *m = state;
    struct find_reply f;
    long code = r->curl_code == CURLE_OK ? r->status : r->reply_code;
    char text[160] = "";

    v->delay_ns = -1;
    memset(&f, 0, sizeof(f));
    f.code = (int)code;
    if (code >= 100 && code <= 599) {
        each_reply(r, find_last, &f);
        if (f.found.code)
            clean_text(f.found.text, f.found.len, text, sizeof(text));
    }
    if (r->curl_code == CURLE_OK) {
        v->kind = ND_VERDICT_DELIVERED;
        snprintf(v->reason, sizeof(v->reason), "smtp %ld %s", code, text);
        if (!m->separately && m->to.n > 1)
            log_refused(m, r);
        return;
    }
    if (code >= 400 && code <= 599) {
        /* 5xx: the server will answer the same again. 4xx: a transient
         * refusal (greylisting, 421 service not available, 452...). */
        v->kind = code >= 500 ? ND_VERDICT_FAILED : ND_VERDICT_RETRY;
        snprintf(v->reason, sizeof(v->reason), "smtp %ld %s (%s)", code, text, r->curl_error);
        return;
    }
    if (r->curl_code == CURLE_USE_SSL_FAILED) {
        v->kind = ND_VERDICT_FAILED;
        snprintf(v->reason, sizeof(v->reason),
                 "the server does not offer STARTTLS and "
                 "require_tls is set (%s)",
                 r->curl_error);
        return;
    }
    if (r->curl_code == CURLE_LOGIN_DENIED) {
        /* Without an error reply: no mechanism in common. */
        v->kind = ND_VERDICT_FAILED;
        snprintf(v->reason, sizeof(v->reason), "no AUTH mechanism in common with the server (%s)",
                 r->curl_error);
        return;
    }
    /* Connection, TLS handshake, timeout, a reply curl could not read. */
    v->kind = ND_VERDICT_RETRY;
    snprintf(v->reason, sizeof(v->reason), "%s", r->curl_error);
}

const struct nd_receiver_type nd_receiver_type_email = {
    .name = "email",
    .configure = email_configure,
    .free_state = email_free,
    .build = email_build,
    .setopt = email_setopt,
    .classify = email_classify,
    .parts = email_parts,
    .build_part = email_build_part,
    .free_parts = mail_free,
};
