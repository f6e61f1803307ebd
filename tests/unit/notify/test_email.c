/* test_email.c - the email receiver without a server: its keys and the
 * errors naming file:line:key, the verdicts on SMTP replies and curl
 * errors, the refused recipients it logs, and the messages its parts
 * build (one lane for all recipients or one per recipient, the same
 * message on every attempt). */
#include <stdlib.h>
#include <string.h>

#include "notifyd/config.h"
#include "notifyd/engine.h"
#include "notifyd/receiver.h"
#include "notifyd/template.h"
#include "notifyd/util.h"
#include "helpers.h"
#include "logcap.h"
#include "tap.h"

static const char good_ini[] =
    "[receiver.all]\n"
    "type = email\n"
    "to = Ops <ops@example.com>, dev@example.com, \"Doe, J\" <jd@example.com>\n"
    "from = notifyd <nd@example.com>\n"
    "smarthost = mail.example.com:587\n"
    "hello = nd.example.com\n"
    "auth_username = nd\n"
    "auth_password = env:ND_TEST_MAIL_PW\n"
    "require_tls = true\n"
    "tls_ca_file = /etc/ssl/certs/ca-certificates.crt\n"
    "template_type = html\n"
    "subject_template = nm.subject\n"
    "\n"
    "[receiver.sep]\n"
    "type = email\n"
    "to = a@example.com, b@example.com\n"
    "from = nd@example.com\n"
    "smarthost = [::1]:465\n"
    "send_separately = true\n"
    "template_type = text\n"
    "auth_username = nd\n"
    "auth_secret = cram-secret\n";

/* name, section body (after "type = email"), file line of the error, key */
static const struct {
    const char *what, *body, *line, *key;
} bad[] = {
    {"missing to", "from = a@b.c\nsmarthost = h:25\n", ":1:", "to: missing key"},
    {"missing from", "to = a@b.c\nsmarthost = h:25\n", ":1:", "from: missing key"},
    {"missing smarthost", "to = a@b.c\nfrom = a@b.c\n", ":1:", "smarthost: missing key"},
    {"bad to", "to = a@b.c, nope\nfrom = a@b.c\nsmarthost = h:25\n", ":3:", "\"nope\""},
    {"two from", "to = a@b.c\nfrom = a@b.c, d@e.f\nsmarthost = h:25\n",
     ":4:", "from: want one address"},
    {"no port", "to = a@b.c\nfrom = a@b.c\nsmarthost = mail.example.com\n",
     ":5:", "the port is required"},
    {"bad port", "to = a@b.c\nfrom = a@b.c\nsmarthost = h:70000\n", ":5:", "1..65535"},
    {"bare IPv6", "to = a@b.c\nfrom = a@b.c\nsmarthost = ::1:25\n", ":5:", "in brackets"},
    {"bad host", "to = a@b.c\nfrom = a@b.c\nsmarthost = ho st:25\n", ":5:", "not a host name"},
    {"bad hello", "to = a@b.c\nfrom = a@b.c\nsmarthost = h:25\nhello = a b\n",
     ":6:", "hello: want a host name"},
    {"password and secret",
     "to = a@b.c\nfrom = a@b.c\nsmarthost = h:25\nauth_username = u\nauth_password = p\n"
     "auth_secret = s\n",
     ":8:", "not both"},
    {"password without user", "to = a@b.c\nfrom = a@b.c\nsmarthost = h:25\nauth_password = p\n",
     ":6:", "needs auth_username"},
    {"user without password", "to = a@b.c\nfrom = a@b.c\nsmarthost = h:25\nauth_username = u\n",
     ":6:", "needs auth_password or auth_secret"},
    {"unreadable secret",
     "to = a@b.c\nfrom = a@b.c\nsmarthost = h:25\nauth_username = u\n"
     "auth_password = file:/nonexistent/pw\n",
     ":7:", "auth_password"},
    {"bad template_type", "to = a@b.c\nfrom = a@b.c\nsmarthost = h:25\ntemplate_type = md\n",
     ":6:", "want text or html"},
    {"unknown template", "to = a@b.c\nfrom = a@b.c\nsmarthost = h:25\ntemplate = nope.x\n",
     ":6:", "nope.x"},
    {"unknown subject template",
     "to = a@b.c\nfrom = a@b.c\nsmarthost = h:25\nsubject_template = nope.s\n", ":6:", "nope.s"},
    {"text_template on a text mail",
     "to = a@b.c\nfrom = a@b.c\nsmarthost = h:25\ntemplate_type = text\n"
     "text_template = nm.default.text\n",
     ":7:", "only for template_type = html"},
    {"cert without key", "to = a@b.c\nfrom = a@b.c\nsmarthost = h:25\ntls_cert_file = /c.pem\n",
     ":6:", "go together"},
    {"bad bool", "to = a@b.c\nfrom = a@b.c\nsmarthost = h:25\nrequire_tls = maybe\n",
     ":6:", "require_tls"},
    {"unknown key", "to = a@b.c\nfrom = a@b.c\nsmarthost = h:25\ncc = x@y.z\n",
     ":6:", "cc: unknown key"},
};

static int has_error(const struct nd_config_errors *e, const char *a, const char *b)
{
    size_t i;

    for (i = 0; i < e->n; i++)
        if (strstr(e->msgs[i], a) && strstr(e->msgs[i], b))
            return 1;
    return 0;
}

static void test_config(const struct nd_template_set *set)
{
    struct nd_config_errors errs;
    struct nd_config *c = NULL;
    size_t i, j;

    setenv("ND_TEST_MAIL_PW", "pw", 1);
    nd_config_errors_init(&errs);
    is_int(nd_config_load_string(good_ini, "good.ini", &c, &errs), ND_OK, "good config loads");
    for (i = 0; c && i < c->nreceivers; i++) {
        is_int(nd_receiver_check(&c->receivers[i], &c->delivery, set, &errs), ND_OK,
               "check: %s valid", c->receivers[i].name);
    }
    for (j = 0; j < errs.n; j++)
        printf("# %s\n", errs.msgs[j]);
    nd_config_free(c);
    nd_config_errors_deinit(&errs);

    for (i = 0; i < ND_ARRAY_LEN(bad); i++) {
        char *ini = nd_xasprintf("[receiver.x]\ntype = email\n%s", bad[i].body);
        char where[32];

        c = NULL;
        nd_config_errors_init(&errs);
        snprintf(where, sizeof(where), "bad.ini%s", bad[i].line);
        if (nd_config_load_string(ini, "bad.ini", &c, &errs) == ND_OK) {
            is_int(nd_receiver_check(&c->receivers[0], &c->delivery, set, &errs), ND_EINVAL,
                   "%s: refused", bad[i].what);
            ok(has_error(&errs, where, bad[i].key), "%s: \"%s\" at %s", bad[i].what, bad[i].key,
               where);
            for (j = 0; j < errs.n; j++)
                printf("# %s\n", errs.msgs[j]);
        } else {
            ok(0, "%s: file loads", bad[i].what);
        }
        nd_config_free(c);
        nd_config_errors_deinit(&errs);
        free(ini);
    }
}

static void *configure(const struct nd_template_set *set, const char *ini)
{
    struct nd_config_errors errs;
    struct nd_config *c = NULL;
    void *state = NULL;
    size_t j;

    nd_config_errors_init(&errs);
    if (nd_config_load_string(ini, "t.ini", &c, &errs) == ND_OK)
        nd_receiver_type_email.configure(&c->receivers[0], set, &state, &errs);
    for (j = 0; j < errs.n; j++)
        printf("# %s\n", errs.msgs[j]);
    nd_config_free(c);
    nd_config_errors_deinit(&errs);
    return state;
}

static void verdict(void *state, int curl_code, long code, const char *replies,
                    struct nd_verdict *v)
{
    struct nd_buf body, hdr;
    struct nd_response r;

    nd_buf_init(&body, 16);
    nd_buf_init(&hdr, ND_RESPONSE_HEADERS_MAX);
    nd_buf_adds(&hdr, replies);
    memset(&r, 0, sizeof(r));
    r.curl_code = curl_code;
    r.curl_error = curl_code ? curl_easy_strerror((CURLcode)curl_code) : "";
    r.status = curl_code ? 0 : code;
    r.reply_code = code;
    r.body = &body;
    r.headers = &hdr;
    memset(v, 0, sizeof(*v));
    v->delay_ns = -1;
    nd_receiver_type_email.classify(state, &r, v);
    nd_buf_deinit(&body);
    nd_buf_deinit(&hdr);
}

#define GREET "220 mx ESMTP\r\n250-mx\r\n250 AUTH PLAIN\r\n250 2.1.0 OK\r\n"

static void test_verdicts(const struct nd_template_set *set)
{
    void *one = configure(set, "[receiver.one]\ntype = email\nto = a@example.com\n"
                               "from = n@example.com\nsmarthost = h:25\n");
    void *many = configure(set, "[receiver.many]\ntype = email\n"
                                "to = a@example.com, b@example.com, c@example.com\n"
                                "from = n@example.com\nsmarthost = h:25\n");
    struct nd_verdict v;
    char *log;

    ok(one && many, "receivers configured");
    if (!one || !many)
        return;
    verdict(one, 0, 250, GREET "250 OK\r\n354 go\r\n250 2.0.0 queued as 1\r\n", &v);
    is_int(v.kind, ND_VERDICT_DELIVERED, "250 after the data: delivered");
    has_str(v.reason, "smtp 250 2.0.0 queued as 1", "reason: the final reply");
    verdict(one, CURLE_SEND_ERROR, 550,
            GREET "550-5.1.1 mailbox\r\n550 5.1.1 unknown user\r\n221 bye\r\n", &v);
    is_int(v.kind, ND_VERDICT_FAILED, "RCPT 550: failed at once");
    has_str(v.reason, "smtp 550 5.1.1 unknown user", "550: code and the reply's last line");
    verdict(one, CURLE_WEIRD_SERVER_REPLY, 554, "554 5.7.1 no service here\r\n", &v);
    is_int(v.kind, ND_VERDICT_FAILED, "greeting 554: failed");
    verdict(one, CURLE_LOGIN_DENIED, 535, GREET "535 5.7.8 bad credentials\r\n", &v);
    is_int(v.kind, ND_VERDICT_FAILED, "AUTH 535: failed");
    has_str(v.reason, "535 5.7.8 bad credentials", "535: text");
    verdict(one, CURLE_WEIRD_SERVER_REPLY, 421, "421 4.3.2 try later\r\n", &v);
    is_int(v.kind, ND_VERDICT_RETRY, "greeting 421: retried");
    ok(v.delay_ns == -1, "421: after the backoff");
    verdict(one, CURLE_SEND_ERROR, 451, GREET "451 4.7.1 greylisted\r\n", &v);
    is_int(v.kind, ND_VERDICT_RETRY, "451 (greylisting): retried");
    verdict(one, CURLE_WEIRD_SERVER_REPLY, 452, GREET "354 go\r\n452 4.3.1 full\r\n", &v);
    is_int(v.kind, ND_VERDICT_RETRY, "452 after the data: retried");
    verdict(one, CURLE_OPERATION_TIMEDOUT, 0, "", &v);
    is_int(v.kind, ND_VERDICT_RETRY, "no greeting, timeout: retried");
    verdict(one, CURLE_OPERATION_TIMEDOUT, 250, GREET, &v);
    is_int(v.kind, ND_VERDICT_RETRY, "timeout after a 250: retried (the 250 is no verdict)");
    verdict(one, CURLE_COULDNT_CONNECT, 0, "", &v);
    is_int(v.kind, ND_VERDICT_RETRY, "connection refused: retried");
    verdict(one, CURLE_PEER_FAILED_VERIFICATION, 220, "220 mx\r\n250 STARTTLS\r\n220 go\r\n", &v);
    is_int(v.kind, ND_VERDICT_RETRY, "certificate refused: retried like a connection failure");
    verdict(one, CURLE_USE_SSL_FAILED, 250, GREET, &v);
    is_int(v.kind, ND_VERDICT_FAILED, "require_tls without STARTTLS: failed at once");
    has_str(v.reason, "does not offer STARTTLS", "... and says why");
    verdict(one, CURLE_LOGIN_DENIED, 250, GREET, &v);
    is_int(v.kind, ND_VERDICT_FAILED, "no AUTH mechanism in common: failed");

    log_capture();
    verdict(many, 0, 250,
            GREET "250 OK\r\n550 5.1.1 no such user\r\n250 OK\r\n354 go\r\n250 queued\r\n", &v);
    log = log_take();
    is_int(v.kind, ND_VERDICT_DELIVERED, "one recipient of three refused: delivered");
    has_str(log, "recipients refused", "... and logged");
    has_str(log, "b@example.com: 550 5.1.1 no such user", "... naming the refused one");
    ok(strstr(log, "a@example.com") == NULL && strstr(log, "c@example.com") == NULL,
       "... and only that one");
    free(log);
    log_capture();
    verdict(many, 0, 250, GREET "250 OK\r\n250 OK\r\n250 OK\r\n354 go\r\n250 queued\r\n", &v);
    log = log_take();
    ok(log == NULL || strstr(log, "refused") == NULL, "all accepted: nothing logged");
    free(log);
    nd_receiver_type_email.free_state(one);
    nd_receiver_type_email.free_state(many);
}

static struct nd_request build(void *state, const struct nd_notification *n,
                               const struct nd_parts *ps, uint32_t lane)
{
    struct nd_request req;
    struct nd_part part = {lane, 0, ps->lanes, ps->chunks, ps->ud};
    char err[ND_ERRLEN] = "";

    nd_request_init(&req);
    if (nd_receiver_type_email.build_part(state, n, &part, NULL, &req, err) != ND_OK)
        printf("# build_part: %s\n", err);
    return req;
}

static const char *header(const char *msg, const char *name, char *out, size_t outlen)
{
    const char *p = strstr(msg, name);
    const char *e = p ? strstr(p, "\r\n") : NULL;

    if (!p || !e || (size_t)(e - p) >= outlen)
        return "";
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = '\0';
    return out;
}

static void test_parts(const struct nd_template_set *set)
{
    void *all = configure(set, "[receiver.all]\ntype = email\n"
                               "to = Ops <ops@example.com>, dev@example.com\n"
                               "from = notifyd <nd@example.com>\nsmarthost = h:25\n");
    void *sep = configure(set, "[receiver.sep]\ntype = email\n"
                               "to = Ops <ops@example.com>, dev@example.com\n"
                               "from = nd@example.com\nsmarthost = h:25\nhello = relay.local\n"
                               "send_separately = true\ntemplate_type = text\n");
    static const char *const labels[] = {"alertname", "DiskFull", NULL};
    static const char *const ann[] = {"message", "Disk full on node-1", NULL};
    static const char *const group[] = {"alertname", "DiskFull", NULL};
    struct nd_alert *a = mk_alert(labels, ann, "2026-11-26T10:00:00Z", NULL, NULL);
    struct nd_notification *n = mk_notification("all", &a, 1, group, NULL, NULL);
    struct nd_parts ps = {0, 0, NULL};
    struct nd_request r0, r1, again;
    char err[ND_ERRLEN] = "", h0[256], h1[256];

    ok(all && sep, "receivers configured");
    if (!all || !sep)
        goto out;
    is_int(nd_receiver_type_email.parts(all, n, &ps, err), ND_OK, "all: parts");
    ok(ps.lanes == 1 && ps.chunks == 1, "all: one lane, one message");
    r0 = build(all, n, &ps, 0);
    again = build(all, n, &ps, 0);
    ok(r0.url && strcmp(r0.url, "smtp://h:25/") == 0, "URL smtp://host:port/ (no hello)");
    ok(r0.mail_rcpt && strcmp(r0.mail_rcpt->data, "<ops@example.com>") == 0 && r0.mail_rcpt->next &&
           strcmp(r0.mail_rcpt->next->data, "<dev@example.com>") == 0 && !r0.mail_rcpt->next->next,
       "RCPT TO: every recipient");
    is_str(header(nd_buf_cstr(&r0.body), "To:", h0, sizeof(h0)),
           "To: Ops <ops@example.com>, dev@example.com", "To: every recipient");
    ok(r0.body.len == again.body.len && memcmp(r0.body.data, again.body.data, r0.body.len) == 0,
       "a second attempt sends the very same message");
    has_str(nd_buf_cstr(&r0.body), "Subject: [FIRING] Disk full on node-1\r\n", "subject rendered");
    has_str(nd_buf_cstr(&r0.body), "Content-Type: text/html; charset=UTF-8",
            "html mail by default");
    has_str(nd_buf_cstr(&r0.body), "Content-Type: text/plain; charset=UTF-8", "with its text part");
    has_str(header(nd_buf_cstr(&r0.body), "Message-ID:", h0, sizeof(h0)), "@example.com>",
            "Message-ID in the sender's domain");
    nd_request_deinit(&r0);
    nd_request_deinit(&again);
    nd_receiver_type_email.free_parts(all, ps.ud);

    is_int(nd_receiver_type_email.parts(sep, n, &ps, err), ND_OK, "separately: parts");
    ok(ps.lanes == 2 && ps.chunks == 1, "separately: one lane per recipient");
    r0 = build(sep, n, &ps, 0);
    r1 = build(sep, n, &ps, 1);
    ok(r0.mail_rcpt && !r0.mail_rcpt->next && strcmp(r0.mail_rcpt->data, "<ops@example.com>") == 0,
       "lane 1: RCPT TO the first recipient only");
    ok(r1.mail_rcpt && !r1.mail_rcpt->next && strcmp(r1.mail_rcpt->data, "<dev@example.com>") == 0,
       "lane 2: RCPT TO the second only");
    is_str(header(nd_buf_cstr(&r0.body), "To:", h0, sizeof(h0)), "To: Ops <ops@example.com>",
           "lane 1: To names its recipient");
    is_str(header(nd_buf_cstr(&r1.body), "To:", h1, sizeof(h1)), "To: dev@example.com",
           "lane 2: To names its recipient");
    header(nd_buf_cstr(&r0.body), "Message-ID:", h0, sizeof(h0));
    header(nd_buf_cstr(&r1.body), "Message-ID:", h1, sizeof(h1));
    ok(h0[0] && strcmp(h0, h1) != 0, "each recipient's message has its own Message-ID");
    has_str(h0, "@relay.local>", "Message-ID in the hello domain when set");
    ok(r0.url && strcmp(r0.url, "smtp://h:25/relay.local") == 0, "hello as the URL path");
    ok(strstr(nd_buf_cstr(&r0.body), "text/html") == NULL, "text mail: no html part");
    nd_request_deinit(&r0);
    nd_request_deinit(&r1);
    nd_receiver_type_email.free_parts(sep, ps.ud);
out:
    if (all)
        nd_receiver_type_email.free_state(all);
    if (sep)
        nd_receiver_type_email.free_state(sep);
    nd_notification_unref(n);
}

int main(void)
{
    struct nd_template_set *set = nd_template_set_new();
    char err[ND_ERRLEN];

    ok(nd_receiver_type_find("email") == &nd_receiver_type_email, "type registered as email");
    ok(nd_template_set_add_defaults(set, err) == ND_OK, "template set");
    test_config(set);
    test_verdicts(set);
    test_parts(set);
    nd_template_set_free(set);
    return done_testing();
}
